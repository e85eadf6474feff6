// SPDX-License-Identifier: AGPL-3.0-or-later
/** Every bucket, object and multipart route is in the OpenAPI document with its method. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { testApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
beforeAll(async () => {
  t = await testApp()
})
afterAll(() => t.close())

test('the routes are documented', async () => {
  const spec = (await (await t.call('GET', '/openapi/json')).json()) as { paths: Record<string, Record<string, unknown>> }
  const mine = t.s.app.routes.filter((r) => /^\/api\/backends\/:bid\/buckets(\/:bucket(\/(objects?|multipart)(\/|$).*)?)?$/.test(r.path))
  expect(mine.length).toBe(25)
  for (const r of mine) {
    const path = r.path.replace(/:(\w+)/g, '{$1}')
    expect(spec.paths[path]?.[r.method.toLowerCase()], `${r.method} ${path}`).toBeDefined()
  }
})
