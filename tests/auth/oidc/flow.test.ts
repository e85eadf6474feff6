// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Sign-in through a real OpenID Provider (oidc-provider on loopback): the
 * authorization request Stowage sends, sessions, role mapping (flat and
 * nested claims, no match, default role), provisioning (username collisions,
 * email kept in step, disabled accounts), `next`, and RP-initiated logout.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { TestApp } from '../../helpers/app.ts'
import type { TestProvider } from '../../helpers/oidc-provider.ts'
import { begin, clientFrom, discovered, lastLoginEvent, loginError, me, provider, signIn, stowage, POST_LOGOUT_URI } from './fixture.ts'

let p: TestProvider
let t: TestApp

beforeAll(async () => {
  p = await provider()
  t = await stowage(p)
  await discovered(t)
})
afterAll(async () => {
  await t.close()
  await p.stop()
})

describe('the authorization request', () => {
  test('is the code flow with S256 PKCE, state, nonce and our callback', async () => {
    const a = await begin(t)
    expect(a.location.origin + a.location.pathname).toBe(`${p.issuer}/auth`)
    const q = a.location.searchParams
    expect(q.get('response_type')).toBe('code')
    expect(q.get('client_id')).toBe('stowage')
    expect(q.get('redirect_uri')).toBe('http://localhost/auth/callback')
    expect(q.get('code_challenge_method')).toBe('S256')
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(q.get('state')!.length).toBeGreaterThanOrEqual(32)
    expect(q.get('nonce')!.length).toBeGreaterThanOrEqual(32)
    expect(q.get('scope')).toBe('openid profile email groups roles')
  })

  test('the attempt lives in a short-lived HttpOnly, SameSite=Lax cookie bound to /auth', async () => {
    const res = await t.call('GET', '/auth/login/oidc')
    const set = res.headers.getSetCookie().find((c) => c.startsWith('stowage_oidc='))!
    expect(set).toContain('HttpOnly')
    expect(set).toContain('SameSite=Lax')
    expect(set).toContain('Path=/auth;')
    expect(Number(/Max-Age=(\d+)/.exec(set)![1])).toBeLessThanOrEqual(600)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })
})

