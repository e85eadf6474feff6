// SPDX-License-Identifier: AGPL-3.0-or-later
import type { Database, Queries } from './database.ts'
import { migrationsFor, type Migration } from './migrations.ts'

export class SchemaTooNewError extends Error {
  constructor(readonly dbVersion: number, readonly known: number) {
    super(`database schema version ${dbVersion} is newer than this binary knows (${known}); run a newer Stowage or restore a backup`)
  }
}

const TABLE: Record<Database['dialect'], string> = {
  sqlite: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`,
  postgres: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
  )`,
}

/** Replicas starting together on one PostgreSQL queue on this lock, so each migration runs once. */
const MIGRATION_LOCK = 0x5709a6e

export const schemaVersion = async (q: Queries): Promise<number> => (await q.get<{ v: number }>('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations'))!.v

/**
 * Applies pending migrations in order, one transaction each, so a failure
 * leaves the database at the last good version. A database written by a
 * newer binary is refused rather than silently misread — on PostgreSQL that
 * is what keeps an old replica off a fleet that a new one already upgraded.
 */
export async function migrate(db: Database, migrations: readonly Migration[] = migrationsFor(db.dialect)): Promise<{ applied: number[]; version: number }> {
  if (db.dialect === 'postgres') {
    await db.transaction(async (tx) => {
      await tx.get('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK])
      await tx.exec(TABLE.postgres)
    })
  } else {
    await db.exec(TABLE.sqlite)
  }
  const known = migrations.at(-1)?.version ?? 0
  const start = await schemaVersion(db)
  if (start > known) throw new SchemaTooNewError(start, known)
  const applied: number[] = []
  for (const m of migrations) {
    if (m.version <= start) continue
    const ran = await db.transaction(async (tx) => {
      if (db.dialect === 'postgres') await tx.get('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK])
      if ((await schemaVersion(tx)) >= m.version) return false
      await tx.exec(m.sql)
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, Date.now()])
      return true
    })
    if (ran) applied.push(m.version)
  }
  return { applied, version: Math.max(start, known) }
}
