// SPDX-License-Identifier: AGPL-3.0-or-later
/** Every registered route is in the OpenAPI document, with its method and a summary. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { testApp, type TestApp } from '../helpers/app.ts'

/** Not API: the web UI fallback, the explorer page, its alias and the document itself. */
const HIDDEN = new Set(['GET /*', 'GET /openapi', 'GET /swagger', 'GET /openapi/json'])

let t: TestApp
beforeAll(async () => {
  t = await testApp()
})
afterAll(() => t.close())

test('every registered route is documented with a summary', async () => {
  const spec = (await (await t.call('GET', '/openapi/json')).json()) as { paths: Record<string, Record<string, { summary?: string }>> }
  const missing: string[] = []
  const unsummarised: string[] = []
  for (const r of t.s.app.routes) {
    const key = `${r.method} ${r.path}`
    if (HIDDEN.has(key)) continue
    const op = spec.paths[r.path.replace(/:([^/]+)/g, '{$1}')]?.[r.method.toLowerCase()]
    if (!op) missing.push(key)
    else if (!op.summary) unsummarised.push(key)
  }
  expect(missing).toEqual([])
  expect(unsummarised).toEqual([])
  expect(t.s.app.routes.length).toBeGreaterThan(80)
})

test('every /api route and method the dashboard serves is in the document a signed-in admin reads, HEAD included', async () => {
  const admin = await t.user('admin')
  const spec = (await (await t.call('GET', '/openapi/json', { as: admin })).json()) as { paths: Record<string, Record<string, unknown>> }
  // A HEAD reaches Elysia as a GET (src/http/head.ts); a GET that answers it on purpose declares `detail.head`.
  const served = t.s.app.routes
    .filter((r) => r.path.startsWith('/api/'))
    .flatMap((r) => [
      { method: r.method, path: r.path },
      ...(r.method === 'GET' && (r.hooks as { detail?: { head?: string } }).detail?.head ? [{ method: 'HEAD', path: r.path }] : []),
    ])
  const missing = served.filter((r) => !spec.paths[r.path.replace(/:([^/]+)/g, '{$1}')]?.[r.method.toLowerCase()]).map((r) => `${r.method} ${r.path}`)
  expect(served.map((r) => `${r.method} ${r.path}`)).toContain('HEAD /api/backends/:bid/buckets/:bucket/object')
  expect(missing).toEqual([])
})

test('every request body is documented as JSON with its schema, so the explorer can offer it', async () => {
  const spec = (await (await t.call('GET', '/openapi/json')).json()) as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema?: { properties?: object } }> } }>>
  }
  const bare: string[] = []
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (operation.requestBody && !operation.requestBody.content['application/json']?.schema) bare.push(`${method} ${path}`)
    }
  }
  expect(bare).toEqual([])
  const create = spec.paths['/api/backends/{bid}/buckets']!.post!.requestBody!.content['application/json']!.schema!
  expect(Object.keys(create.properties ?? {})).toEqual(['name', 'region'])
})
