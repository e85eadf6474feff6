// SPDX-License-Identifier: AGPL-3.0-or-later
/** The guards of user administration: last_admin, self_role_change, self_delete, username_taken, email_taken. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from 'bun:test'
import { cookiesOf, errorCode, FAST_HASH, PASSWORD, testApp, type Client, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let t: TestApp
let boss: Client
/** The static break-glass admin: the one admin that is not a database row, so it can act on the last local admin. */
let rescue: Client
beforeAll(async () => {
  const hash = await Bun.password.hash('break glass in case of fire', { algorithm: 'argon2id', ...FAST_HASH })
  t = await testApp({ auth: { modes: ['local', 'static'], static: { username: 'rescue', password_hash_env: 'RESCUE_HASH' } } }, { env: { RESCUE_HASH: hash } })
  boss = await t.user('admin', { username: 'boss' })
  const cookie = cookiesOf(await t.login('rescue', 'break glass in case of fire'))
  rescue = { cookie, csrf: /stowage_csrf=([^;]+)/.exec(cookie)![1]!, userId: 'static', username: 'rescue', role: 'admin' }
})
afterAll(() => t.close())

describe('last_admin: at least one enabled local admin remains', () => {
  test('the only admin cannot be demoted, disabled or deleted', async () => {
    expect(await t.s.users.countEnabledAdmins()).toBe(1)
    for (const [method, json] of [
      ['PATCH', { role: 'user' }],
      ['PATCH', { role: 'readonly' }],
      ['PATCH', { enabled: false }],
      ['DELETE', undefined],
    ] as const) {
      const res = await t.call(method, `/api/admin/users/${boss.userId}`, { as: rescue, json })
      expect([method, json, res.status]).toEqual([method, json, 409])
      expect(await errorCode(res)).toBe('last_admin')
    }
    expect(await t.s.users.get(boss.userId)).toMatchObject({ role: 'admin', enabled: 1 })
  })

  test('a disabled admin does not count as a remaining admin', async () => {
    const dormant = await t.user('admin', { username: 'dormant' })
    await t.s.users.update(dormant.userId, { enabled: 0 })
    const res = await t.call('PATCH', `/api/admin/users/${boss.userId}`, { as: rescue, json: { enabled: false } })
    expect(res.status).toBe(409)
    expect(await errorCode(res)).toBe('last_admin')
  })

  test('with a second enabled admin the change is allowed; unrelated edits always are', async () => {
    expect((await t.call('PATCH', `/api/admin/users/${boss.userId}`, { as: rescue, json: { email: 'boss@example.com' } })).status).toBe(200)
    expect((await t.s.users.get(boss.userId))!.role).toBe('admin')
    const deputy = await t.user('admin', { username: 'deputy' })
    expect((await t.call('PATCH', `/api/admin/users/${boss.userId}`, { as: rescue, json: { role: 'user' } })).status).toBe(200)
    // Now deputy is the last one.
    expect(await errorCode(await t.call('DELETE', `/api/admin/users/${deputy.userId}`, { as: rescue }))).toBe('last_admin')
    expect((await t.call('PATCH', `/api/admin/users/${boss.userId}`, { as: rescue, json: { role: 'admin' } })).status).toBe(200)
    expect((await t.call('DELETE', `/api/admin/users/${deputy.userId}`, { as: rescue })).status).toBe(204)
    expect(await t.s.users.countEnabledAdmins()).toBe(1)
  })
})

describe('self-protection', () => {
  test('an admin cannot change their own role or disable themselves (403 self_role_change)', async () => {
    const me = await t.user('admin', { username: 'selfish' })
    for (const json of [{ role: 'user' }, { role: 'readonly' }, { enabled: false }]) {
      const res = await t.call('PATCH', `/api/admin/users/${me.userId}`, { as: me, json })
      expect([json, res.status]).toEqual([json, 403])
      expect(await errorCode(res)).toBe('self_role_change')
    }
    expect(await t.s.users.get(me.userId)).toMatchObject({ role: 'admin', enabled: 1 })
  })

  test('but may set their own email or restate their own role', async () => {
    const me = await t.user('admin', { username: 'selfedit' })
    expect((await t.call('PATCH', `/api/admin/users/${me.userId}`, { as: me, json: { role: 'admin', email: 'me@example.com' } })).status).toBe(200)
  })

  test('an admin cannot delete themselves (400 self_delete)', async () => {
    const me = await t.user('admin', { username: 'suicidal' })
    const res = await t.call('DELETE', `/api/admin/users/${me.userId}`, { as: me })
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe('self_delete')
    expect(await t.s.users.get(me.userId)).not.toBeNull()
  })
})

describe('uniqueness', () => {
  const create = (json: Record<string, unknown>) => t.call('POST', '/api/admin/users', { as: boss, json: { password: PASSWORD, role: 'user', ...json } })

  test('username_taken, case-insensitively', async () => {
    expect((await create({ username: 'unique1' })).status).toBe(201)
    for (const username of ['unique1', 'UNIQUE1', 'Unique1']) {
      const res = await create({ username })
      expect([username, res.status]).toEqual([username, 409])
      expect(await errorCode(res)).toBe('username_taken')
    }
  })

  test('email_taken on create and on patch, case-insensitively', async () => {
    expect((await create({ username: 'mail1', email: 'shared@example.com' })).status).toBe(201)
    const dup = await create({ username: 'mail2', email: 'SHARED@example.com' })
    expect(dup.status).toBe(409)
    expect(await errorCode(dup)).toBe('email_taken')
    const other = (await (await create({ username: 'mail3', email: 'own@example.com' })).json()) as { id: string }
    const patch = await t.call('PATCH', `/api/admin/users/${other.id}`, { as: boss, json: { email: 'shared@example.com' } })
    expect(patch.status).toBe(409)
    expect(await errorCode(patch)).toBe('email_taken')
    expect((await t.call('PATCH', `/api/admin/users/${other.id}`, { as: boss, json: { email: 'own@example.com' } })).status).toBe(200)
  })

  test('concurrent creates with the same username or email: one 201, one 409 — never a 500', async () => {
    const sameName = await Promise.all([create({ username: 'racer' }), create({ username: 'RACER' })])
    expect(sameName.map((r) => r.status).sort()).toEqual([201, 409])
    const sameEmail = await Promise.all([create({ username: 'race-a', email: 'race@example.com' }), create({ username: 'race-b', email: 'race@example.com' })])
    expect(sameEmail.map((r) => r.status).sort()).toEqual([201, 409])
    const loser = sameEmail.find((r) => r.status === 409)!
    expect(await errorCode(loser)).toBe('email_taken')
  })
})
