// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every mutation refuses a missing or wrong X-CSRF-Token (403 csrf_invalid),
 * and every mutation — public ones included — refuses a cross-site Origin.
 * Rows come from the authorization matrix, so new routes are covered.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { errorCode, type Client, type TestApp } from './helpers/app.ts'
import { matrixApp, resolveRow, ROWS } from './authz/harness.ts'
import type { Fixture } from './authz/matrix.ts'

const MUTATIONS = ROWS.filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method))
const SESSION_MUTATIONS = MUTATIONS.filter((r) => !r.public)
let t: TestApp
let fx: (as?: Client) => Fixture

beforeAll(async () => {
  ;({ t, fx } = await matrixApp())
})
afterAll(() => t.close())

test('there are mutations to check', () => {
  expect(MUTATIONS.length).toBeGreaterThan(5)
})

describe.each(SESSION_MUTATIONS)('token: $method $route', (row) => {
  test('refuses a missing token', async () => {
    const as = await t.user('admin')
    const { path, init } = await resolveRow(row, fx(as))
    const res = await t.call(row.method, path, { as, ...init, csrf: false })
    expect(res.status).toBe(403)
    expect(await errorCode(res)).toBe('csrf_invalid')
  })
  test('refuses a wrong token', async () => {
    const as = await t.user('admin')
    const { path, init } = await resolveRow(row, fx(as))
    const res = await t.call(row.method, path, { as, ...init, csrf: 'x'.repeat(32) })
    expect(res.status).toBe(403)
    expect(await errorCode(res)).toBe('csrf_invalid')
  })
})

describe.each(MUTATIONS)('origin: $method $route', (row) => {
  test('refuses a cross-site Origin', async () => {
    const as = await t.user('admin')
    const { path, init } = await resolveRow(row, fx(as))
    const res = await t.call(row.method, path, { as, ...init, headers: { ...init.headers, origin: 'https://evil.example' } })
    expect(res.status).toBe(403)
    expect(await errorCode(res)).toBe('csrf_invalid')
  })
})
