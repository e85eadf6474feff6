// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Which store a test run uses, and a fresh empty one per app: an SQLite file
 * in the test's temp dir (the default), or, with STOWAGE_TEST_STORE=postgres,
 * a new database on the PostgreSQL server at PG_URL (scripts/start-postgres.sh),
 * dropped again when the app closes. `scripts/test.sh` runs the focused set
 * a second time that way.
 */
import { SQL } from 'bun'
import { join } from 'node:path'
import { openDatabase } from '../../src/sqlite/open.ts'
import type { Database } from '../../src/db/database.ts'
import { postgresDatabase } from '../../src/db/postgres.ts'
import { sqliteDatabase } from '../../src/db/sqlite.ts'

export type StoreKind = 'sqlite' | 'postgres'

export const TEST_STORE: StoreKind = process.env.STOWAGE_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite'

/** The environment variable the test configs name in db.postgres.url_env. */
export const PG_URL_ENV = 'STOWAGE_TEST_POSTGRES_URL'

export type FreshStore = {
  kind: StoreKind
  /** The `db` section of a config using it. */
  doc: Record<string, unknown>
  /** Environment the config needs (the DSN, for PostgreSQL). */
  env: Record<string, string>
  /** PostgreSQL only: the DSN of the new database. */
  url?: string
  drop(): Promise<void>
}

let admin: SQL | undefined
let seq = 0

function serverUrl(): string {
  const url = process.env.PG_URL
  if (!url) throw new Error('these tests need PG_URL, a PostgreSQL server (scripts/start-postgres.sh prints one; npm test starts it for its PostgreSQL pass)')
  return url
}

/**
 * Drops a test database. A server process (autovacuum) on it cannot be ended by the
 * test role, so a refused drop is tried again shortly and then left to the throwaway cluster.
 */
async function dropDatabase(name: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await admin!.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      return
    } catch {
      await Bun.sleep(200)
    }
  }
}

/** A new, empty PostgreSQL database on the test server; its DSN. */
export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = serverUrl()
  admin ??= new SQL(base, { max: 2 })
  const name = `stowage_t_${process.pid}_${Date.now().toString(36)}_${++seq}`
  await admin.unsafe(`CREATE DATABASE ${name}`)
  const u = new URL(base)
  u.pathname = `/${name}`
  return {
    url: u.toString(),
    drop: () => dropDatabase(name),
  }
}

export async function freshStore(dir: string, kind: StoreKind = TEST_STORE): Promise<FreshStore> {
  if (kind === 'sqlite') return { kind, doc: { sqlite: { path: join(dir, 'stowage.db') } }, env: {}, drop: async () => {} }
  const pg = await createPgDatabase()
  return {
    kind,
    doc: { driver: 'postgres', sqlite: { path: join(dir, 'stowage.db') }, postgres: { url_env: PG_URL_ENV, pool_size: 4 } },
    env: { [PG_URL_ENV]: pg.url },
    url: pg.url,
    drop: pg.drop,
  }
}

/** The seam opened directly on a fresh store (no app), for store-level tests. */
export async function freshDatabase(dir: string, kind: StoreKind = TEST_STORE): Promise<{ db: Database; drop(): Promise<void> }> {
  if (kind === 'sqlite') {
    const path = join(dir, `db-${++seq}.db`)
    return { db: sqliteDatabase(openDatabase(path), path), drop: async () => {} }
  }
  const pg = await createPgDatabase()
  const db = postgresDatabase({ url: pg.url, poolSize: 4, statementTimeoutMs: 15_000, connectTimeoutMs: 5_000 })
  return {
    db,
    drop: async () => {
      await db.close()
      await pg.drop()
    },
  }
}
