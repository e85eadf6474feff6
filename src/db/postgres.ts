// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The fleet store: a PostgreSQL database through Bun.sql (no extra driver),
 * with a pool per replica. int8 columns (times in ms, byte counts) come back
 * as BigInt and are turned into numbers, which hold them exactly up to 2^53.
 */
import { SQL } from 'bun'
import type { Database, Param, Queries } from './database.ts'

export type PostgresOptions = {
  url: string
  poolSize: number
  statementTimeoutMs: number
  connectTimeoutMs: number
}

/** The URL with its password masked, fit for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'postgres://(unparsable URL)'
  }
}

/** An error whose message cannot carry the password, whatever the driver put in it. */
export function redactError(err: unknown, url: string): Error {
  const e = err instanceof Error ? err : new Error(String(err))
  let password = ''
  try {
    password = decodeURIComponent(new URL(url).password)
  } catch {}
  if (password && e.message.includes(password)) e.message = e.message.split(password).join('***')
  if (e.message.includes(url)) e.message = e.message.split(url).join(redactUrl(url))
  return e
}

const numbered = new Map<string, string>()

/** `?` placeholders become `$1…$n`; a `?` inside a string literal is left alone. */
export function numberPlaceholders(sql: string): string {
  const hit = numbered.get(sql)
  if (hit !== undefined) return hit
  let out = ''
  let n = 0
  let quoted = false
  for (const ch of sql) {
    if (ch === "'") quoted = !quoted
    out += ch === '?' && !quoted ? `$${++n}` : ch
  }
  if (numbered.size > 5000) numbered.clear()
  numbered.set(sql, out)
  return out
}

/**
 * PostgreSQL text cannot hold U+0000, which SQLite stores as given: a NUL that reaches a
 * text column (an S3 key or header a client sent, recorded in the audit log) becomes
 * U+FFFD instead of failing the statement, and with it the batch of audit events it is in.
 */
function storable(p: Param): Param {
  return typeof p === 'string' && p.includes('\u0000') ? p.replaceAll('\u0000', '\uFFFD') : p
}

function toNumbers<T>(rows: Record<string, unknown>[]): T[] {
  for (const row of rows) {
    for (const k in row) if (typeof row[k] === 'bigint') row[k] = Number(row[k])
  }
  return rows as T[]
}

function queriesOf(sql: SQL, url: string): Queries {
  const exec = async (text: string, params: readonly Param[] | undefined) => {
    try {
      return await sql.unsafe(numberPlaceholders(text), (params ?? []).map(storable))
    } catch (err) {
      throw redactError(err, url)
    }
  }
  // Without parameters Bun.sql uses the simple protocol, which takes several statements at once.
  const script = async (text: string) => {
    try {
      await sql.unsafe(text)
    } catch (err) {
      throw redactError(err, url)
    }
  }
  return {
    dialect: 'postgres',
    all: async <T>(text: string, params?: readonly Param[]) => toNumbers<T>(await exec(text, params)),
    get: async <T>(text: string, params?: readonly Param[]) => toNumbers<T>(await exec(text, params))[0] ?? null,
    run: async (text: string, params?: readonly Param[]) => (await exec(text, params)).count ?? 0,
    exec: script,
  }
}

export function postgresDatabase(o: PostgresOptions): Database {
  const sql = new SQL(o.url, {
    max: o.poolSize,
    bigint: true,
    connectionTimeout: Math.max(1, Math.ceil(o.connectTimeoutMs / 1000)),
    idleTimeout: 60,
    connection: { statement_timeout: o.statementTimeoutMs, application_name: 'stowage' },
  })
  const q = queriesOf(sql, o.url)
  return {
    ...q,
    describe: redactUrl(o.url),
    async transaction(fn) {
      try {
        return await sql.begin((tx) => fn(queriesOf(tx as unknown as SQL, o.url)))
      } catch (err) {
        throw redactError(err, o.url)
      }
    },
    async notify(channel, payload) {
      await q.run('SELECT pg_notify(?, ?)', [channel, payload])
    },
    async listen(channel, fn, resync) {
      let first = true
      const sub = await sql.listen(channel, fn, () => {
        if (!first) resync?.()
        first = false
      })
      return () => sub.unlisten()
    },
    async ping() {
      await q.get('SELECT 1 AS one')
    },
    async close() {
      await sql.close({ timeout: 5 })
    },
  }
}
