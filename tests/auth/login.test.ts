// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Local sign-in: argon2id hashes, one uniform refusal for every kind of wrong
 * attempt, audit events for success and failure, logout.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from 'bun:test'
import { ulid } from '../../src/lib/ids.ts'
import { cookiesOf, errorCode, PASSWORD, testApp, type Client, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let t: TestApp
let admin: Client
beforeAll(async () => {
  t = await testApp()
  admin = await t.user('admin', { username: 'root-admin' })
})
afterAll(() => t.close())

type AuditRow = {
  user_id: string | null
  username: string | null
  action: string
  status: string
  ip: string | null
  detail: string | null
  user_agent: string | null
}
const lastAudit = async (action: string): Promise<AuditRow> => {
  await t.s.audit.flush()
  return (await t.s.db.get<AuditRow>('SELECT * FROM audit_events WHERE action = ? ORDER BY id DESC LIMIT 1', [action]))!
}

describe('password storage', () => {
  test('hashes are argon2id, salted, and never the password', async () => {
    const res = await t.call('POST', '/api/admin/users', { as: admin, json: { username: 'hashme', password: PASSWORD, role: 'user' } })
    expect(res.status).toBe(201)
    const twin = await t.call('POST', '/api/admin/users', { as: admin, json: { username: 'hashme2', password: PASSWORD, role: 'user' } })
    expect(twin.status).toBe(201)
    const rows = await t.s.db.all<{ password_hash: string }>("SELECT password_hash FROM users WHERE username IN ('hashme', 'hashme2')")
    expect(rows).toHaveLength(2)
    for (const r of rows) {
      expect(r.password_hash).toStartWith('$argon2id$')
      expect(r.password_hash).not.toContain(PASSWORD)
    }
    expect(rows[0]!.password_hash).not.toBe(rows[1]!.password_hash)
  })

  test('production parameters are argon2id with at least 64 MiB', async () => {
    const { createPasswords, DEFAULT_HASH_PARAMS } = await import('../../src/auth/password.ts')
    expect(DEFAULT_HASH_PARAMS.memoryCost).toBeGreaterThanOrEqual(65536)
    const h = await createPasswords({ min_length: 12 }, { memoryCost: 1024, timeCost: 1 }).hash('whatever password')
    expect(h).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=\d+\$/)
  })
})

describe('signing in', () => {
  test('success sets the session and CSRF cookies and reports the source', async () => {
    await t.user('user', { username: 'alice' })
    const res = await t.login('alice', PASSWORD)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok', source: 'local', must_change_pw: false })
    expect(res.headers.get('cache-control')).toBe('no-store')
    const cookies = cookiesOf(res)
    expect(cookies).toMatch(/stowage_session=[a-z2-7]{32}/)
    expect(cookies).toMatch(/stowage_csrf=[a-z2-7]{32}/)
    const me = await t.call('GET', '/api/me', { headers: { cookie: cookies } })
    expect(me.status).toBe(200)
    expect(await me.json()).toMatchObject({ username: 'alice', role: 'user', identity_source: 'local', must_change_pw: false })
  })

  test('usernames are case-insensitive', async () => {
    await t.user('user', { username: 'MixedCase' })
    expect((await t.login('mixedcase', PASSWORD)).status).toBe(200)
  })

  test('success is audited with the source, IP and user agent', async () => {
    const c = await t.user('readonly', { username: 'audited' })
    const row = await lastAudit('auth.login')
    expect(row).toMatchObject({ user_id: c.userId, username: 'audited', status: 'ok', ip: '127.0.0.1' })
    expect(JSON.parse(row.detail!)).toEqual({ source: 'local' })
  })
})

