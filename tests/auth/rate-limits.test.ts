// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The per-IP sign-in limit (default 10 failures per 15 minutes, successes do
 * not count) and the per-session API limit, both answering 429 with Retry-After.
 */
import { afterEach, describe, expect, test, setDefaultTimeout } from 'bun:test'
import { buildConfig } from '../../src/config/load.ts'
import { errorCode, PASSWORD, testApp, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let t: TestApp | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

describe('per-IP sign-in limit', () => {
  test('IPv6 clients are counted by their /64, so rotating addresses does not reset the budget', async () => {
    t = await testApp({ server: { trusted_proxies: ['127.0.0.1'] }, ratelimit: { login_per_ip: 3, login_window: '15m' } })
    const from = (ip: string) => ({ 'x-forwarded-for': ip })
    for (let i = 1; i <= 3; i++) expect((await t.login('nobody', 'wrong', from(`2001:db8:7:7::${i}`))).status).toBe(401)
    expect((await t.login('nobody', 'wrong', from('2001:db8:7:7:ffff::42'))).status).toBe(429)
    expect((await t.login('nobody', 'wrong', from('2001:db8:7:8::1'))).status).toBe(401)
  })

  test('the defaults are 10 per 15 minutes', () => {
    const c = buildConfig({}, {})
    expect(c.ratelimit.login_per_ip).toBe(10)
    expect(c.ratelimit.login_window).toBe(15 * 60_000)
  })

  test('ten failures, then 429 rate_limited with Retry-After — even for the right password', async () => {
    const clock = { now: Date.UTC(2026, 0, 1, 12, 0, 0) }
    t = await testApp({ ratelimit: { login_per_ip: 10, login_window: '15m' } }, { now: () => clock.now })
    await t.user('user', { username: 'victim' })
    for (let i = 0; i < 10; i++) expect((await t.login(`guess${i}`, 'wrong')).status).toBe(401)
    const limited = await t.login('victim', PASSWORD)
    expect(limited.status).toBe(429)
    expect(await errorCode(limited)).toBe('rate_limited')
    const retry = Number(limited.headers.get('retry-after'))
    expect(retry).toBeGreaterThan(0)
    expect(retry).toBeLessThanOrEqual(15 * 60)
    expect(limited.headers.getSetCookie()).toEqual([])
    // Still limited a little later…
    clock.now += 10 * 60_000
    expect((await t.login('victim', PASSWORD)).status).toBe(429)
    // …and free again once the window has slid past the failures.
    clock.now += 21 * 60_000
    expect((await t.login('victim', PASSWORD)).status).toBe(200)
  })

  test('concurrent attempts cannot slip past the limit', async () => {
    t = await testApp({ ratelimit: { login_per_ip: 10 } })
    const statuses = (await Promise.all(Array.from({ length: 40 }, (_, i) => t!.login(`burst${i}`, 'wrong')))).map((r) => r.status)
    expect(statuses.filter((s) => s === 401)).toHaveLength(10)
    expect(statuses.filter((s) => s === 429)).toHaveLength(30)
  })

  test('successful sign-ins do not count', async () => {
    t = await testApp({ ratelimit: { login_per_ip: 3 } })
    await t.user('user', { username: 'often' })
    for (let i = 0; i < 12; i++) expect((await t.login('often', PASSWORD)).status).toBe(200)
  })

  test('limited attempts are audited as denied with the reason', async () => {
    t = await testApp({ ratelimit: { login_per_ip: 1 } })
    await t.login('x', 'y')
    expect((await t.login('x', 'y')).status).toBe(429)
    await t.s.audit.flush()
    const row = (await t.s.db.get<{ status: string; detail: string; ip: string }>(
      "SELECT status, detail, ip FROM audit_events WHERE action = 'auth.login' ORDER BY id DESC LIMIT 1",
    ))!
    expect(row.status).toBe('denied')
    expect(JSON.parse(row.detail).reason).toBe('rate_limited')
    expect(row.ip).toBe('127.0.0.1')
  })

  test('0 disables the limit', async () => {
    t = await testApp({ ratelimit: { login_per_ip: 0 }, auth: { local: { lockout: { max_attempts: 1000 } } } })
    for (let i = 0; i < 30; i++) expect((await t.login('nobody', 'wrong')).status).toBe(401)
  })
})

describe('per-session API limit', () => {
  test('over the limit: 429 rate_limited with Retry-After; other sessions unaffected', async () => {
    t = await testApp({ ratelimit: { api_per_minute: 5 } })
    const a = await t.user('user')
    const b = await t.user('user')
    for (let i = 0; i < 5; i++) expect((await t.call('GET', '/api/me', { as: a })).status).toBe(200)
    const res = await t.call('GET', '/api/me', { as: a })
    expect(res.status).toBe(429)
    expect(await errorCode(res)).toBe('rate_limited')
    const retry = Number(res.headers.get('retry-after'))
    expect(retry).toBeGreaterThanOrEqual(1)
    expect(retry).toBeLessThanOrEqual(60)
    expect((await t.call('GET', '/api/me', { as: b })).status).toBe(200)
    // Public endpoints are not counted against the session.
    expect((await t.call('GET', '/healthz', { as: a })).status).toBe(200)
  })

  test('a second session of the same user has its own budget', async () => {
    t = await testApp({ ratelimit: { api_per_minute: 2 } })
    const a = await t.user('user', { username: 'multi' })
    for (let i = 0; i < 2; i++) await t.call('GET', '/api/me', { as: a })
    expect((await t.call('GET', '/api/me', { as: a })).status).toBe(429)
    const res = await t.login('multi', PASSWORD)
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    expect((await t.call('GET', '/api/me', { headers: { cookie } })).status).toBe(200)
  })
})
