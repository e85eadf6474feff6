// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The audit catalogue of the core: sign-in success and failure (reason, IP),
 * logout, lockout, password change, and every admin change to users — with
 * who did it, to whom, and never a password.
 */
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from 'bun:test'
import { PASSWORD, testApp, type Client, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

type Row = {
  user_id: string | null
  username: string | null
  action: string
  status: string
  ip: string | null
  user_agent: string | null
  request_id: string | null
  detail: string | null
}

let t: TestApp
let admin: Client
beforeAll(async () => {
  t = await testApp()
  admin = await t.user('admin', { username: 'auditor' })
})
afterAll(() => t.close())

async function rows(action: string): Promise<Row[]> {
  await t.s.audit.flush()
  return await t.s.db.all<Row>('SELECT * FROM audit_events WHERE action = ? ORDER BY id', [action])
}
const last = async (action: string): Promise<Row & { d: Record<string, unknown> }> => {
  const r = (await rows(action)).at(-1)!
  return { ...r, d: r.detail ? JSON.parse(r.detail) : {} }
}

test('sign-in success and failure carry status, reason, IP, user agent and request id', async () => {
  await t.user('user', { username: 'signer' })
  await t.login('signer', PASSWORD, { 'user-agent': 'AuditAgent/1.0', 'x-request-id': 'req-ok' })
  expect(await last('auth.login')).toMatchObject({
    username: 'signer',
    status: 'ok',
    ip: '127.0.0.1',
    user_agent: 'AuditAgent/1.0',
    request_id: 'req-ok',
    d: { source: 'local' },
  })
  await t.login('signer', 'wrong password', { 'x-request-id': 'req-bad' })
  expect(await last('auth.login')).toMatchObject({
    username: 'signer',
    status: 'denied',
    ip: '127.0.0.1',
    request_id: 'req-bad',
    d: { reason: 'bad_password' },
  })
  await t.login('who-is-this', 'x')
  expect(await last('auth.login')).toMatchObject({ user_id: null, username: 'who-is-this', status: 'denied', d: { reason: 'unknown_user' } })
})

test('logout and lockout', async () => {
  const c = await t.user('user', { username: 'locky' })
  await t.call('POST', '/auth/logout', { as: c })
  expect(await last('auth.logout')).toMatchObject({ user_id: c.userId, username: 'locky', status: 'ok' })
  for (let i = 0; i < 5; i++) await t.login('locky', 'wrong')
  expect(await last('auth.lockout')).toMatchObject({ user_id: c.userId, status: 'denied', ip: '127.0.0.1' })
})

test('password change, successful and refused', async () => {
  const c = await t.user('user', { username: 'changer' })
  await t.call('POST', '/api/me/password', { as: c, json: { current_password: 'not it', new_password: 'another long passphrase' } })
  expect(await last('auth.password_change')).toMatchObject({ user_id: c.userId, status: 'denied', d: { reason: 'wrong_current' } })
  await t.call('POST', '/api/me/password', { as: c, json: { current_password: PASSWORD, new_password: 'another long passphrase' } })
  expect(await last('auth.password_change')).toMatchObject({ user_id: c.userId, username: 'changer', status: 'ok' })
})

test('every admin change to a user names the actor and the target', async () => {
  const created = (await (await t.call('POST', '/api/admin/users', { as: admin, json: { username: 'target', password: PASSWORD, role: 'user' } })).json()) as {
    id: string
  }
  const id = created.id
  expect(await last('user.create')).toMatchObject({
    user_id: admin.userId,
    username: 'auditor',
    status: 'ok',
    d: { target_id: id, target_username: 'target', role: 'user' },
  })

  await t.call('PATCH', `/api/admin/users/${id}`, { as: admin, json: { role: 'readonly', enabled: false } })
  const upd = await last('user.update')
  expect(upd).toMatchObject({ user_id: admin.userId, d: { target_id: id, role: 'readonly', enabled: false } })
  expect((upd.d.fields as string[]).sort()).toEqual(['enabled', 'role'])

  await t.call('POST', `/api/admin/users/${id}/reset-password`, { as: admin, json: { new_password: 'admin picked this one' } })
  expect(await last('user.reset_password')).toMatchObject({ user_id: admin.userId, d: { target_id: id } })

  await t.call('POST', `/api/admin/users/${id}/unlock`, { as: admin })
  expect(await last('user.unlock')).toMatchObject({ user_id: admin.userId, d: { target_id: id } })

  await t.call('DELETE', `/api/admin/users/${id}`, { as: admin })
  expect(await last('user.delete')).toMatchObject({ user_id: admin.userId, d: { target_id: id, target_username: 'target' } })
})

test('a no-op patch records nothing; refused changes change nothing', async () => {
  const u = await t.user('user')
  const before = (await rows('user.update')).length
  await t.call('PATCH', `/api/admin/users/${u.userId}`, { as: admin, json: { role: 'user' } })
  await t.call('PATCH', `/api/admin/users/${admin.userId}`, { as: admin, json: { role: 'user' } })
  expect((await rows('user.update')).length).toBe(before)
})

test('no audit row ever contains a password', async () => {
  await t.s.audit.flush()
  const all = JSON.stringify(await t.s.db.all('SELECT * FROM audit_events'))
  for (const secret of [PASSWORD, 'another long passphrase', 'admin picked this one', 'wrong password', '$argon2id$'])
    expect([secret, all.includes(secret)]).toEqual([secret, false])
})
