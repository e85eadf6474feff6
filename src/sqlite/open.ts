// SPDX-License-Identifier: AGPL-3.0-or-later
import { Database } from 'bun:sqlite'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * One connection for the whole process: bun:sqlite calls are synchronous, so a
 * second connection would not add concurrency, only lock contention. WAL lets
 * the read-only workers (CSV export, scanners) read while this one writes.
 */
export function openDatabase(path: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path, { create: true, strict: true })
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA busy_timeout = 5000')
  db.exec('PRAGMA foreign_keys = ON')
  db.exec('PRAGMA synchronous = NORMAL')
  return db
}
