// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Synchronous schema version readers for SQLite files that are not the
 * running store (backup snapshots, restores). Migrating is src/db/migrate.ts.
 */
import type { Database } from 'bun:sqlite'

export function schemaVersion(db: Database): number {
  return (db.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v
}

/** The highest applied migration, or undefined when the file is not a Stowage database. */
export function readSchemaVersion(db: Database): number | undefined {
  const table = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get()
  return table ? schemaVersion(db) : undefined
}
