// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The authorization matrix: every route the app registers × {anonymous,
 * readonly, user, admin, stranger (a user without grants)} → the expected
 * status. A route without a row fails the suite, so a new endpoint cannot
 * ship without deciding who may call it. Each attempt gets a fresh session,
 * so destructive rows (logout, delete) cannot disturb the next attempt.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Client, TestApp } from './helpers/app.ts'
import { matrixApp, resolveRow, ROWS } from './authz/harness.ts'
import { WHO, type Fixture, type Who } from './authz/matrix.ts'

let t: TestApp
let fx: (as?: Client) => Fixture
let caller: (who: Who) => Promise<Client | undefined>

beforeAll(async () => {
  ;({ t, fx, caller } = await matrixApp())
})
afterAll(() => t.close())

test('every registered route has exactly one row in the matrix', () => {
  const registered = t.s.app.routes.map((r) => `${r.method} ${r.path}`)
  const keys = ROWS.map((r) => `${r.method} ${r.route}`)
  // HEAD reaches the app as a GET (src/http/head.ts), so a HEAD row checks its GET route.
  const served = (k: string): boolean => registered.includes(k) || (k.startsWith('HEAD ') && registered.includes(`GET ${k.slice(5)}`))
  expect(registered.filter((r) => !keys.includes(r))).toEqual([])
  expect(keys.filter((k) => !served(k))).toEqual([])
  expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([])
})

describe.each(ROWS)('$method $route', (row) => {
  test.each(WHO)('as %s', async (who) => {
    const as = await caller(who)
    const { path, init } = await resolveRow(row, fx(as))
    const res = await t.call(row.method, path, { as, ...init })
    if (res.status !== row.expect[who]) throw new Error(`${who}: expected ${row.expect[who]}, got ${res.status} ${await res.text()}`)
    // Unread download bodies hold backend resources (an fs file handle) until cancelled.
    await res.body?.cancel()
  })
})
