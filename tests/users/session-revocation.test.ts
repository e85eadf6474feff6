// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A password reset, password change, disable or delete ends that user's OTHER
 * sessions at once; a self-service change keeps the session that made it.
 */
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from 'bun:test'
import { cookiesOf, PASSWORD, testApp, type Client, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let t: TestApp
let admin: Client
beforeAll(async () => {
  t = await testApp()
  admin = await t.user('admin', { username: 'chief' })
})
afterAll(() => t.close())

/** A user signed in on two devices. */
async function twoSessions(username: string): Promise<{ a: Client; b: Client }> {
  const a = await t.user('user', { username })
  const cookie = cookiesOf(await t.login(username, PASSWORD))
  return { a, b: { ...a, cookie, csrf: /stowage_csrf=([^;]+)/.exec(cookie)![1]! } }
}
const alive = async (c: Client): Promise<boolean> => (await t.call('GET', '/api/me', { as: c })).status === 200
const sessionsOf = async (id: string): Promise<number> => (await t.s.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?', [id]))!.n

test('a self-service password change keeps the current session and ends the others', async () => {
  const { a, b } = await twoSessions('changer')
  expect(await alive(b)).toBe(true)
  expect((await t.call('POST', '/api/me/password', { as: a, json: { current_password: PASSWORD, new_password: 'another long passphrase' } })).status).toBe(200)
  expect(await alive(a)).toBe(true)
  expect(await alive(b)).toBe(false)
  expect(await sessionsOf(a.userId)).toBe(1)
})

test('a failed password change ends nothing', async () => {
  const { a, b } = await twoSessions('failchanger')
  expect((await t.call('POST', '/api/me/password', { as: a, json: { current_password: 'wrong', new_password: 'another long passphrase' } })).status).toBe(401)
  expect(await alive(a)).toBe(true)
  expect(await alive(b)).toBe(true)
})

test("an admin reset ends all of the user's sessions", async () => {
  const { a, b } = await twoSessions('resettee')
  expect((await t.call('POST', `/api/admin/users/${a.userId}/reset-password`, { as: admin, json: { new_password: 'admin chose this one' } })).status).toBe(200)
  expect(await alive(a)).toBe(false)
  expect(await alive(b)).toBe(false)
  expect(await sessionsOf(a.userId)).toBe(0)
  expect(await alive(admin)).toBe(true)
})

test('an admin resetting their own password keeps the session that did it', async () => {
  const self = await t.user('admin', { username: 'selfreset' })
  const other = cookiesOf(await t.login('selfreset', PASSWORD))
  expect((await t.call('POST', `/api/admin/users/${self.userId}/reset-password`, { as: self, json: { new_password: 'my own new password' } })).status).toBe(200)
  expect(await alive(self)).toBe(true)
  expect((await t.call('GET', '/api/me', { headers: { cookie: other } })).status).toBe(401)
})

test('disabling ends every session; re-enabling does not revive them', async () => {
  const { a, b } = await twoSessions('disablee')
  expect((await t.call('PATCH', `/api/admin/users/${a.userId}`, { as: admin, json: { enabled: false } })).status).toBe(200)
  expect(await sessionsOf(a.userId)).toBe(0)
  await t.call('PATCH', `/api/admin/users/${a.userId}`, { as: admin, json: { enabled: true } })
  expect(await alive(a)).toBe(false)
  expect(await alive(b)).toBe(false)
})

test('deleting ends every session', async () => {
  const { a, b } = await twoSessions('deletee')
  expect((await t.call('DELETE', `/api/admin/users/${a.userId}`, { as: admin })).status).toBe(204)
  expect(await sessionsOf(a.userId)).toBe(0)
  expect(await alive(a)).toBe(false)
  expect(await alive(b)).toBe(false)
})

test('a role change does not end sessions but applies on the next request', async () => {
  const { a } = await twoSessions('demotee')
  expect((await t.call('GET', '/api/backends', { as: a })).status).toBe(200)
  const promoted = await t.call('PATCH', `/api/admin/users/${a.userId}`, { as: admin, json: { role: 'admin' } })
  expect(promoted.status).toBe(200)
  expect((await t.call('GET', '/api/admin/users', { as: a })).status).toBe(200)
  await t.call('PATCH', `/api/admin/users/${a.userId}`, { as: admin, json: { role: 'readonly' } })
  expect((await t.call('GET', '/api/admin/users', { as: a })).status).toBe(403)
  expect(await alive(a)).toBe(true)
})

test("other users' sessions are never touched", async () => {
  const { a } = await twoSessions('bystander')
  const { a: target } = await twoSessions('target')
  await t.call('PATCH', `/api/admin/users/${target.userId}`, { as: admin, json: { enabled: false } })
  expect(await alive(a)).toBe(true)
})
