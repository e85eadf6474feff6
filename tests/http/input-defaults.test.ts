// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Elysia fills a schema's `default` into absent request fields. `t.UnionEnum`
 * carries one implicitly (its first value), which once turned an omitted
 * `role` into 'admin' and made an email-only PATCH promote the user. So no
 * request schema may carry a default unless it is listed here with a reason.
 */
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from 'bun:test'
import { testApp, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

/** "METHOD route part.path = value" → why that default is safe. */
const ALLOWED: Record<string, string> = {
  'POST /api/admin/backends body.type = "s3"': 'the only DB-managed backend type',
  'GET /api/backends/:bid/buckets/:bucket/object query.disposition = "attachment"': 'the safe choice for user content',
  'HEAD /api/backends/:bid/buckets/:bucket/object query.disposition = "attachment"': 'the safe choice for user content',
}

type Schema = { default?: unknown; properties?: Record<string, Schema>; items?: Schema }

/** Defaults of properties (Elysia applies these), not of union branches (it does not). */
function defaults(s: Schema | undefined, path: string, out: string[]): void {
  if (!s || typeof s !== 'object') return
  if ('default' in s) out.push(`${path} = ${JSON.stringify(s.default)}`)
  for (const [k, v] of Object.entries(s.properties ?? {})) defaults(v, `${path}.${k}`, out)
  if (s.items) defaults(s.items, `${path}[]`, out)
}

let t: TestApp
beforeAll(async () => {
  t = await testApp()
})
afterAll(() => t.close())

test('no request schema fills in a value the client did not send (unless allowed)', () => {
  const found: string[] = []
  for (const r of t.s.app.routes) {
    for (const part of ['body', 'query', 'params', 'headers', 'cookie'] as const) {
      const hooks = r.hooks as unknown as Record<string, Schema | undefined>
      defaults(hooks[part], `${r.method} ${r.path} ${part}`, found)
    }
  }
  expect(found.filter((d) => !(d in ALLOWED))).toEqual([])
})

test('regression: an email-only PATCH keeps the role; a create without role is refused', async () => {
  const admin = await t.user('admin')
  const ro = await t.user('readonly')
  const res = await t.call('PATCH', `/api/admin/users/${ro.userId}`, { as: admin, json: { email: 'ro@example.com' } })
  expect(res.status).toBe(200)
  expect(((await res.json()) as { role: string }).role).toBe('readonly')
  expect((await t.s.users.get(ro.userId))!.role).toBe('readonly')
  const noRole = await t.call('POST', '/api/admin/users', { as: admin, json: { username: 'rolelessness', password: 'a long enough password' } })
  expect(noRole.status).toBe(400)
  expect(await t.s.users.getByUsername('rolelessness')).toBeNull()
})

test('regression: unfiltered lists are unfiltered', async () => {
  const admin = await t.user('admin')
  const u = await t.user('user')
  await t.s.users.update(u.userId, { enabled: 0 })
  const users = (await (await t.call('GET', '/api/admin/users', { as: admin })).json()) as { users: Array<{ role: string; enabled: boolean }> }
  expect(new Set(users.users.map((x) => x.role))).toEqual(new Set(['admin', 'user', 'readonly']))
  expect(users.users.some((x) => !x.enabled)).toBe(true)
  await t.login('nobody', 'wrong')
  const audit = (await (await t.call('GET', '/api/admin/audit', { as: admin })).json()) as { events: Array<{ status: string }> }
  expect(audit.events.some((e) => e.status === 'denied')).toBe(true)
  expect(audit.events.some((e) => e.status === 'ok')).toBe(true)
})
