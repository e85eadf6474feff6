// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The store seam: every store speaks to this interface, and `sqlite.ts`
 * (one file, one process) and `postgres.ts` (shared by a fleet of replicas)
 * implement it. Services never learn which one they have.
 *
 * SQL is written once in the common subset of both dialects with `?`
 * placeholders (the PostgreSQL side numbers them). Where the dialects
 * differ, a store asks `dialect` and picks its text; the schema itself
 * differs per dialect (db/ and db/postgres/, see src/db/migrations.ts).
 * Integers come back as numbers and binary values as Uint8Array on both.
 */

export type Dialect = 'sqlite' | 'postgres'

export type Param = string | number | boolean | null | Uint8Array

/** Statements: what a store needs, inside a transaction or not. */
export interface Queries {
  readonly dialect: Dialect
  all<T>(sql: string, params?: readonly Param[]): Promise<T[]>
  get<T>(sql: string, params?: readonly Param[]): Promise<T | null>
  /** Returns how many rows the statement changed. */
  run(sql: string, params?: readonly Param[]): Promise<number>
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>
}

export interface Database extends Queries {
  /** Where the data lives, safe to log (no password). */
  readonly describe: string
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back
   * when it throws. `fn` must use the `tx` it is given, not this database
   * (on SQLite, other statements wait until the transaction ends).
   */
  transaction<T>(fn: (tx: Queries) => Promise<T>): Promise<T>
  /**
   * Tells every replica (this one included) about a change, so their caches
   * drop it. PostgreSQL: NOTIFY after the current statement commits. SQLite:
   * the one process is told directly.
   */
  notify(channel: string, payload: string): Promise<void>
  /**
   * Calls `fn` for every notification on `channel`; the returned function
   * stops listening. Notifications sent while the listening connection was
   * down are lost, so `resync` runs after every reconnect.
   */
  listen(channel: string, fn: (payload: string) => void, resync?: () => void): Promise<() => Promise<void>>
  /** Throws when the database cannot answer (readiness). */
  ping(): Promise<void>
  close(): Promise<void>
}

/** A row that would break a unique index or primary key. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: string | number }
  return e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || String(e?.errno) === '23505'
}
