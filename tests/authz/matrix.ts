// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Shapes of the authorization matrix. Each feature keeps its rows in
 * `tests/authz/<feature>.rows.ts`; tests/authz.test.ts and tests/csrf.test.ts
 * run them all against one app that has an `fs` backend named "local", with
 * the shipped `access.default: none`. `readonly` and `user` callers hold a
 * read-write grant on all of "local" (readonly is capped at read); a
 * `stranger` is a `user` without any grant.
 */
import type { Client, TestApp } from '../helpers/app.ts'

export type Who = 'anon' | 'readonly' | 'user' | 'admin' | 'stranger'
export const WHO: Who[] = ['anon', 'readonly', 'user', 'admin', 'stranger']

export type Fixture = {
  t: TestApp
  /** A fresh number per call, for unique names. */
  seq(): number
  /** A fresh ordinary user's id (a target for admin user routes). */
  victim(): Promise<string>
  /** A fresh signed-in user with read-write on all of "local" (to make shares and the like). */
  granted(): Promise<Client>
  /** The client making this attempt (undefined when anonymous). */
  as?: Client
  who: Who
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

export const ALL = (n: number): Record<Who, number> => ({ anon: n, readonly: n, user: n, admin: n, stranger: n })
export const SIGNED_IN = (n: number): Record<Who, number> => ({ anon: 401, readonly: n, user: n, admin: n, stranger: n })
export const WRITERS = (n: number): Record<Who, number> => ({ anon: 401, readonly: 403, user: n, admin: n, stranger: n })
export const ADMIN = (n: number): Record<Who, number> => ({ anon: 401, readonly: 403, user: 403, admin: n, stranger: 403 })
/** Storage routes: any role with a grant; a stranger is refused (403 access_denied) before the backend is asked. */
export const GRANTED = (n: number): Record<Who, number> => ({ anon: 401, readonly: n, user: n, admin: n, stranger: 403 })
/** Storage writes: readonly is refused by role, a stranger by grants. */
export const GRANTED_WRITERS = (n: number): Record<Who, number> => ({ anon: 401, readonly: 403, user: n, admin: n, stranger: 403 })
