// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Discovery never blocks boot and is never silent: with the provider down,
 * Stowage starts, /readyz and /api/auth/config say SSO is unavailable and
 * why, the SSO button leads back to the login page with `oidc_unavailable`;
 * once the provider is up, a click (or the background retry) makes it
 * available. Also: what the routes answer when OIDC is off, and the
 * readiness check's criticality.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { testApp, type TestApp } from '../../helpers/app.ts'
import { createTestProvider, type TestProvider } from '../../helpers/oidc-provider.ts'
import { CLIENT_ID, discovered, loginError, me, oidcConfig, provider, REDIRECT_URI, signIn, stowage } from './fixture.ts'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!()
})

async function readyz(t: TestApp): Promise<{ status: number; body: { status: string; checks: Record<string, { ok: boolean; reason?: string }> } }> {
  const res = await t.call('GET', '/readyz')
  return { status: res.status, body: (await res.json()) as never }
}

async function authConfig(t: TestApp): Promise<{ modes: string[]; oidc?: { start_url: string; available: boolean; display_name: string; error?: string } }> {
  return (await (await t.call('GET', '/api/auth/config')).json()) as never
}

describe('provider down at start-up', () => {
  test('Stowage starts, reports SSO unavailable, and recovers on the next click once the provider is up', async () => {
    const p = await provider({ stopped: true })
    cleanup.push(() => p.stop())
    const started = performance.now()
    const t = await stowage(p)
    cleanup.push(() => t.close())
    expect(performance.now() - started).toBeLessThan(2000)
    await Bun.sleep(50)

    const cfg = await authConfig(t)
    expect(cfg.oidc).toMatchObject({ start_url: '/auth/login/oidc', available: false, display_name: 'SSO' })
    expect(cfg.oidc!.error).toBe('the provider refused the connection')
    const ready = await readyz(t)
    // Local sign-in still works, so Stowage stays ready; the check says what is wrong.
    expect(ready.status).toBe(200)
    expect(ready.body.checks.oidc).toEqual({ ok: false, reason: 'single sign-on unavailable: the provider refused the connection' })
    await Bun.sleep(1100)
    expect(loginError(await t.call('GET', '/auth/login/oidc?next=/b/x'))).toBe('oidc_unavailable')

    await p.start()
    await Bun.sleep(1100)
    const res = await signIn(t, p, 'alice', { preferred_username: 'alice', groups: ['staff'] })
    expect((await me(t, res)).username).toBe('alice')
    expect((await authConfig(t)).oidc).toEqual({ start_url: '/auth/login/oidc', available: true, display_name: 'SSO' })
    expect((await readyz(t)).body.checks.oidc).toEqual({ ok: true })
  })

  test('the background retry finds the provider without anyone clicking', async () => {
    const p = await provider({ stopped: true })
    cleanup.push(() => p.stop())
    const t = await stowage(p)
    cleanup.push(() => t.close())
    await Bun.sleep(50)
    expect((await authConfig(t)).oidc!.available).toBe(false)
    await p.start()
    // First retry 1 s after the failure, then 2 s, 4 s …
    for (let i = 0; i < 40 && !(await authConfig(t)).oidc!.available; i++) await Bun.sleep(100)
    expect((await authConfig(t)).oidc!.available).toBe(true)
  })

  test('/readyz fails when SSO is the only way in', async () => {
    const p = await provider({ stopped: true })
    cleanup.push(() => p.stop())
    const doc = oidcConfig(p.issuer)
    ;(doc.auth as { modes: string[] }).modes = ['oidc']
    const t = await testApp(doc, { env: { OIDC_SECRET: 'x' } })
    cleanup.push(() => t.close())
    await Bun.sleep(50)
    const ready = await readyz(t)
    expect(ready.status).toBe(503)
    expect(ready.body.checks.oidc!.ok).toBe(false)
    await p.start()
    await Bun.sleep(1100)
    await t.call('GET', '/auth/login/oidc')
    expect((await readyz(t)).status).toBe(200)
  })

  test('an issuer that does not match the discovery document is reported, not used', async () => {
    const p = await provider()
    cleanup.push(() => p.stop())
    const t = await testApp(oidcConfig(p.issuer + '/'), { env: { OIDC_SECRET: 'x' } })
    cleanup.push(() => t.close())
    for (let i = 0; i < 100 && (await authConfig(t)).oidc!.error === 'discovery has not finished yet'; i++) await Bun.sleep(10)
    expect((await authConfig(t)).oidc).toMatchObject({
      available: false,
      error: `issuer mismatch: the provider calls itself "${p.issuer}", configured "${p.issuer}/"`,
    })
  })
})

