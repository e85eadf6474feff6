// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Paging parameters are bounded everywhere: every route's `limit`, `offset`
 * and `max_keys` is the shared integer parameter of src/http/paging.ts, and
 * each value outside its bounds — the issue's `-1` (SQLite: no limit), `5000`
 * over a maximum of 1000, `0`, `Infinity` and `1e30` (SQLite datatype
 * mismatch, 500), and fractions — is 400 `bad_request` naming the parameter.
 * Routes come from the app itself, each exercised through its row of the
 * authorization matrix, so a new list route is covered or fails here.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { MAX_EXPORT_ROWS } from '../../src/audit/model.ts'
import { MAX_OFFSET } from '../../src/http/paging.ts'
import type { Client, TestApp } from '../helpers/app.ts'
import { matrixApp, resolveRow, ROWS } from '../authz/harness.ts'
import type { Fixture, Row } from '../authz/matrix.ts'

const PAGING = new Set(['limit', 'offset', 'max_keys'])

type Schema = { pattern?: string; error?: string; properties?: Record<string, Schema> }

let t: TestApp
let fx: (as?: Client) => Fixture
let admin: Client
beforeAll(async () => {
  ;({ t, fx } = await matrixApp())
  admin = await t.user('admin')
})
afterAll(() => t.close())

/** Every paging parameter of the app and its bounds: a new one must be added here. */
const BOUNDS: Record<string, [number, number]> = {
  'GET /api/admin/audit limit': [1, 1000],
  'GET /api/admin/audit offset': [0, MAX_OFFSET],
  'GET /api/admin/audit.csv limit': [1, MAX_EXPORT_ROWS],
  'GET /api/admin/grants limit': [1, 1000],
  'GET /api/admin/grants offset': [0, MAX_OFFSET],
  'GET /api/admin/users limit': [1, 500],
  'GET /api/admin/users offset': [0, MAX_OFFSET],
  'GET /api/backends/:bid/buckets/:bucket/objects max_keys': [1, 1000],
  'GET /api/search limit': [1, 200],
  'GET /api/shares limit': [1, 1000],
  'GET /api/shares offset': [0, MAX_OFFSET],
  'GET /s/:code/info limit': [1, 1000],
}

/** Every (route, paging parameter) the app registers, with the parameter's schema. */
function pagingParams(): Array<{ row: Row | undefined; key: string; name: string; schema: Schema }> {
  const out = []
  for (const r of t.s.app.routes) {
    const props = (r.hooks as unknown as { query?: Schema }).query?.properties ?? {}
    for (const [name, schema] of Object.entries(props)) {
      if (PAGING.has(name)) out.push({ row: ROWS.find((x) => x.method === r.method && x.route === r.path), key: `${r.method} ${r.path} ${name}`, name, schema })
    }
  }
  return out
}

test('every list route pages with the shared integer parameter', () => {
  const params = pagingParams()
  expect(params.map((p) => p.key).sort()).toEqual(Object.keys(BOUNDS).sort())
  for (const p of params) {
    const [min, max] = BOUNDS[p.key]!
    expect([p.key, p.schema.pattern, p.schema.error]).toEqual([p.key, '^[0-9]{1,16}$', `Expected an integer from ${min} to ${max}`])
  }
})

test('no query or path parameter goes through Elysia’s numeric coercion', () => {
  // It accepts `0x10`, ` 7` and `1e2`, and its range errors do not say which parameter failed.
  const coerced: string[] = []
  for (const r of t.s.app.routes) {
    const hooks = r.hooks as unknown as Record<string, Schema | undefined>
    for (const part of ['query', 'params'] as const) {
      for (const [name, s] of Object.entries(hooks[part]?.properties ?? {})) {
        const text = JSON.stringify(s)
        if (/"type":"(number|integer|boolean)"|"format":"numeric"/.test(text)) coerced.push(`${r.method} ${r.path} ${part}.${name}`)
      }
    }
  }
  expect(coerced).toEqual([])
})

test('values outside the bounds are 400 bad_request naming the parameter; the bounds themselves are accepted', async () => {
  for (const { row, key, name } of pagingParams()) {
    if (!row) throw new Error(`${key} has no row in the authorization matrix`)
    if (!BOUNDS[key]) throw new Error(`${key} has no bounds in this test`)
    const [min, max] = BOUNDS[key]
    const { path, init } = await resolveRow(row, fx(admin))
    const at = (value: string): string => `${path}${path.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`
    for (const bad of [String(min - 1), String(max + 1), '5000000000', '-1', 'Infinity', '1e30', '1e2', '1.5', '0x10', ' 7', 'abc', '']) {
      const res = await t.call('GET', at(bad), { as: admin, ...init })
      const body = (await res.json()) as { error?: { code: string; detail: Array<{ path: string; message: string }> } }
      expect([key, bad, res.status, body.error?.code, body.error?.detail[0]?.path]).toEqual([key, bad, 400, 'bad_request', `/${name}`])
      expect(body.error!.detail[0]!.message).toBe(`Expected an integer from ${min} to ${max}`)
    }
    for (const good of [String(min), String(max)]) {
      const res = await t.call('GET', at(good), { as: admin, ...init })
      expect([key, good, res.status]).toEqual([key, good, row.expect.admin])
      await res.body?.cancel()
    }
  }
})

test('limit=1 pages, and limit=-1 is refused rather than read by SQLite as "no limit"', async () => {
  for (let i = 0; i < 3; i++) await t.user('user')
  const one = (await (await t.call('GET', '/api/admin/users?limit=1', { as: admin })).json()) as { users: unknown[]; total: number }
  expect(one.users).toHaveLength(1)
  expect(one.total).toBeGreaterThan(3)
  expect((await t.call('GET', '/api/admin/users?limit=-1', { as: admin })).status).toBe(400)
})
