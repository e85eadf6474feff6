// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The break-glass admin from config: username in `auth.static`, argon2id hash
 * in the environment variable named by `password_hash_env`.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from 'bun:test'
import { rmSync } from 'node:fs'
import { cookiesOf, errorCode, FAST_HASH, PASSWORD, testApp, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

const STATIC_PW = 'break glass in case of fire'
let hash: string
beforeAll(async () => {
  hash = await Bun.password.hash(STATIC_PW, { algorithm: 'argon2id', ...FAST_HASH })
})

const staticDoc = (modes: string[]) => ({ auth: { modes, static: { enabled: true, username: 'rescue', password_hash_env: 'STOWAGE_TEST_RESCUE_HASH' } } })

describe('with local and static sign-in', () => {
  let t: TestApp
  let cookie: string
  beforeAll(async () => {
    t = await testApp(staticDoc(['local', 'static']), { env: { STOWAGE_TEST_RESCUE_HASH: hash } })
    const res = await t.login('rescue', STATIC_PW)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok', source: 'static', must_change_pw: false })
    cookie = cookiesOf(res)
  })
  afterAll(() => t.close())

  test('it is an admin with identity_source static', async () => {
    const me = await t.call('GET', '/api/me', { headers: { cookie } })
    expect(await me.json()).toEqual({ id: 'static', username: 'rescue', role: 'admin', identity_source: 'static', must_change_pw: false })
    expect((await t.call('GET', '/api/admin/users', { headers: { cookie } })).status).toBe(200)
    const config = (await (await t.call('GET', '/api/auth/config')).json()) as { static_admin: boolean }
    expect(config.static_admin).toBe(true)
  })

  test('it is not a database user and cannot change its password (static_user)', async () => {
    expect(await t.s.users.getByUsername('rescue')).toBeNull()
    const csrf = /stowage_csrf=([^;]+)/.exec(cookie)![1]!
    const res = await t.call('POST', '/api/me/password', {
      headers: { cookie, 'x-csrf-token': csrf },
      json: { current_password: STATIC_PW, new_password: 'another long passphrase' },
    })
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe('static_user')
    expect((await t.login('rescue', STATIC_PW)).status).toBe(200)
  })

  test('a wrong password is the same invalid_credentials as for anyone, and is audited', async () => {
    const res = await t.login('rescue', 'wrong')
    expect(res.status).toBe(401)
    expect(await errorCode(res)).toBe('invalid_credentials')
    await t.s.audit.flush()
    const row = (await t.s.db.get<{ user_id: string; status: string; detail: string }>(
      "SELECT user_id, status, detail FROM audit_events WHERE action = 'auth.login' ORDER BY id DESC LIMIT 1",
    ))!
    expect(row).toMatchObject({ user_id: 'static', status: 'denied' })
    expect(JSON.parse(row.detail)).toMatchObject({ reason: 'bad_password', mode: 'static' })
  })

  test('a local user with another name still signs in normally', async () => {
    await t.user('user', { username: 'local-person' })
    expect((await t.login('local-person', PASSWORD)).status).toBe(200)
  })

  test('the static admin cannot be targeted through the user admin routes', async () => {
    const csrf = /stowage_csrf=([^;]+)/.exec(cookie)![1]!
    for (const [method, path] of [
      ['GET', '/api/admin/users/static'],
      ['DELETE', '/api/admin/users/static'],
      ['POST', '/api/admin/users/static/reset-password'],
    ] as const) {
      const res = await t.call(method, path, {
        headers: { cookie, 'x-csrf-token': csrf },
        json: method === 'POST' ? { new_password: 'some new long password' } : undefined,
      })
      expect([path, res.status]).toEqual([path, 404])
    }
  })

  test('the static admin locks out after repeated failures like any account', async () => {
    const other = await testApp(staticDoc(['local', 'static']), { env: { STOWAGE_TEST_RESCUE_HASH: hash } })
    try {
      for (let i = 0; i < 5; i++) expect((await other.login('rescue', 'nope')).status).toBe(401)
      expect(await errorCode(await other.login('rescue', STATIC_PW))).toBe('account_locked')
    } finally {
      await other.close()
    }
  })
})

describe('with static sign-in only', () => {
  test('other names get invalid_credentials, exactly like a wrong static password', async () => {
    const t = await testApp(staticDoc(['static']), { env: { STOWAGE_TEST_RESCUE_HASH: hash } })
    try {
      const wrongPw = await t.login('rescue', 'wrong')
      const otherName = await t.login('someone-else', 'wrong')
      expect(otherName.status).toBe(401)
      expect(await otherName.text()).toBe(await wrongPw.text())
      expect((await t.login('rescue', STATIC_PW)).status).toBe(200)
    } finally {
      await t.close()
    }
  })
})

test('sessions of the static admin end when it is removed from the config', async () => {
  const t = await testApp(staticDoc(['local', 'static']), { env: { STOWAGE_TEST_RESCUE_HASH: hash } })
  const cookie = cookiesOf(await t.login('rescue', STATIC_PW))
  const { createApp } = await import('../../src/app.ts')
  const { buildConfig } = await import('../../src/config/load.ts')
  const { silentLogger } = await import('../../src/lib/log.ts')
  const path = t.s.config.db.sqlite.path
  await t.s.close()
  const again = await createApp(buildConfig({ db: { sqlite: { path } } }, {}), { logger: silentLogger, defaultMetrics: false, hashParams: FAST_HASH })
  try {
    const res = await again.fetch(new Request('http://localhost/api/me', { headers: { cookie } }))
    expect(res.status).toBe(401)
  } finally {
    await again.close()
    rmSync(t.dir, { recursive: true, force: true })
  }
})

test('the hash must come from the named environment variable', async () => {
  const { buildConfig } = await import('../../src/config/load.ts')
  expect(() => buildConfig(staticDoc(['local', 'static']), {})).toThrow('STOWAGE_TEST_RESCUE_HASH is not set')
})
