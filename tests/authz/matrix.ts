// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Shapes of the authorization matrix. Each feature keeps its rows in
 * `tests/authz/<feature>.rows.ts`; tests/authz.test.ts and tests/csrf.test.ts
 * run them all against one app that has an `fs` backend named "local".
 */
import type { Client, TestApp } from '../helpers/app.ts'

export type Who = 'anon' | 'readonly' | 'user' | 'admin'

export type Fixture = {
  t: TestApp
  /** A fresh number per call, for unique names. */
  seq(): number
  /** A fresh ordinary user's id (a target for admin user routes). */
  victim(): Promise<string>
  /** The client making this attempt (undefined when anonymous). */
  as?: Client
}

export type Row = {
  method: string
  /** The route template exactly as Elysia registers it. */
  route: string
  path?: string | ((fx: Fixture) => string | Promise<string>)
  body?: ((fx: Fixture) => unknown) | Record<string, unknown> | unknown[] | string | number | boolean | null
  headers?: Record<string, string>
  /** Raw body instead of JSON (uploads). */
  raw?: (fx: Fixture) => BodyInit | Promise<BodyInit>
  expect: Record<Who, number>
  /** Public mutations are guarded by the Origin check only (no session, so no CSRF token). */
  public?: boolean
}

export const ALL = (n: number): Record<Who, number> => ({ anon: n, readonly: n, user: n, admin: n })
export const SIGNED_IN = (n: number): Record<Who, number> => ({ anon: 401, readonly: n, user: n, admin: n })
export const WRITERS = (n: number): Record<Who, number> => ({ anon: 401, readonly: 403, user: n, admin: n })
export const ADMIN = (n: number): Record<Who, number> => ({ anon: 401, readonly: 403, user: 403, admin: n })
