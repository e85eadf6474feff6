// SPDX-License-Identifier: AGPL-3.0-or-later
/** While a password change is required only GET /api/me and POST /api/me/password work. */
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from 'bun:test'
import { cookiesOf, errorCode, PASSWORD, testApp, type Client, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let t: TestApp
let admin: Client
beforeAll(async () => {
  t = await testApp()
  admin = await t.user('admin')
})
afterAll(() => t.close())

const NEW = 'a fresh and long passphrase'

test('sign-in reports the requirement; /api/me works and says so', async () => {
  const c = await t.user('admin', { username: 'rotate1', mustChangePw: true })
  const res = await t.login('rotate1', PASSWORD)
  expect(await res.json()).toEqual({ status: 'ok', source: 'local', must_change_pw: true })
  const me = await t.call('GET', '/api/me', { as: c })
  expect(me.status).toBe(200)
  expect(((await me.json()) as { must_change_pw: boolean }).must_change_pw).toBe(true)
})

test('every other API route is 403 password_change_required, even for an admin', async () => {
  const c = await t.user('admin', { username: 'rotate2', mustChangePw: true })
  const attempts: Array<[string, string, unknown?]> = [
    ['GET', '/api/admin/users'],
    ['GET', `/api/admin/users/${admin.userId}`],
    ['POST', '/api/admin/users', { username: 'sneaky', password: 'a long enough password', role: 'admin' }],
    ['PATCH', `/api/admin/users/${admin.userId}`, { role: 'user' }],
    ['GET', '/api/admin/audit'],
    ['GET', '/api/backends'],
  ]
  for (const [method, path, json] of attempts) {
    const res = await t.call(method, path, { as: c, json })
    expect([method, path, res.status]).toEqual([method, path, 403])
    expect(await errorCode(res)).toBe('password_change_required')
  }
  expect(await t.s.users.getByUsername('sneaky')).toBeNull()
  // Public endpoints and sign-out still work.
  expect((await t.call('GET', '/api/auth/config', { as: c })).status).toBe(200)
  expect((await t.call('POST', '/auth/logout', { as: c })).status).toBe(200)
})

test('changing the password lifts the gate for the same session', async () => {
  const c = await t.user('admin', { username: 'rotate3', mustChangePw: true })
  const res = await t.call('POST', '/api/me/password', { as: c, json: { current_password: PASSWORD, new_password: NEW } })
  expect(res.status).toBe(200)
  expect((await t.call('GET', '/api/admin/users', { as: c })).status).toBe(200)
  expect(((await (await t.call('GET', '/api/me', { as: c })).json()) as { must_change_pw: boolean }).must_change_pw).toBe(false)
  expect((await (await t.login('rotate3', NEW)).json()) as object).toMatchObject({ must_change_pw: false })
})

test('admin-created users must change their password by default', async () => {
  const created = await t.call('POST', '/api/admin/users', { as: admin, json: { username: 'newbie', password: PASSWORD, role: 'user' } })
  expect(created.status).toBe(201)
  expect(((await created.json()) as { must_change_pw: boolean }).must_change_pw).toBe(true)
  const login = await t.login('newbie', PASSWORD)
  expect(((await login.json()) as { must_change_pw: boolean }).must_change_pw).toBe(true)
  const cookie = cookiesOf(login)
  expect((await t.call('GET', '/api/backends', { headers: { cookie } })).status).toBe(403)
})

test('the gate follows the database, not the session: an admin reset sets it again', async () => {
  const c = await t.user('user', { username: 'reset-me' })
  expect((await t.call('GET', '/api/backends', { as: c })).status).toBe(200)
  await t.call('POST', `/api/admin/users/${c.userId}/reset-password`, { as: admin, json: { new_password: NEW } })
  const login = await t.login('reset-me', NEW)
  expect(((await login.json()) as { must_change_pw: boolean }).must_change_pw).toBe(true)
  expect((await t.call('GET', '/api/backends', { headers: { cookie: cookiesOf(login) } })).status).toBe(403)
})
