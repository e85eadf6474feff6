// SPDX-License-Identifier: AGPL-3.0-or-later
import type { Database } from 'bun:sqlite'
import { MIGRATIONS, type Migration } from './migrations.ts'

export class SchemaTooNewError extends Error {
  constructor(
    readonly dbVersion: number,
    readonly known: number,
  ) {
    super(`database schema version ${dbVersion} is newer than this binary knows (${known}); run a newer Stowage or restore a backup`)
  }
}

/**
 * Applies pending migrations in order, one transaction each, so a failure
 * leaves the database at the last good version. A database written by a newer
 * binary is refused rather than silently misread.
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): { applied: number[]; version: number } {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`)
  const current = (db.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v
  const known = migrations.at(-1)?.version ?? 0
  if (current > known) throw new SchemaTooNewError(current, known)
  const applied: number[] = []
  for (const m of migrations) {
    if (m.version <= current) continue
    db.transaction(() => {
      db.exec(m.sql)
      db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now())
    })()
    applied.push(m.version)
  }
  return { applied, version: Math.max(current, known) }
}

export function schemaVersion(db: Database): number {
  return (db.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v
}

/** The highest applied migration, or undefined when the file is not a Stowage database. */
export function readSchemaVersion(db: Database): number | undefined {
  const table = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get()
  return table ? schemaVersion(db) : undefined
}
