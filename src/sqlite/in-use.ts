// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Whether another process has a database open, asked of SQLite's own locks
 * rather than a pid file: every connection to a WAL database holds a shared
 * POSIX lock on it for as long as it is open, so a running Stowage (in this
 * container or another one on the same volume) is seen, and a killed one is
 * not (the kernel drops its locks; a pid file would stay behind). Network
 * filesystems without POSIX locks cannot answer, but SQLite is unsafe there
 * anyway.
 */
import { Database } from 'bun:sqlite'

export function databaseInUse(path: string): boolean {
  const db = new Database(path, { readwrite: true, create: false })
  try {
    db.exec('PRAGMA busy_timeout = 0')
    // In exclusive locking mode the first read needs the database's exclusive
    // lock, which any other open connection's shared lock refuses at once.
    db.exec('PRAGMA locking_mode = EXCLUSIVE')
    db.query('SELECT count(*) FROM sqlite_master').get()
    return false
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return true
    throw err
  } finally {
    db.close()
  }
}
