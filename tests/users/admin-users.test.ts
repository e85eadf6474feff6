// SPDX-License-Identifier: AGPL-3.0-or-later
/** /api/admin/users: list with filters and paging, create, get, patch, reset-password, unlock, delete. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from 'bun:test'
import { ulid } from '../../src/lib/ids.ts'
import { errorCode, PASSWORD, testApp, type Client, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

type UserDTO = {
  id: string
  username: string
  email?: string
  role: string
  identity_source: string
  enabled: boolean
  must_change_pw: boolean
  failed_attempts: number
  created_at: string
  last_login_at?: string
  locked_until?: string
}
type List = { users: UserDTO[]; total: number }

let t: TestApp
let admin: Client
beforeAll(async () => {
  t = await testApp()
  admin = await t.user('admin', { username: 'zz-admin' })
})
afterAll(() => t.close())

const list = async (query: string): Promise<List> => {
  const res = await t.call('GET', `/api/admin/users${query}`, { as: admin })
  expect(res.status).toBe(200)
  return (await res.json()) as List
}
const create = (json: Record<string, unknown>) => t.call('POST', '/api/admin/users', { as: admin, json })

describe('list', () => {
  beforeAll(async () => {
    const add = async (username: string, role: 'admin' | 'user' | 'readonly', extra: { email?: string; enabled?: boolean; source?: string } = {}) => {
      const id = ulid()
      await t.s.users.insert({
        id,
        username,
        email: extra.email ?? null,
        passwordHash: 'x',
        role,
        identitySource: extra.source ?? 'local',
        mustChangePw: false,
        createdBy: null,
        now: Date.now(),
      })
      if (extra.enabled === false) await t.s.users.update(id, { enabled: 0 })
    }
    await add('list-amy', 'user', { email: 'amy@corp.example' })
    await add('list-ben', 'readonly', { email: 'ben@home.example' })
    await add('list-cat', 'user', { enabled: false })
    await add('list-dan', 'admin')
    await add('list-eve', 'user', { source: 'oidc:idp.example' })
    await add('list_percent%', 'user')
  })

  test('everyone, sorted by username, with the total', async () => {
    const all = await list('')
    expect(all.total).toBe(all.users.length)
    // SQLite NOCASE order: case-folded, then byte order.
    expect(all.users.map((u) => u.username)).toEqual([...all.users.map((u) => u.username)].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)))
    const amy = all.users.find((u) => u.username === 'list-amy')!
    expect(amy).toMatchObject({ email: 'amy@corp.example', role: 'user', identity_source: 'local', enabled: true, must_change_pw: false, failed_attempts: 0 })
    expect(Date.parse(amy.created_at)).toBeGreaterThan(0)
    expect(JSON.stringify(all)).not.toContain('password_hash')
  })

  test('query matches username or email, case-insensitively; LIKE wildcards are literal', async () => {
    expect((await list('?query=LIST-A')).users.map((u) => u.username)).toEqual(['list-amy'])
    expect((await list('?query=home.example')).users.map((u) => u.username)).toEqual(['list-ben'])
    expect((await list('?query=%25')).users.map((u) => u.username)).toEqual(['list_percent%'])
    expect((await list('?query=_')).users.map((u) => u.username)).toEqual(['list_percent%'])
  })

  test('role, source and enabled filters', async () => {
    expect((await list('?query=list-&role=readonly')).users.map((u) => u.username)).toEqual(['list-ben'])
    expect((await list('?query=list-&role=admin')).users.map((u) => u.username)).toEqual(['list-dan'])
    expect((await list('?query=list-&source=oidc')).users.map((u) => u.username)).toEqual(['list-eve'])
    expect((await list('?query=list-&source=local')).users.map((u) => u.username)).toEqual(['list-amy', 'list-ben', 'list-cat', 'list-dan'])
    expect((await list('?query=list-&enabled=false')).users.map((u) => u.username)).toEqual(['list-cat'])
    expect((await list('?query=list-&enabled=true&role=user')).users.map((u) => u.username)).toEqual(['list-amy', 'list-eve'])
  })

  test('limit and offset page through; total counts the whole filter', async () => {
    const p1 = await list('?query=list-&limit=2')
    const p2 = await list('?query=list-&limit=2&offset=2')
    const p3 = await list('?query=list-&limit=2&offset=4')
    expect(p1.total).toBe(5)
    expect([...p1.users, ...p2.users, ...p3.users].map((u) => u.username)).toEqual(['list-amy', 'list-ben', 'list-cat', 'list-dan', 'list-eve'])
    expect(p3.users).toHaveLength(1)
    expect((await list('?query=list-&offset=50')).users).toEqual([])
  })

  test('bad filter values are 400', async () => {
    for (const q of ['?role=root', '?enabled=yes', '?limit=0', '?limit=501', '?offset=-1']) {
      const res = await t.call('GET', `/api/admin/users${q}`, { as: admin })
      expect([q, res.status]).toEqual([q, 400])
    }
  })
})

describe('create', () => {
  test('201 with the DTO; must_change_pw defaults to true; the user can sign in', async () => {
    const res = await create({ username: 'created1', email: 'c1@example.com', password: PASSWORD, role: 'readonly' })
    expect(res.status).toBe(201)
    const u = (await res.json()) as UserDTO
    expect(u).toMatchObject({
      username: 'created1',
      email: 'c1@example.com',
      role: 'readonly',
      identity_source: 'local',
      enabled: true,
      must_change_pw: true,
      failed_attempts: 0,
    })
    expect(u.id).toMatch(/^[0-9A-Z]{26}$/)
    expect((await t.login('created1', PASSWORD)).status).toBe(200)
  })

  test('must_change_pw false is honoured; an empty email means none', async () => {
    const u = (await (await create({ username: 'created2', email: '', password: PASSWORD, role: 'user', must_change_pw: false })).json()) as UserDTO
    expect(u.must_change_pw).toBe(false)
    expect(u.email).toBeUndefined()
  })

  test('invalid usernames, emails and roles are 400', async () => {
    for (const json of [
      { username: '-starts-with-dash', password: PASSWORD, role: 'user' },
      { username: 'has space', password: PASSWORD, role: 'user' },
      { username: 'x'.repeat(65), password: PASSWORD, role: 'user' },
      { username: 'okname', email: 'not-an-email', password: PASSWORD, role: 'user' },
      { username: 'okname', password: PASSWORD, role: 'superuser' },
      { username: 'okname', password: PASSWORD, role: 'user', extra: 'field', must_change_pw: 'yes' },
    ]) {
      const res = await create(json)
      expect([json, res.status]).toEqual([json, 400])
    }
  })
})

describe('get, patch, reset, unlock, delete', () => {
  test('get returns the user; an unknown id is 404 not_found', async () => {
    const u = await t.user('user', { username: 'getme' })
    const res = await t.call('GET', `/api/admin/users/${u.userId}`, { as: admin })
    expect(res.status).toBe(200)
    expect(((await res.json()) as UserDTO).username).toBe('getme')
    const missing = await t.call('GET', `/api/admin/users/${ulid()}`, { as: admin })
    expect(missing.status).toBe(404)
    expect(await errorCode(missing)).toBe('not_found')
  })

  test('patch changes role, enabled and email, and they take effect at once', async () => {
    const u = await t.user('user', { username: 'patchme' })
    const res = await t.call('PATCH', `/api/admin/users/${u.userId}`, { as: admin, json: { role: 'readonly', email: 'p@example.com' } })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ role: 'readonly', email: 'p@example.com', enabled: true })
    expect(((await (await t.call('GET', '/api/me', { as: u })).json()) as { role: string }).role).toBe('readonly')
    const clear = (await (await t.call('PATCH', `/api/admin/users/${u.userId}`, { as: admin, json: { email: '' } })).json()) as UserDTO
    expect(clear.email).toBeUndefined()
    const off = (await (await t.call('PATCH', `/api/admin/users/${u.userId}`, { as: admin, json: { enabled: false } })).json()) as UserDTO
    expect(off.enabled).toBe(false)
    expect((await t.login('patchme', PASSWORD)).status).toBe(401)
    await t.call('PATCH', `/api/admin/users/${u.userId}`, { as: admin, json: { enabled: true } })
    expect((await t.login('patchme', PASSWORD)).status).toBe(200)
  })

  test('patching an unknown id is 404', async () => {
    expect((await t.call('PATCH', `/api/admin/users/${ulid()}`, { as: admin, json: { role: 'user' } })).status).toBe(404)
  })

  test('reset-password sets a new password the user must change', async () => {
    const u = await t.user('user', { username: 'resetme' })
    const res = await t.call('POST', `/api/admin/users/${u.userId}/reset-password`, { as: admin, json: { new_password: 'the new admin-set password' } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
    expect((await t.login('resetme', PASSWORD)).status).toBe(401)
    const login = await t.login('resetme', 'the new admin-set password')
    expect(((await login.json()) as { must_change_pw: boolean }).must_change_pw).toBe(true)
  })

  test('reset-password refuses accounts of other identity sources', async () => {
    const id = ulid()
    await t.s.users.insert({
      id,
      username: 'oidc-person',
      email: null,
      passwordHash: null,
      role: 'user',
      identitySource: 'oidc:idp.example',
      mustChangePw: false,
      createdBy: null,
      now: Date.now(),
    })
    const res = await t.call('POST', `/api/admin/users/${id}/reset-password`, { as: admin, json: { new_password: 'some long new password' } })
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe('not_local')
  })

  test('unlock of an unknown id is 404', async () => {
    expect((await t.call('POST', `/api/admin/users/${ulid()}/unlock`, { as: admin })).status).toBe(404)
  })

  test('delete is 204, then the user is gone and cannot sign in', async () => {
    const u = await t.user('user', { username: 'deleteme' })
    const res = await t.call('DELETE', `/api/admin/users/${u.userId}`, { as: admin })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    expect((await t.call('GET', `/api/admin/users/${u.userId}`, { as: admin })).status).toBe(404)
    expect((await t.login('deleteme', PASSWORD)).status).toBe(401)
    expect((await t.call('DELETE', `/api/admin/users/${u.userId}`, { as: admin })).status).toBe(404)
  })
})
