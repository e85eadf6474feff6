// SPDX-License-Identifier: AGPL-3.0-or-later
/** Password policy on self-service change, admin create and admin reset. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from 'bun:test'
import { errorCode, PASSWORD, testApp, type Client, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let t: TestApp
let admin: Client
beforeAll(async () => {
  t = await testApp({ auth: { local: { password: { min_length: 14 } } } })
  admin = await t.user('admin')
})
afterAll(() => t.close())

const change = (c: Client, current: string, next: string) =>
  t.call('POST', '/api/me/password', { as: c, json: { current_password: current, new_password: next } })

describe('self-service change', () => {
  test('too short (by characters, not bytes) is weak_password naming the minimum', async () => {
    const c = await t.user('user')
    const res = await change(c, PASSWORD, 'short pw 123')
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; detail: { rule: string; min_length: number } } }
    expect(body.error.code).toBe('weak_password')
    expect(body.error.detail).toEqual({ rule: 'min_length', min_length: 14 })
    // 13 two-byte characters are still 13 characters.
    expect(await errorCode(await change(c, PASSWORD, 'äöüßéèêëïîôùû'))).toBe('weak_password')
  })

  test('containing the username (any case) is weak_password', async () => {
    const c = await t.user('user', { username: 'Margaret' })
    const res = await change(c, PASSWORD, 'my name is MARGARET ok')
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'weak_password', detail: { rule: 'contains_username' } })
  })

  test('too few distinct characters is weak_password', async () => {
    const c = await t.user('user')
    const res = await change(c, PASSWORD, 'abababababababab')
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'weak_password', detail: { rule: 'distinct_characters', min_distinct: 4 } })
  })

  test("the policy's minimum length is public, so a form can state it before the first try", async () => {
    expect(((await (await t.call('GET', '/api/auth/config')).json()) as { password_min_length: number }).password_min_length).toBe(14)
  })

  test('reusing the current password is refused', async () => {
    const c = await t.user('user')
    const res = await change(c, PASSWORD, PASSWORD)
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe('password_reused')
  })

  test('a wrong current password is 401 password_mismatch and changes nothing', async () => {
    const c = await t.user('user', { username: 'wrongcurrent' })
    const res = await change(c, 'not my password', 'a perfectly fine new one')
    expect(res.status).toBe(401)
    expect(await errorCode(res)).toBe('password_mismatch')
    expect((await t.login('wrongcurrent', PASSWORD)).status).toBe(200)
  })

  test('a good password is accepted: the old one stops working, the new one works', async () => {
    const c = await t.user('user', { username: 'changer' })
    const next = 'correct pony battery clip'
    expect((await change(c, PASSWORD, next)).status).toBe(200)
    expect((await t.login('changer', PASSWORD)).status).toBe(401)
    expect((await t.login('changer', next)).status).toBe(200)
  })

  test('prevent_reuse can be switched off', async () => {
    const lax = await testApp({ auth: { local: { password: { prevent_reuse: false } } } })
    try {
      const c = await lax.user('user')
      expect((await lax.call('POST', '/api/me/password', { as: c, json: { current_password: PASSWORD, new_password: PASSWORD } })).status).toBe(200)
    } finally {
      await lax.close()
    }
  })
})

describe('admin create and reset apply the same policy', () => {
  test('create', async () => {
    for (const password of ['too short', 'contains tessa inside', 'aaaaaaaaaaaaaaaaaaaaa']) {
      const res = await t.call('POST', '/api/admin/users', { as: admin, json: { username: 'tessa', password, role: 'user' } })
      expect([password, res.status]).toEqual([password, 400])
      expect(await errorCode(res)).toBe('weak_password')
    }
    expect(await t.s.users.getByUsername('tessa')).toBeNull()
  })

  test('reset', async () => {
    const u = await t.user('user', { username: 'ursula' })
    const res = await t.call('POST', `/api/admin/users/${u.userId}/reset-password`, { as: admin, json: { new_password: 'ursula-password-1' } })
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe('weak_password')
    expect((await t.login('ursula', PASSWORD)).status).toBe(200)
  })
})
