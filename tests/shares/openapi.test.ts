// SPDX-License-Identifier: AGPL-3.0-or-later
/** Every share route is in the OpenAPI document with its method, schemas and a summary. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { testApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
beforeAll(async () => {
  t = await testApp()
})
afterAll(() => t.close())

test('the share routes are documented', async () => {
  const spec = (await (await t.call('GET', '/openapi/json')).json()) as {
    paths: Record<string, Record<string, { summary?: string; parameters?: unknown[]; requestBody?: unknown }>>
  }
  const mine = t.s.app.routes.filter((r) => /^\/api\/shares(\/|$)|^\/s\/:code\//.test(r.path))
  expect(mine.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
    'DELETE /api/shares/:id',
    'GET /api/shares',
    'GET /api/shares/policy',
    'GET /s/:code/info',
    'GET /s/:code/raw',
    'POST /api/shares',
    'POST /s/:code/unlock',
  ])
  for (const r of mine) {
    const op = spec.paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()]
    expect(op, `${r.method} ${r.path}`).toBeDefined()
    expect(op!.summary, `${r.method} ${r.path}`).toBeTruthy()
  }
  expect(spec.paths['/api/shares']!.post!.requestBody).toBeDefined()
  expect(spec.paths['/s/{code}/unlock']!.post!.requestBody).toBeDefined()
})
