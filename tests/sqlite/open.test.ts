// SPDX-License-Identifier: AGPL-3.0-or-later
/** The connection settings every Stowage database runs with. */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrate } from '../../src/db/migrate.ts'
import { sqliteDatabase } from '../../src/db/sqlite.ts'
import { openDatabase } from '../../src/sqlite/open.ts'

const dir = mkdtempSync(join(tmpdir(), 'stowage-sqlite-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const pragma = (db: ReturnType<typeof openDatabase>, name: string): unknown => Object.values(db.query(`PRAGMA ${name}`).get() as object)[0]

test('WAL, busy timeout, foreign keys and synchronous=NORMAL are on', () => {
  const db = openDatabase(join(dir, 'pragmas.db'))
  expect(pragma(db, 'journal_mode')).toBe('wal')
  expect(pragma(db, 'busy_timeout')).toBe(5000)
  expect(pragma(db, 'foreign_keys')).toBe(1)
  expect(pragma(db, 'synchronous')).toBe(1)
  db.close()
})

test('the parent directory is created', () => {
  const db = openDatabase(join(dir, 'a', 'b', 'nested.db'))
  expect(pragma(db, 'journal_mode')).toBe('wal')
  db.close()
})

test('foreign keys are enforced, not just declared', () => {
  const db = openDatabase(join(dir, 'fk.db'))
  db.exec('CREATE TABLE p (id INTEGER PRIMARY KEY) STRICT; CREATE TABLE c (p INTEGER NOT NULL REFERENCES p(id)) STRICT')
  expect(() => db.exec('INSERT INTO c (p) VALUES (42)')).toThrow(/FOREIGN KEY/)
  db.close()
})

test('every table the migrations create is STRICT', async () => {
  const db = openDatabase(join(dir, 'strict.db'))
  await migrate(sqliteDatabase(db, 'strict.db'))
  const tables = db
    .query<{ name: string; strict: number }, []>(
      "SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .all()
  const fromMaster = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all()
  expect(tables.map((t) => t.name).sort()).toEqual(fromMaster.map((t) => t.name).sort())
  expect(tables.length).toBeGreaterThanOrEqual(4)
  expect(tables.filter((t) => t.strict !== 1).map((t) => t.name)).toEqual([])
  // STRICT means a wrong type is refused rather than stored.
  expect(() => db.exec("INSERT INTO audit_events (ts, action) VALUES ('yesterday', 'x')")).toThrow()
  db.close()
})
