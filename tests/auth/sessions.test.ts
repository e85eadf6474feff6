// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Mirrors the security contract at the top of src/auth/sessions.ts:
 * 1. opaque random token in the cookie, only its SHA-256 in SQLite;
 * 2. absolute lifetime; 3. sliding idle timeout; 4. per-session CSRF token
 * (see tests/auth/csrf.test.ts); 5. revocation (see tests/users/session-revocation.test.ts).
 * Plus the cookie attributes, with Secure only when the client used https.
 */
import { afterEach, describe, expect, test, setDefaultTimeout } from 'bun:test'
import { readFileSync } from 'node:fs'
import { sha256Hex } from '../../src/lib/crypto.ts'
import { cookiesOf, PASSWORD, testApp, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

const MIN = 60_000
const HOUR = 60 * MIN
let t: TestApp | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

/** A test app whose clock the test moves. */
async function clockApp(doc: Record<string, unknown> = {}) {
  const clock = { now: Date.UTC(2026, 0, 1, 9, 0, 0) }
  t = await testApp(doc, { now: () => clock.now })
  return { t, clock, advance: (ms: number) => (clock.now += ms) }
}

function parseSetCookie(raw: string): { name: string; value: string; attrs: Record<string, string | true> } {
  const [pair, ...rest] = raw.split(';').map((s) => s.trim())
  const [name, value] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)]
  const attrs: Record<string, string | true> = {}
  for (const a of rest) {
    const i = a.indexOf('=')
    attrs[(i < 0 ? a : a.slice(0, i)).toLowerCase()] = i < 0 ? true : a.slice(i + 1)
  }
  return { name, value, attrs }
}

describe('1. the cookie carries a random token; the database only its SHA-256', () => {
  test('the raw token appears nowhere in the sessions table or the database files', async () => {
    const { t } = await clockApp()
    const c = await t.user('user')
    const token = /stowage_session=([^;]+)/.exec(c.cookie)![1]!
    expect(token.length).toBeGreaterThanOrEqual(32)
    const rows = await t.s.db.all<Record<string, unknown>>('SELECT * FROM sessions')
    expect(rows).toHaveLength(1)
    expect(rows[0]!.id).toBe(sha256Hex(token))
    expect(JSON.stringify(rows)).not.toContain(token)
    if (t.s.db.dialect === 'sqlite') await t.s.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    for (const f of t.s.db.dialect === 'sqlite' ? ['stowage.db', 'stowage.db-wal'] : []) {
      const bytes = (() => {
        try {
          return readFileSync(`${t.dir}/${f}`)
        } catch {
          return Buffer.alloc(0)
        }
      })()
      expect(bytes.includes(Buffer.from(token))).toBe(false)
    }
  })

  test('a copied token hash is useless as a cookie, and forged tokens are refused', async () => {
    const { t } = await clockApp()
    const c = await t.user('user')
    const hash = (await t.s.db.get<{ id: string }>('SELECT id FROM sessions'))!.id
    for (const forged of [hash, 'a'.repeat(32), 'x'.repeat(129), '']) {
      expect((await t.call('GET', '/api/me', { headers: { cookie: `stowage_session=${forged}` } })).status).toBe(401)
    }
    expect((await t.call('GET', '/api/me', { as: c })).status).toBe(200)
  })

  test('each sign-in gets a new token', async () => {
    const { t } = await clockApp()
    await t.user('user', { username: 'twice' })
    const a = cookiesOf(await t.login('twice', PASSWORD))
    const b = cookiesOf(await t.login('twice', PASSWORD))
    expect(a).not.toBe(b)
    // t.user signed in once already.
    expect(await t.s.db.get('SELECT COUNT(*) AS n FROM sessions')).toEqual({ n: 3 })
  })
})

