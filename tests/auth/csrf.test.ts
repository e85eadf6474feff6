// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Focused CSRF cases beyond the route matrix in tests/csrf.test.ts: the token
 * is bound to its session, and cross-site requests are refused before any
 * handler runs — sign-in included (no login CSRF).
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from 'bun:test'
import { errorCode, PASSWORD, testApp, type Client, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let t: TestApp
let a: Client
let b: Client
const create = (as: Client, headers: Record<string, string>, csrf?: string | false) =>
  t.call('POST', '/api/admin/users', {
    as,
    csrf,
    headers,
    json: { username: `u${Math.random().toString(36).slice(2, 10)}`, password: 'a long enough password', role: 'user' },
  })

beforeAll(async () => {
  t = await testApp({ server: { public_url: 'https://stowage.example.com' } })
  a = await t.user('admin', { username: 'alpha' })
  b = await t.user('admin', { username: 'bravo' })
})
afterAll(() => t.close())

describe('the token is bound to the session', () => {
  test('the matching token works (control)', async () => {
    expect((await create(a, {})).status).toBe(201)
  })

  test("another session's token in the header is refused", async () => {
    const res = await create(a, {}, b.csrf)
    expect(res.status).toBe(403)
    expect(await errorCode(res)).toBe('csrf_invalid')
  })

  test("another session's token in both cookie and header is refused (double-submit alone is not enough)", async () => {
    const session = a.cookie.split('; ').find((c) => c.startsWith('stowage_session='))!
    const forged: Client = { ...a, cookie: `${session}; stowage_csrf=${b.csrf}` }
    const res = await create(forged, {}, b.csrf)
    expect(res.status).toBe(403)
    expect(await errorCode(res)).toBe('csrf_invalid')
  })

  test('the header without the cookie, or the cookie without the header, is refused', async () => {
    const session = a.cookie.split('; ').find((c) => c.startsWith('stowage_session='))!
    const noCookie = await create({ ...a, cookie: session }, {}, a.csrf)
    expect(noCookie.status).toBe(403)
    const noHeader = await create(a, {}, false)
    expect(noHeader.status).toBe(403)
  })

  test('a token of a signed-out session is worthless', async () => {
    const c = await t.user('admin')
    await t.call('POST', '/auth/logout', { as: c })
    const res = await create(c, {})
    expect(res.status).toBe(401)
  })

  test('safe methods need no token', async () => {
    expect((await t.call('GET', '/api/admin/users', { as: a, csrf: false })).status).toBe(200)
  })
})

describe('cross-site requests are refused, even for sign-in', () => {
  const loginWith = (headers: Record<string, string>) => t.login('alpha', PASSWORD, headers)

  test('a foreign Origin on sign-in: 403 and no session cookie', async () => {
    for (const origin of ['https://evil.example', 'http://localhost.evil.example', 'null', 'not a url']) {
      const res = await loginWith({ origin })
      expect([origin, res.status]).toEqual([origin, 403])
      expect(await errorCode(res)).toBe('csrf_invalid')
      expect(res.headers.getSetCookie()).toEqual([])
    }
  })

  test('Sec-Fetch-Site: cross-site on sign-in is refused; same-origin and same-site pass', async () => {
    const cross = await loginWith({ 'sec-fetch-site': 'cross-site' })
    expect(cross.status).toBe(403)
    expect(cross.headers.getSetCookie()).toEqual([])
    expect((await loginWith({ 'sec-fetch-site': 'same-origin' })).status).toBe(200)
    expect((await loginWith({ 'sec-fetch-site': 'none' })).status).toBe(200)
  })

  test('our own origin — the Host or the configured public_url — passes', async () => {
    expect((await loginWith({ origin: 'http://localhost' })).status).toBe(200)
    expect((await loginWith({ origin: 'https://stowage.example.com' })).status).toBe(200)
  })

  test('a cross-site mutation with a valid token is still refused', async () => {
    const res = await create(a, { origin: 'https://evil.example' })
    expect(res.status).toBe(403)
    expect(await errorCode(res)).toBe('csrf_invalid')
    const sfs = await create(a, { 'sec-fetch-site': 'cross-site' })
    expect(sfs.status).toBe(403)
  })

  test('cross-site logout is refused (no forced sign-out)', async () => {
    const c = await t.user('user')
    const res = await t.call('POST', '/auth/logout', { as: c, headers: { origin: 'https://evil.example' } })
    expect(res.status).toBe(403)
    expect((await t.call('GET', '/api/me', { as: c })).status).toBe(200)
  })

  test('cross-site reads are not blocked by the Origin check (they cannot carry the token anyway)', async () => {
    expect((await t.call('GET', '/api/me', { as: a, headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(200)
  })
})
