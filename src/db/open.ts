// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Opens the store named by the config and brings its schema up to date,
 * with an error a person can act on when PostgreSQL is unreachable or its
 * schema is newer than this binary.
 */
import type { AppConfig } from '../config/load.ts'
import { openDatabase } from '../sqlite/open.ts'
import type { Database } from './database.ts'
import { migrate, SchemaTooNewError } from './migrate.ts'
import { postgresDatabase, redactError, redactUrl } from './postgres.ts'
import { sqliteDatabase } from './sqlite.ts'

export class StoreUnavailableError extends Error {}

export type OpenedStore = { db: Database; applied: number[]; version: number }

export function postgresUrl(config: AppConfig): string {
  const url = config.secrets[config.db.postgres.url_env]
  if (!url) throw new StoreUnavailableError(`db.postgres.url_env: environment variable ${config.db.postgres.url_env} is not set`)
  return url
}

export async function openStore(config: AppConfig): Promise<OpenedStore> {
  if (config.db.driver === 'sqlite') {
    const db = sqliteDatabase(openDatabase(config.db.sqlite.path), config.db.sqlite.path)
    return { db, ...(await migrate(db)) }
  }
  const url = postgresUrl(config)
  const db = postgresDatabase({ url, poolSize: config.db.postgres.pool_size, statementTimeoutMs: config.db.postgres.statement_timeout, connectTimeoutMs: config.db.postgres.connect_timeout })
  try {
    await db.ping()
  } catch (err) {
    await db.close().catch(() => {})
    throw new StoreUnavailableError(`PostgreSQL at ${redactUrl(url)} is unreachable: ${redactError(err, url).message}`)
  }
  try {
    return { db, ...(await migrate(db)) }
  } catch (err) {
    await db.close().catch(() => {})
    if (err instanceof SchemaTooNewError) throw err
    throw new StoreUnavailableError(`PostgreSQL at ${redactUrl(url)}: migrating the schema failed: ${redactError(err, url).message}`)
  }
}
