// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Single sign-on in a real browser (Debian's Chromium driven by
 * playwright-core) against a real OpenID Provider (oidc-provider on
 * loopback): the Stowage login page's SSO button, the provider's own login
 * form, the dashboard signed in; then sign-out through the provider's
 * RP-initiated logout back to Stowage's login page. Stowage runs on real
 * sockets (`serve()`), with `server.public_url` empty so the redirect URL is
 * derived from the request's Host.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { serve, type Running } from '../../src/server.ts'
import { testApp, type TestApp } from '../helpers/app.ts'
import { createTestProvider, freePort, type TestProvider } from '../helpers/oidc-provider.ts'
import { oidcConfig } from '../auth/oidc/fixture.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
]

let p: TestProvider
let t: TestApp
let running: Running
let browser: Browser
let page: Page
let home: string
let base: string

beforeAll(async () => {
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  p = await createTestProvider({
    clients: [
      { client_id: 'stowage', client_secret: 'browser-secret', redirect_uris: [`${base}/auth/callback`], post_logout_redirect_uris: [`${base}/login`] },
    ],
  })
  p.accounts.set('alice', { preferred_username: 'alice', email: 'alice@example.org', email_verified: true, groups: ['stowage-admins'] })
  t = await testApp(oidcConfig(p.issuer), { env: { OIDC_SECRET: 'browser-secret' } })
  running = await serve(t.s, { listen: `127.0.0.1:${port}` })
  home = mkdtempSync(join(tmpdir(), 'stowage-chromium-'))
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ARGS,
    env: {
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_CACHE_HOME: join(home, 'cache'),
      XDG_DATA_HOME: join(home, 'data'),
      PATH: process.env.PATH ?? '/usr/bin:/bin',
    },
  })
  page = await (await browser.newContext()).newPage()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await running?.stop()
  await p?.stop()
  rmSync(home, { recursive: true, force: true })
  rmSync(t.dir, { recursive: true, force: true })
})

test('signs in with SSO through the provider’s login form and lands on the dashboard', async () => {
  await page.goto(`${base}/admin/users`)
  await page.waitForURL((u) => u.pathname === '/login')
  const sso = page.getByRole('link', { name: 'Sign in with SSO' })
  await sso.waitFor()
  await sso.click()

  // The provider's own login page.
  await page.waitForURL((u) => u.origin === p.issuer)
  await page.locator('input[name="login"]').fill('alice')
  await page.locator('input[name="password"]').fill('whatever the provider accepts')
  await page.locator('button[type="submit"]').click()

  // Back at Stowage, signed in, on the page we first asked for.
  await page.waitForURL(`${base}/admin/users`)
  await page.getByRole('button', { name: 'alice Account menu' }).waitFor()
  const me = await page.evaluate(async () => (await fetch('/api/me')).json())
  expect(me).toMatchObject({ username: 'alice', role: 'admin', email: 'alice@example.org', identity_source: `oidc:127.0.0.1:${p.port}` })
}, 60_000)

test('signing out ends the session at Stowage and at the provider, then shows the login page', async () => {
  await page.getByRole('button', { name: 'alice Account menu' }).click()
  await page.getByRole('button', { name: 'Sign out' }).click()

  // oidc-provider asks for confirmation on its end_session page.
  await page.waitForURL((u) => u.origin === p.issuer)
  await page.getByRole('button', { name: 'Yes, sign me out' }).click()

  await page.waitForURL((u) => u.origin === base && u.pathname === '/login')
  await page.getByRole('link', { name: 'Sign in with SSO' }).waitFor()
  const status = await page.evaluate(async () => (await fetch('/api/me')).status)
  expect(status).toBe(401)
}, 60_000)
