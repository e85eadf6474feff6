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
