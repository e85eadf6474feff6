// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The embedded store: one bun:sqlite connection (see src/sqlite/open.ts).
 * Calls stay synchronous underneath, so reads cost what they did before the
 * seam; only a transaction can span awaits, and while one is open every
 * other statement waits for it, because they would otherwise run inside it
 * on the one connection.
 */
import type { Database as Sqlite, SQLQueryBindings } from 'bun:sqlite'
import type { Database, Param, Queries } from './database.ts'

export type SqliteDatabase = Database & { readonly raw: Sqlite }

export function sqliteDatabase(raw: Sqlite, path: string): SqliteDatabase {
  let open: Promise<void> | undefined
  const listeners = new Map<string, Set<(payload: string) => void>>()

  const bind = (params: readonly Param[] | undefined) => (params ?? []) as SQLQueryBindings[]
  const direct: Queries = {
    dialect: 'sqlite',
    all: async <T>(sql: string, params?: readonly Param[]) => raw.query<T, SQLQueryBindings[]>(sql).all(...bind(params)),
    get: async <T>(sql: string, params?: readonly Param[]) => raw.query<T, SQLQueryBindings[]>(sql).get(...bind(params)),
    run: async (sql: string, params?: readonly Param[]) => raw.query(sql).run(...bind(params)).changes,
    exec: async (script: string) => void raw.exec(script),
  }
  const idle = async (): Promise<void> => {
    while (open) await open
  }

  return {
    dialect: 'sqlite',
    raw,
    describe: `sqlite:${path}`,
    async all(sql, params) {
      if (open) await idle()
      return direct.all(sql, params)
    },
    async get(sql, params) {
      if (open) await idle()
      return direct.get(sql, params)
    },
    async run(sql, params) {
      if (open) await idle()
      return direct.run(sql, params)
    },
    async transaction(fn) {
      // Checked and taken in one synchronous step after the last wait, so two waiters cannot both proceed.
      while (open) await open
      const done = Promise.withResolvers<void>()
      open = done.promise
      raw.exec('BEGIN IMMEDIATE')
      try {
        const result = await fn(direct)
        raw.exec('COMMIT')
        return result
      } catch (err) {
        if (raw.inTransaction) raw.exec('ROLLBACK')
        throw err
      } finally {
        open = undefined
        done.resolve()
      }
    },
    async exec(script) {
      await idle()
      raw.exec(script)
    },
    async notify(channel, payload) {
      for (const fn of listeners.get(channel) ?? []) fn(payload)
    },
    async listen(channel, fn) {
      const set = listeners.get(channel) ?? new Set()
      listeners.set(channel, set)
      set.add(fn)
      return async () => void set.delete(fn)
    },
    async ping() {
      raw.query('SELECT 1').get()
    },
    async close() {
      await idle()
      raw.close()
    },
  }
}