describe('cookie attributes', () => {
  test('HttpOnly session cookie, script-readable CSRF cookie, SameSite=Lax, Path=/, expiry = lifetime; no Secure over http', async () => {
    const { t, clock } = await clockApp({ auth: { session: { lifetime: '8h' } } })
    await t.user('user', { username: 'cookies' })
    const res = await t.login('cookies', PASSWORD)
    const [session, csrf] = ['stowage_session', 'stowage_csrf'].map((n) => parseSetCookie(res.headers.getSetCookie().find((x) => x.startsWith(n + '='))!))
    expect(session!.attrs.httponly).toBe(true)
    expect(csrf!.attrs.httponly).toBeUndefined()
    for (const c of [session!, csrf!]) {
      expect(c.attrs.samesite).toBe('Lax')
      expect(c.attrs.path).toBe('/')
      expect(c.attrs.secure).toBeUndefined()
      expect(Date.parse(c.attrs.expires as string)).toBe(Math.floor((clock.now + 8 * HOUR) / 1000) * 1000)
    }
  })

  test('Secure when a trusted proxy says https; not when an untrusted peer claims it', async () => {
    const { t: trusted } = await clockApp({ server: { trusted_proxies: ['127.0.0.1'] } })
    await trusted.user('user', { username: 'secure' })
    const https = await trusted.login('secure', PASSWORD, { 'x-forwarded-proto': 'https' })
    for (const c of https.headers.getSetCookie()) expect(parseSetCookie(c).attrs.secure).toBe(true)
    const plain = await trusted.login('secure', PASSWORD, { 'x-forwarded-proto': 'http' })
    for (const c of plain.headers.getSetCookie()) expect(parseSetCookie(c).attrs.secure).toBeUndefined()
    const logout = await trusted.call('POST', '/auth/logout', { headers: { 'x-forwarded-proto': 'https' } })
    for (const c of logout.headers.getSetCookie()) expect(parseSetCookie(c).attrs.secure).toBe(true)
    await trusted.close()
    t = undefined
    const { t: untrusted } = await clockApp()
    await untrusted.user('user', { username: 'insecure' })
    const claimed = await untrusted.login('insecure', PASSWORD, { 'x-forwarded-proto': 'https' })
    for (const c of claimed.headers.getSetCookie()) expect(parseSetCookie(c).attrs.secure).toBeUndefined()
  })
})

describe('2. the absolute lifetime caps a session however active it is', () => {
  test('active every 20 minutes, the session still ends at sign-in + lifetime', async () => {
    const { t, advance } = await clockApp({ auth: { session: { lifetime: '2h', idle_timeout: '30m' } } })
    const c = await t.user('user')
    for (let i = 0; i < 5; i++) {
      advance(20 * MIN)
      expect((await t.call('GET', '/api/me', { as: c })).status).toBe(200)
    }
    advance(19 * MIN)
    expect((await t.call('GET', '/api/me', { as: c })).status).toBe(200)
    advance(1 * MIN)
    expect((await t.call('GET', '/api/me', { as: c })).status).toBe(401)
    expect(await t.s.db.get('SELECT COUNT(*) AS n FROM sessions')).toEqual({ n: 0 })
  })
})

describe('3. the idle timeout ends an unused session and slides with use', () => {
  test('use slides the window: 50 minutes apart under a 1 h idle timeout keeps it alive', async () => {
    const { t, advance } = await clockApp({ auth: { session: { lifetime: '8h', idle_timeout: '1h' } } })
    const c = await t.user('user')
    for (let i = 0; i < 4; i++) {
      advance(50 * MIN)
      expect([i, (await t.call('GET', '/api/me', { as: c })).status]).toEqual([i, 200])
    }
  })

  test('unused for the idle timeout, it ends', async () => {
    const { t, advance } = await clockApp({ auth: { session: { lifetime: '8h', idle_timeout: '1h' } } })
    const c = await t.user('user')
    advance(30 * MIN)
    expect((await t.call('GET', '/api/me', { as: c })).status).toBe(200)
    advance(60 * MIN)
    expect((await t.call('GET', '/api/me', { as: c })).status).toBe(401)
    // Gone for good, not just refused this once.
    advance(-60 * MIN)
    expect((await t.call('GET', '/api/me', { as: c })).status).toBe(401)
  })

  test('the reaper deletes idle sessions from the table', async () => {
    const { t, advance } = await clockApp({ auth: { session: { lifetime: '8h', idle_timeout: '1h' } } })
    await t.user('user')
    await t.user('user')
    advance(61 * MIN)
    expect(await t.s.sessions.reap()).toBe(2)
    expect(await t.s.sessions.countActive()).toBe(0)
  })
})