describe('sign-in', () => {
  test('creates a working session, with the role from `groups`', async () => {
    const res = await signIn(t, p, 'alice', { preferred_username: 'alice', email: 'alice@example.org', email_verified: true, groups: ['staff', 'unrelated'] })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/')
    const set = res.headers.getSetCookie()
    expect(set.find((c) => c.startsWith('stowage_session='))).toContain('HttpOnly')
    expect(set.find((c) => c.startsWith('stowage_oidc='))).toContain('Max-Age=0')
    const u = await me(t, res)
    expect(u).toMatchObject({ username: 'alice', role: 'user', email: 'alice@example.org', identity_source: `oidc:127.0.0.1:${p.port}`, must_change_pw: false })
    const ev = await lastLoginEvent(t)
    expect(ev).toMatchObject({ status: 'ok', username: 'alice', detail: { source: 'oidc', role: 'user', created: true } })
    // A mutation works too: the CSRF cookie came with the session.
    const c = clientFrom(res)
    const logout = await t.call('POST', '/auth/logout', { headers: { cookie: c.cookie, 'x-csrf-token': c.csrf } })
    expect(logout.status).toBe(200)
  })

  test('the first matching role in the order admin, user, readonly wins', async () => {
    const res = await signIn(t, p, 'bob', { preferred_username: 'bob', groups: ['viewers', 'stowage-admins', 'staff'] })
    expect((await me(t, res)).role).toBe('admin')
  })

  test('a single string claim value counts as one value', async () => {
    const res = await signIn(t, p, 'carol', { preferred_username: 'carol', groups: 'viewers' })
    expect((await me(t, res)).role).toBe('readonly')
  })

  test('the role is evaluated again at every sign-in', async () => {
    const first = await signIn(t, p, 'dave', { preferred_username: 'dave', groups: ['stowage-admins'] })
    expect((await me(t, first)).role).toBe('admin')
    const second = await signIn(t, p, 'dave', { preferred_username: 'dave', groups: ['viewers'] })
    expect((await me(t, second)).role).toBe('readonly')
    expect((await t.s.users.getByOidc(p.issuer, 'dave'))!.role).toBe('readonly')
  })

  test('no matching value refuses the sign-in with oidc_no_role and an audit event naming the values seen', async () => {
    const res = await signIn(t, p, 'eve', { preferred_username: 'eve', groups: ['nobody-maps-this'] }, '/b/local/photos')
    expect(loginError(res)).toBe('oidc_no_role')
    expect(new URL(res.headers.get('location')!, 'http://x').searchParams.get('next')).toBe('/b/local/photos')
    expect(res.headers.getSetCookie().some((c) => c.startsWith('stowage_session='))).toBe(false)
    expect(await t.s.users.getByOidc(p.issuer, 'eve')).toBeNull()
    expect(await lastLoginEvent(t)).toMatchObject({
      status: 'denied',
      detail: { source: 'oidc', reason: 'no_role', sub: 'eve', claim: 'groups', values: ['nobody-maps-this'] },
    })
  })

  test('a missing role claim refuses the sign-in too', async () => {
    const res = await signIn(t, p, 'frank', { preferred_username: 'frank' })
    expect(loginError(res)).toBe('oidc_no_role')
  })

  test('a disabled Stowage account cannot sign in through the provider', async () => {
    const ok = await signIn(t, p, 'grace', { preferred_username: 'grace', groups: ['staff'] })
    expect(ok.status).toBe(302)
    const id = (await t.s.users.getByOidc(p.issuer, 'grace'))!.id
    await t.s.users.update(id, { enabled: 0 })
    const res = await signIn(t, p, 'grace', { preferred_username: 'grace', groups: ['stowage-admins'] })
    expect(loginError(res)).toBe('account_disabled')
    expect(await lastLoginEvent(t)).toMatchObject({ status: 'denied', user_id: id, detail: { reason: 'disabled' } })
    // Still disabled, and the refused sign-in did not promote it.
    expect(await t.s.users.get(id)).toMatchObject({ enabled: 0, role: 'user' })
  })
})