describe('every refusal looks the same', () => {
  const refusals: Record<string, () => Promise<Response>> = {}
  beforeAll(async () => {
    await t.user('user', { username: 'bob' })
    const disabled = await t.user('user', { username: 'dora' })
    await t.s.users.update(disabled.userId, { enabled: 0 })
    await t.s.users.insert({
      id: ulid(),
      username: 'oscar',
      email: null,
      passwordHash: null,
      role: 'user',
      identitySource: 'oidc:idp.example',
      oidcIssuer: 'https://idp.example',
      oidcSubject: 'sub-1',
      mustChangePw: false,
      createdBy: null,
      now: Date.now(),
    })
    refusals.unknown = () => t.login('nobody-here', PASSWORD)
    refusals.wrongPassword = () => t.login('bob', 'not the password at all')
    refusals.disabledRightPassword = () => t.login('dora', PASSWORD)
    refusals.disabledWrongPassword = () => t.login('dora', 'not the password at all')
    refusals.oidcOnly = () => t.login('oscar', PASSWORD)
    refusals.emptyPassword = () => t.login('bob', '')
  })

  test('401 invalid_credentials with identical bodies and no cookies', async () => {
    const seen = new Set<string>()
    for (const [what, attempt] of Object.entries(refusals)) {
      const res = await attempt()
      expect([what, res.status]).toEqual([what, 401])
      expect(res.headers.getSetCookie()).toEqual([])
      seen.add(await res.text())
    }
    expect(seen.size).toBe(1)
    expect(JSON.parse([...seen][0]!).error.code).toBe('invalid_credentials')
  })

  test('each failure is audited as denied with its reason and the client IP', async () => {
    const reasons: Record<string, string> = { unknown: 'unknown_user', wrongPassword: 'bad_password', disabledRightPassword: 'disabled', oidcOnly: 'not_local' }
    for (const [what, reason] of Object.entries(reasons)) {
      await refusals[what]!()
      const row = await lastAudit('auth.login')
      expect([what, row.status, row.ip]).toEqual([what, 'denied', '127.0.0.1'])
      expect(JSON.parse(row.detail!).reason).toBe(reason)
      expect(row.detail).not.toContain(PASSWORD)
    }
  })

  test('a malformed login body is 400, not a crash', async () => {
    for (const json of [{}, { username: '', password: 'x' }, { username: 'a' }, { username: 5, password: 'x' }, []]) {
      const res = await t.call('POST', '/auth/login/local', { json })
      expect(res.status).toBe(400)
      expect(await errorCode(res)).toBe('bad_request')
    }
  })
})

describe('logout', () => {
  test('ends the session, clears both cookies and is audited', async () => {
    const c = await t.user('user', { username: 'leaver' })
    const res = await t.call('POST', '/auth/logout', { as: c })
    expect(res.status).toBe(200)
    const cleared = res.headers.getSetCookie()
    expect(cleared.some((x) => x.startsWith('stowage_session=;') && x.includes('Max-Age=0'))).toBe(true)
    expect(cleared.some((x) => x.startsWith('stowage_csrf=;') && x.includes('Max-Age=0'))).toBe(true)
    expect((await t.call('GET', '/api/me', { as: c })).status).toBe(401)
    expect(await lastAudit('auth.logout')).toMatchObject({ user_id: c.userId, status: 'ok' })
  })

  test('a signed-in logout needs the CSRF token (a forged logout is refused)', async () => {
    const c = await t.user('user')
    const res = await t.call('POST', '/auth/logout', { as: c, csrf: false })
    expect(res.status).toBe(403)
    expect(await errorCode(res)).toBe('csrf_invalid')
    expect((await t.call('GET', '/api/me', { as: c })).status).toBe(200)
  })

  test('without a session it just clears cookies', async () => {
    const res = await t.call('POST', '/auth/logout')
    expect(res.status).toBe(200)
    expect(res.headers.getSetCookie().length).toBe(2)
  })
})

test('local sign-in is refused with mode_disabled when neither local nor static is enabled', async () => {
  const oidcOnly = await testApp({ auth: { modes: ['oidc'], oidc: { issuer: 'https://idp.invalid', client_id: 'stowage' } } })
  try {
    const res = await oidcOnly.login('anyone', PASSWORD)
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe('mode_disabled')
  } finally {
    await oidcOnly.close()
  }
})