describe('OIDC switched off', () => {
  test('both routes answer 400 mode_disabled and the config has no oidc block', async () => {
    const t = await testApp()
    cleanup.push(() => t.close())
    for (const path of ['/auth/login/oidc', '/auth/callback?code=x&state=y']) {
      const res = await t.call('GET', path)
      expect(res.status).toBe(400)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('mode_disabled')
    }
    const cfg = await authConfig(t)
    expect(cfg.oidc).toBeUndefined()
    expect((await readyz(t)).body.checks.oidc).toBeUndefined()
  })
})

describe('clients and claims', () => {
  let p: TestProvider

  test('a public client (no secret, PKCE only) signs in', async () => {
    p = await provider()
    cleanup.push(() => p.stop())
    const t = await stowage(p, { client_id: 'stowage-public', client_secret_env: '' })
    cleanup.push(() => t.close())
    await discovered(t)
    expect((await me(t, await signIn(t, p, 'pat', { preferred_username: 'pat', groups: ['staff'] }))).role).toBe('user')
  })

  test('roles from a nested claim (realm_access.roles, as Keycloak sends them)', async () => {
    p = await provider()
    cleanup.push(() => p.stop())
    const t = await stowage(p, { role_claim: 'realm_access.roles', role_mapping: { admin: ['stowage-admin'], user: [], readonly: ['stowage-view'] } })
    cleanup.push(() => t.close())
    await discovered(t)
    const admin = await signIn(t, p, 'kc-admin', {
      preferred_username: 'kc-admin',
      groups: ['viewers'],
      realm_access: { roles: ['offline_access', 'stowage-admin'] },
    })
    expect((await me(t, admin)).role).toBe('admin')
    const view = await signIn(t, p, 'kc-view', { preferred_username: 'kc-view', realm_access: { roles: ['stowage-view'] } })
    expect((await me(t, view)).role).toBe('readonly')
    // `groups` is not consulted when role_claim points elsewhere.
    expect(
      loginError(await signIn(t, p, 'kc-none', { preferred_username: 'kc-none', groups: ['stowage-admins'], realm_access: { roles: ['offline_access'] } })),
    ).toBe('oidc_no_role')
  })

  test('default_role admits users no mapping matches', async () => {
    p = await provider()
    cleanup.push(() => p.stop())
    const t = await stowage(p, { default_role: 'readonly', scopes: ['openid', 'profile', 'email'] })
    cleanup.push(() => t.close())
    await discovered(t)
    // Like Google: no groups claim at all.
    expect(await me(t, await signIn(t, p, 'gmail-user', { email: 'someone@gmail.example', email_verified: true }))).toMatchObject({
      role: 'readonly',
      username: 'someone@gmail.example',
    })
    expect(await me(t, await signIn(t, p, 'mapped', { preferred_username: 'mapped', groups: ['stowage-admins'] }))).toMatchObject({ role: 'readonly' })
  })

  test('claims only in userinfo (Authelia’s default) are filled in from userinfo', async () => {
    p = await createTestProvider({
      clients: [{ client_id: CLIENT_ID, client_secret: 'userinfo-secret', redirect_uris: [REDIRECT_URI] }],
      idTokenOnlyStandardClaims: true,
    })
    cleanup.push(() => p.stop())
    const t = await testApp(oidcConfig(p.issuer), { env: { OIDC_SECRET: 'userinfo-secret' } })
    cleanup.push(() => t.close())
    await discovered(t)
    const res = await signIn(t, p, 'authelia-user', {
      preferred_username: 'quinn',
      email: 'quinn@example.org',
      email_verified: true,
      groups: ['stowage-admins'],
    })
    expect(await me(t, res)).toMatchObject({ username: 'quinn', email: 'quinn@example.org', role: 'admin' })
  })
})
