// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Migrations are append-only: each shipped file of either dialect (db/*.sql
 * for SQLite, db/postgres/*.sql for PostgreSQL) is pinned by its SHA-256 (a
 * changed hash means history was rewritten — add a new file instead), every
 * file is listed in src/db/migrations.ts in order, both dialects have the
 * same numbered sequence, and each migration runs in its own transaction on
 * the store under test (STOWAGE_TEST_STORE).
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Database } from '../../src/db/database.ts'
import { migrate, schemaVersion, SchemaTooNewError } from '../../src/db/migrate.ts'
import { MIGRATIONS, migrationsFor, POSTGRES_MIGRATIONS, type Migration } from '../../src/db/migrations.ts'
import { freshDatabase, TEST_STORE } from '../helpers/store.ts'

/** Add a line when you add a migration; never edit an existing one. */
const PINNED: Record<string, string> = {
  '0001_core.sql': '991edf46bf9ec7c158e3b71d33aa917a7cabdbf23bdc5f3dd5cad6ad805039a6',
  '0002_storage.sql': '9dad94820de05b599e281aa90aad7eee4573c48a0142fa06de8880706b2c9a4b',
  '0003_s3proxy.sql': 'b64397aefcd78bcdb4555f85fc95ce53189b6d9b004b53ae9659d36cb750f8b2',
  '0004_shares.sql': 'b10db8232be8800ed29084218ed0bb1dc79563dd71e9157851c29baa92f82a6c',
  '0005_grants.sql': '2dda2ca088ca7d43e1f088fdf9c23af1131d6f74e8c0e48ef3562474f1276a4e',
  '0006_fleet.sql': '6ece551f61fce81580c860fdc6d29a0e49406cbd1d2788128fb0bbb1c0447251',
  'postgres/0001_core.sql': 'cbd479220783c5a174c9186eaa16b2c7bbfdff8fef42dc0047eeffc6f5e4ac9a',
  'postgres/0002_storage.sql': '069767e01d3bc11e9cfeb0824f9e526631a039456cd13aba5c63c6373d36d2ad',
  'postgres/0003_s3proxy.sql': 'e034e4f883a2653db76f6879faadb0ee38615cd33d1adeea49712200b3e4d49f',
  'postgres/0004_shares.sql': '6a92c4d75e3931bf0d097852141238f4d4f8040a1048ca37d2f52aaa2c5e55ff',
  'postgres/0005_grants.sql': '337c200d1622d0a19e62b00784143179fc27b3651cbffb8df319d3b717a87280',
  'postgres/0006_fleet.sql': '424a1dfeeab980752b3d1f9527ba04efd27bd72c3d21e631585c65cf2427e97d',
}

const dbDir = new URL('../../db/', import.meta.url).pathname
const sqlFiles = (sub: string): string[] =>
  readdirSync(join(dbDir, sub))
    .filter((f) => f.endsWith('.sql'))
    .sort()
const files = sqlFiles('')
const pgFiles = sqlFiles('postgres')
const dir = mkdtempSync(join(tmpdir(), 'stowage-migrate-'))
const drops: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const drop of drops) await drop()
  rmSync(dir, { recursive: true, force: true })
})
async function freshDb(): Promise<Database> {
  const fresh = await freshDatabase(dir)
  drops.push(fresh.drop)
  return fresh.db
}
/** A table of the test migrations, in the store's own spelling. */
const table = (db: Database, name: string, column: string): string => `CREATE TABLE ${name} (${column})${db.dialect === 'sqlite' ? ' STRICT' : ''}`
const tableNames = async (db: Database): Promise<string[]> =>
  (
    await db.all<{ name: string }>(
      db.dialect === 'sqlite'
        ? "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        : "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    )
  )
    .map((r) => r.name)
    .filter((n) => !n.startsWith('sqlite_'))

describe('the migration files', () => {
  test('every pinned file still has its pinned SHA-256', () => {
    for (const [name, hash] of Object.entries(PINNED)) {
      const actual = createHash('sha256')
        .update(readFileSync(join(dbDir, name)))
        .digest('hex')
      if (actual !== hash) throw new Error(`db/${name} changed (sha256 ${actual}); shipped migrations are append-only: revert it and add a new file`)
    }
  })

  test('every file in db/ and db/postgres/ is pinned (add new files to PINNED)', () => {
    expect([...files, ...pgFiles.map((f) => `postgres/${f}`)].sort()).toEqual(Object.keys(PINNED).sort())
  })

  test('files are numbered 0001, 0002, … without gaps (a late-filled gap would never run on a newer database)', () => {
    files.forEach((f, i) => expect(f).toMatch(new RegExp(`^${String(i + 1).padStart(4, '0')}_[a-z0-9_]+\\.sql$`)))
  })

  test('PostgreSQL has the same numbered sequence, file for file', () => {
    expect(pgFiles).toEqual(files)
  })

  test('src/db/migrations.ts lists every file of each dialect, in order, with its number as version and its exact text', () => {
    for (const [list, sub, names] of [
      [MIGRATIONS, '', files],
      [POSTGRES_MIGRATIONS, 'postgres', pgFiles],
    ] as const) {
      expect(list.map((m) => m.name)).toEqual(names)
      for (const m of list) {
        expect([m.name, m.version]).toEqual([m.name, Number(m.name.slice(0, 4))])
        expect(m.sql).toBe(readFileSync(join(dbDir, sub, m.name), 'utf8'))
      }
    }
  })
})

