// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Migrations are append-only: each shipped db/*.sql file is pinned by its
 * SHA-256 (a changed hash means history was rewritten — add a new file
 * instead), every file is listed in src/sqlite/migrations.ts in order, and
 * each migration runs in its own transaction.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrate, schemaVersion, SchemaTooNewError } from '../../src/sqlite/migrate.ts'
import { MIGRATIONS, type Migration } from '../../src/sqlite/migrations.ts'
import { openDatabase } from '../../src/sqlite/open.ts'

/** Add a line when you add a migration; never edit an existing one. */
const PINNED: Record<string, string> = {
  '0001_core.sql': '991edf46bf9ec7c158e3b71d33aa917a7cabdbf23bdc5f3dd5cad6ad805039a6',
  '0002_storage.sql': '9dad94820de05b599e281aa90aad7eee4573c48a0142fa06de8880706b2c9a4b',
  '0003_s3proxy.sql': 'b64397aefcd78bcdb4555f85fc95ce53189b6d9b004b53ae9659d36cb750f8b2',
  '0004_shares.sql': 'b10db8232be8800ed29084218ed0bb1dc79563dd71e9157851c29baa92f82a6c',
  '0005_grants.sql': '2dda2ca088ca7d43e1f088fdf9c23af1131d6f74e8c0e48ef3562474f1276a4e',
}

const dbDir = new URL('../../db/', import.meta.url).pathname
const files = readdirSync(dbDir)
  .filter((f) => f.endsWith('.sql'))
  .sort()
const dir = mkdtempSync(join(tmpdir(), 'stowage-migrate-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const freshDb = (): Database => openDatabase(join(dir, `m${++n}.db`))

describe('the migration files', () => {
  test('every pinned file still has its pinned SHA-256', () => {
    for (const [name, hash] of Object.entries(PINNED)) {
      const actual = createHash('sha256')
        .update(readFileSync(join(dbDir, name)))
        .digest('hex')
      if (actual !== hash) throw new Error(`db/${name} changed (sha256 ${actual}); shipped migrations are append-only: revert it and add a new file`)
    }
  })

  test('every file in db/ is pinned (add new files to PINNED)', () => {
    expect(files).toEqual(Object.keys(PINNED).sort())
  })

  test('files are numbered 0001, 0002, … without gaps (a late-filled gap would never run on a newer database)', () => {
    files.forEach((f, i) => expect(f).toMatch(new RegExp(`^${String(i + 1).padStart(4, '0')}_[a-z0-9_]+\\.sql$`)))
  })

  test('src/sqlite/migrations.ts lists every file, in order, with its number as version and its exact text', () => {
    expect(MIGRATIONS.map((m) => m.name)).toEqual(files)
    for (const m of MIGRATIONS) {
      expect([m.name, m.version]).toEqual([m.name, Number(m.name.slice(0, 4))])
      expect(m.sql).toBe(readFileSync(join(dbDir, m.name), 'utf8'))
    }
  })
})

describe('migrate()', () => {
  test('applies every migration in order and records each one', () => {
    const db = freshDb()
    const before = Date.now()
    const r = migrate(db)
    expect(r.applied).toEqual(MIGRATIONS.map((m) => m.version))
    expect(r.version).toBe(MIGRATIONS.at(-1)!.version)
    const rows = db.query<{ version: number; name: string; applied_at: number }, []>('SELECT * FROM schema_migrations ORDER BY version').all()
    expect(rows.map((x) => [x.version, x.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]))
    for (const row of rows) expect(row.applied_at).toBeGreaterThanOrEqual(before)
    expect(schemaVersion(db)).toBe(MIGRATIONS.at(-1)!.version)
    db.close()
  })

  test('is idempotent: a second run applies nothing', () => {
    const db = freshDb()
    migrate(db)
    expect(migrate(db)).toEqual({ applied: [], version: MIGRATIONS.at(-1)!.version })
    db.close()
  })

  test('applies only what is pending, in order', () => {
    const db = freshDb()
    const order: string[] = []
    const ms: Migration[] = [
      { version: 1, name: 'one', sql: "CREATE TABLE log (v TEXT NOT NULL) STRICT; INSERT INTO log VALUES ('1')" },
      { version: 2, name: 'two', sql: "INSERT INTO log VALUES ('2')" },
    ]
    migrate(db, ms.slice(0, 1))
    expect(migrate(db, [...ms, { version: 3, name: 'three', sql: "INSERT INTO log VALUES ('3')" }]).applied).toEqual([2, 3])
    for (const r of db.query<{ v: string }, []>('SELECT v FROM log').all()) order.push(r.v)
    expect(order).toEqual(['1', '2', '3'])
    db.close()
  })

  test('a failing migration is rolled back whole and leaves the previous version', () => {
    const db = freshDb()
    const good: Migration = { version: 1, name: 'good', sql: 'CREATE TABLE a (x INTEGER) STRICT' }
    const bad: Migration = { version: 2, name: 'bad', sql: 'CREATE TABLE b (x INTEGER) STRICT; INSERT INTO a VALUES (1); INSERT INTO no_such_table VALUES (1)' }
    const after: Migration = { version: 3, name: 'after', sql: 'CREATE TABLE c (x INTEGER) STRICT' }
    expect(() => migrate(db, [good, bad, after])).toThrow(/no_such_table/)
    expect(schemaVersion(db)).toBe(1)
    const tables = db
      .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => r.name)
    expect(tables).toContain('a')
    expect(tables).not.toContain('b')
    expect(tables).not.toContain('c')
    expect(db.query('SELECT COUNT(*) AS n FROM a').get()).toEqual({ n: 0 })
    // Fixed, it applies from where it stopped.
    expect(migrate(db, [good, { ...bad, sql: 'CREATE TABLE b (x INTEGER) STRICT' }, after]).applied).toEqual([2, 3])
    db.close()
  })

  test('refuses a database written by a newer binary', () => {
    const db = freshDb()
    migrate(db)
    const latest = MIGRATIONS.at(-1)!.version
    db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(latest + 1, '9999_future.sql', Date.now())
    let err: unknown
    try {
      migrate(db)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(SchemaTooNewError)
    expect((err as SchemaTooNewError).dbVersion).toBe(latest + 1)
    expect((err as SchemaTooNewError).known).toBe(latest)
    expect((err as Error).message).toContain('newer than this binary')
    db.close()
  })
})