describe('accounts', () => {
  test('a local account with the same username is never taken over: the SSO user gets a suffix', async () => {
    const local = await t.user('admin', { username: 'heidi' })
    const res = await signIn(t, p, 'heidi-sso', { preferred_username: 'heidi', groups: ['viewers'] })
    const u = await me(t, res)
    expect(u).toMatchObject({ username: 'heidi-2', role: 'readonly' })
    expect(u.id).not.toBe(local.userId)
    expect(await t.s.users.get(local.userId)).toMatchObject({ username: 'heidi', role: 'admin', identity_source: 'local' })
    // The suffixed name is stable across sign-ins.
    const again = await signIn(t, p, 'heidi-sso', { preferred_username: 'heidi', groups: ['viewers'] })
    expect((await me(t, again)).username).toBe('heidi-2')
  })

  test('the username falls back to the email, then to sub, and is made valid', async () => {
    const byEmail = await signIn(t, p, 'ivan', { email: 'ivan@example.org', groups: ['staff'] })
    expect((await me(t, byEmail)).username).toBe('ivan@example.org')
    const bySub = await signIn(t, p, 'judy sub/with spaces', { groups: ['staff'] })
    expect((await me(t, bySub)).username).toBe('judy-sub-with-spaces')
    const unicode = await signIn(t, p, 'kim', { preferred_username: '  Kïm Lee!', groups: ['staff'] })
    expect((await me(t, unicode)).username).toBe('K-m-Lee')
  })

  test('username and email follow the provider at each sign-in; unverified emails are not kept', async () => {
    const first = await signIn(t, p, 'lena', { preferred_username: 'lena', email: 'lena@old.example', email_verified: true, groups: ['staff'] })
    const id = (await me(t, first)).id as string
    const second = await signIn(t, p, 'lena', { preferred_username: 'lena.m', email: 'lena@new.example', email_verified: true, groups: ['staff'] })
    expect(await me(t, second)).toMatchObject({ id, username: 'lena.m', email: 'lena@new.example' })
    const third = await signIn(t, p, 'lena', { preferred_username: 'lena.m', email: 'lena@unverified.example', email_verified: false, groups: ['staff'] })
    const u = await me(t, third)
    expect(u.id).toBe(id)
    expect(u.email).toBeUndefined()
  })

  test('an email already used by another account is left off rather than merged', async () => {
    const local = await t.user('user', { username: 'mallory-local' })
    await t.s.users.update(local.userId, { email: 'shared@example.org' })
    const res = await signIn(t, p, 'mallory', { preferred_username: 'mallory', email: 'shared@example.org', email_verified: true, groups: ['staff'] })
    const u = await me(t, res)
    expect(u.email).toBeUndefined()
    expect(u.id).not.toBe(local.userId)
  })

  test('password routes refuse SSO users with not_local', async () => {
    const res = await signIn(t, p, 'niaj', { preferred_username: 'niaj', groups: ['staff'] })
    const c = clientFrom(res)
    const change = await t.call('POST', '/api/me/password', {
      headers: { cookie: c.cookie, 'x-csrf-token': c.csrf },
      json: { current_password: 'x', new_password: 'a long enough new password' },
    })
    expect(change.status).toBe(400)
    expect(((await change.json()) as { error: { code: string } }).error.code).toBe('not_local')
    const admin = await t.user('admin')
    const id = (await t.s.users.getByOidc(p.issuer, 'niaj'))!.id
    const reset = await t.call('POST', `/api/admin/users/${id}/reset-password`, { as: admin, json: { new_password: 'a long enough new password' } })
    expect(reset.status).toBe(400)
    expect(((await reset.json()) as { error: { code: string } }).error.code).toBe('not_local')
    const local = await t.login('niaj', 'anything at all')
    expect(local.status).toBe(401)
  })
})

describe('next', () => {
  test.each([
    ['/b/local/photos?x=1#top', '/b/local/photos?x=1#top'],
    ['/admin/users', '/admin/users'],
    ['https://evil.example/', '/'],
    ['//evil.example/path', '/'],
    ['/\\evil.example', '/'],
    ['/%5Cevil.example', '/%5Cevil.example'],
    ['javascript:alert(1)', '/'],
    ['/login', '/'],
    ['/ok\r\nset-cookie: x', '/'],
  ])('next=%p lands on %p', async (next, expected) => {
    const res = await signIn(t, p, 'olivia', { preferred_username: 'olivia', groups: ['staff'] }, next)
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe(expected)
  })
})

describe('logout', () => {
  test('ends the session and points the browser at the provider’s end_session_endpoint', async () => {
    const res = await signIn(t, p, 'peggy', { preferred_username: 'peggy', groups: ['staff'] })
    const c = clientFrom(res)
    const out = await t.call('POST', '/auth/logout', { headers: { cookie: c.cookie, 'x-csrf-token': c.csrf } })
    expect(out.status).toBe(200)
    const body = (await out.json()) as { status: string; redirect?: string }
    expect(body.status).toBe('ok')
    const url = new URL(body.redirect!)
    expect(url.origin + url.pathname).toBe(`${p.issuer}/session/end`)
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(POST_LOGOUT_URI)
    expect(url.searchParams.get('client_id')).toBe('stowage')
    expect(url.searchParams.get('id_token_hint')!.split('.')).toHaveLength(3)
    expect((await t.call('GET', '/api/me', { headers: { cookie: c.cookie } })).status).toBe(401)
    // The provider accepts the hint and offers the logout confirmation for this client.
    const page = await fetch(url, { redirect: 'manual' })
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('logout')
  })

  test('local sessions get no redirect', async () => {
    const c = await t.user('user')
    const out = await t.call('POST', '/auth/logout', { as: c })
    expect(await out.json()).toEqual({ status: 'ok' })
  })
})