describe('migrate()', () => {
  test(`applies every migration in order and records each one (${TEST_STORE})`, async () => {
    const db = await freshDb()
    const before = Date.now()
    const r = await migrate(db)
    const list = migrationsFor(db.dialect)
    expect(r.applied).toEqual(list.map((m) => m.version))
    expect(r.version).toBe(list.at(-1)!.version)
    const rows = await db.all<{ version: number; name: string; applied_at: number }>('SELECT * FROM schema_migrations ORDER BY version')
    expect(rows.map((x) => [x.version, x.name])).toEqual(list.map((m) => [m.version, m.name]))
    for (const row of rows) expect(row.applied_at).toBeGreaterThanOrEqual(before)
    expect(await schemaVersion(db)).toBe(list.at(-1)!.version)
  })

  test('both dialects create the same tables', async () => {
    const db = await freshDb()
    await migrate(db)
    const expected = [
      'access_grants',
      'audit_events',
      'backend_health',
      'backends',
      'bucket_cors',
      'bucket_pins',
      'bucket_quotas',
      'bucket_size_tracking',
      'bucket_usage',
      'fleet_leases',
      's3_anonymous_bindings',
      's3_credentials',
      'schema_migrations',
      'sessions',
      'shares',
      'user_groups',
      'users',
    ]
    expect(await tableNames(db)).toEqual(expected)
  })

  test('is idempotent: a second run applies nothing', async () => {
    const db = await freshDb()
    await migrate(db)
    expect(await migrate(db)).toEqual({ applied: [], version: MIGRATIONS.at(-1)!.version })
  })

  test('replicas starting together apply each migration once', async () => {
    const db = await freshDb()
    const runs = await Promise.all([migrate(db), migrate(db), migrate(db)])
    expect(runs.flatMap((r) => r.applied).sort((a, b) => a - b)).toEqual(MIGRATIONS.map((m) => m.version))
  })

  test('applies only what is pending, in order', async () => {
    const db = await freshDb()
    const ms: Migration[] = [
      { version: 1, name: 'one', sql: `${table(db, 'log', 'v TEXT NOT NULL')}; INSERT INTO log VALUES ('1')` },
      { version: 2, name: 'two', sql: "INSERT INTO log VALUES ('2')" },
    ]
    await migrate(db, ms.slice(0, 1))
    expect((await migrate(db, [...ms, { version: 3, name: 'three', sql: "INSERT INTO log VALUES ('3')" }])).applied).toEqual([2, 3])
    expect((await db.all<{ v: string }>('SELECT v FROM log')).map((r) => r.v)).toEqual(['1', '2', '3'])
  })

  test('a failing migration is rolled back whole and leaves the previous version', async () => {
    const db = await freshDb()
    const good: Migration = { version: 1, name: 'good', sql: table(db, 'a', 'x INTEGER') }
    const bad: Migration = { version: 2, name: 'bad', sql: `${table(db, 'b', 'x INTEGER')}; INSERT INTO a VALUES (1); INSERT INTO no_such_table VALUES (1)` }
    const after: Migration = { version: 3, name: 'after', sql: table(db, 'c', 'x INTEGER') }
    await expect(migrate(db, [good, bad, after])).rejects.toThrow(/no_such_table/)
    expect(await schemaVersion(db)).toBe(1)
    const tables = await tableNames(db)
    expect(tables).toContain('a')
    expect(tables).not.toContain('b')
    expect(tables).not.toContain('c')
    expect(await db.get('SELECT COUNT(*) AS n FROM a')).toEqual({ n: 0 })
    // Fixed, it applies from where it stopped.
    expect((await migrate(db, [good, { ...bad, sql: table(db, 'b', 'x INTEGER') }, after])).applied).toEqual([2, 3])
  })

  test('refuses a database written by a newer binary', async () => {
    const db = await freshDb()
    await migrate(db)
    const latest = MIGRATIONS.at(-1)!.version
    await db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [latest + 1, '9999_future.sql', Date.now()])
    let err: unknown
    try {
      await migrate(db)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(SchemaTooNewError)
    expect((err as SchemaTooNewError).dbVersion).toBe(latest + 1)
    expect((err as SchemaTooNewError).known).toBe(latest)
    expect((err as Error).message).toContain('newer than this binary')
  })
})
