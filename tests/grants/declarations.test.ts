// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every route declares what storage it needs (`needs`), unless it is listed
 * here with the reason it touches no storage on anyone's behalf. A new route
 * that names a backend, bucket or key without a declaration fails this test,
 * and so does removing a declaration.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { NEEDS_TAG } from '../../src/auth/guard.ts'
import { testApp, type TestApp } from '../helpers/app.ts'

/** Routes without a `needs` declaration, each with why it needs none. */
const UNDECLARED: Record<string, string> = {
  'GET /healthz': 'process health',
  'GET /readyz': 'readiness',
  'GET /metrics': 'metrics',
  'POST /auth/login/local': 'signing in',
  'POST /auth/logout': 'signing out',
  'GET /auth/login/oidc': 'signing in',
  'GET /auth/callback': 'signing in',
  'GET /api/auth/config': 'sign-in options',
  'GET /api/me': 'own account',
  'POST /api/me/password': 'own account',
  'GET /api/me/access': 'own grants',
  'DELETE /api/me/pins/:bid/:bucket': 'removes only the caller’s own pin, also of a bucket they lost',
  'GET /api/me/s3-credentials': 'own keys',
  'DELETE /api/me/s3-credentials/:akid': 'revoking an own key takes access away, never gives it',
  'GET /api/shares': 'own links',
  'GET /api/shares/policy': 'share policy',
  'DELETE /api/shares/:id': 'revoking an own link takes access away',
  'GET /s/:code/info': 'public: the creator’s grants are checked on every request (shares/public.ts)',
  'POST /s/:code/unlock': 'public: as above',
  'GET /s/:code/raw': 'public: as above',
  'GET /openapi': 'API explorer',
  'GET /openapi/json': 'API document',
  'GET /swagger': 'redirect',
  'GET /*': 'the web UI',
}

/** Admin-only routes: admins hold every grant, so a declaration would decide nothing. */
const adminOnly = (route: string): boolean => route.split(' ')[1]!.startsWith('/api/admin/')

let t: TestApp
beforeAll(async () => {
  t = await testApp()
})
afterAll(() => t.close())

function declares(hooks: unknown): boolean {
  const before = (hooks as { beforeHandle?: unknown }).beforeHandle
  const list = Array.isArray(before) ? before : before ? [before] : []
  return list.some((h) => Boolean((h as { fn?: Record<symbol, unknown> }).fn?.[NEEDS_TAG] ?? (h as Record<symbol, unknown>)[NEEDS_TAG]))
}

test('every route declares what it needs, or is listed with the reason it needs nothing', () => {
  const undeclared = t.s.app.routes.filter((r) => !declares(r.hooks)).map((r) => `${r.method} ${r.path}`)
  expect(undeclared.filter((r) => !adminOnly(r)).sort()).toEqual(Object.keys(UNDECLARED).sort())
})

test('every route under /api/backends declares what it needs', () => {
  const storage = t.s.app.routes.filter((r) => r.path.startsWith('/api/backends'))
  expect(storage.length).toBeGreaterThan(40)
  expect(storage.filter((r) => !declares(r.hooks)).map((r) => `${r.method} ${r.path}`)).toEqual([])
})
