// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A Stowage test app wired to the real OpenID Provider of
 * tests/helpers/oidc-provider.ts, and the three legs of a sign-in as a test
 * drives them: Stowage's start route, the provider's login form, Stowage's
 * callback.
 */
import { expect } from 'bun:test'
import { cookiesOf, testApp, type Client, type TestApp } from '../../helpers/app.ts'
import { createTestProvider, type Claims, type TestProvider } from '../../helpers/oidc-provider.ts'

export const CLIENT_ID = 'stowage'
export const CLIENT_SECRET = 'stowage-test-secret'
export const REDIRECT_URI = 'http://localhost/auth/callback'
export const POST_LOGOUT_URI = 'http://localhost/login'

export const MAPPING = { admin: ['stowage-admins'], user: ['staff', 'stowage-users'], readonly: ['viewers'] }

export type OidcDoc = {
  role_claim?: string
  role_mapping?: Partial<typeof MAPPING>
  default_role?: string
  scopes?: string[]
  client_secret_env?: string
  client_id?: string
}

export function oidcConfig(issuer: string, o: OidcDoc = {}): Record<string, unknown> {
  return {
    auth: {
      modes: ['local', 'oidc'],
      oidc: {
        issuer,
        client_id: o.client_id ?? CLIENT_ID,
        client_secret_env: o.client_secret_env ?? 'OIDC_SECRET',
        scopes: o.scopes ?? ['openid', 'profile', 'email', 'groups', 'roles'],
        role_claim: o.role_claim ?? 'groups',
        role_mapping: { ...MAPPING, ...o.role_mapping },
        default_role: o.default_role ?? '',
        display_name: 'SSO',
      },
    },
  }
}

export async function provider(opts: Partial<Parameters<typeof createTestProvider>[0]> = {}): Promise<TestProvider> {
  return createTestProvider({
    clients: [
      { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [REDIRECT_URI], post_logout_redirect_uris: [POST_LOGOUT_URI] },
      { client_id: 'stowage-public', redirect_uris: [REDIRECT_URI], post_logout_redirect_uris: [POST_LOGOUT_URI] },
    ],
    ...opts,
  })
}

export async function stowage(p: { issuer: string }, o: OidcDoc = {}, extra: Record<string, unknown> = {}): Promise<TestApp> {
  const doc = oidcConfig(p.issuer, o)
  return testApp({ ...doc, ...extra, auth: { ...(doc.auth as object), ...((extra.auth as object) ?? {}) } }, { env: { OIDC_SECRET: CLIENT_SECRET } })
}

/** Waits until background discovery has found the provider (it never blocks createApp). */
export async function discovered(t: TestApp): Promise<void> {
  for (let i = 0; i < 200 && !t.s.oidc.authConfig()?.available; i++) await Bun.sleep(10)
  expect(t.s.oidc.authConfig()?.available).toBe(true)
}

export type Attempt = { location: URL; pending: string }

/** Leg 1: GET /auth/login/oidc → the provider's authorize URL and the pending-attempt cookie. */
export async function begin(t: TestApp, next?: string, cookie = ''): Promise<Attempt> {
  const res = await t.call('GET', `/auth/login/oidc${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`, { headers: cookie ? { cookie } : {} })
  expect(res.status).toBe(302)
  return { location: new URL(res.headers.get('location')!), pending: cookiesOf(res) }
}

/** Leg 3: GET /auth/callback with what the provider sent back, as the browser would (with the pending cookie). */
export function finish(t: TestApp, back: URL, pending: string): Promise<Response> {
  return t.call('GET', back.pathname + back.search, { headers: pending ? { cookie: pending } : {} })
}

/** All three legs for `account` with `claims`; returns Stowage's last answer. */
export async function signIn(t: TestApp, p: TestProvider, account: string, claims?: Claims, next?: string): Promise<Response> {
  if (claims) p.accounts.set(account, claims)
  const a = await begin(t, next)
  const back = await p.signIn(a.location.toString(), account)
  return finish(t, back, a.pending)
}

/** The session a successful callback set, as a test client. */
export function clientFrom(res: Response): Pick<Client, 'cookie' | 'csrf'> {
  const cookie = cookiesOf(res)
    .split('; ')
    .filter((c) => c.startsWith('stowage_session=') || c.startsWith('stowage_csrf='))
    .join('; ')
  const csrf = /stowage_csrf=([^;]+)/.exec(cookie)?.[1]
  if (!csrf) throw new Error(`no session cookies in ${res.status} → ${res.headers.get('location')}`)
  return { cookie, csrf }
}

export async function me(t: TestApp, res: Response): Promise<Record<string, unknown>> {
  const c = clientFrom(res)
  const r = await t.call('GET', '/api/me', { headers: { cookie: c.cookie } })
  expect(r.status).toBe(200)
  return (await r.json()) as Record<string, unknown>
}

/** Where a refused callback sent the browser: the login page's `error` code. */
export function loginError(res: Response): string | null {
  expect(res.status).toBe(302)
  const loc = new URL(res.headers.get('location')!, 'http://localhost')
  expect(loc.pathname).toBe('/login')
  return loc.searchParams.get('error')
}

export type AuditRow = { user_id: string | null; username: string | null; status: string; detail: Record<string, unknown> }

export async function lastLoginEvent(t: TestApp): Promise<AuditRow> {
  await t.s.audit.flush()
  const row = await t.s.db.get<{ user_id: string | null; username: string | null; status: string; detail: string | null }>(
    "SELECT user_id, username, status, detail FROM audit_events WHERE action = 'auth.login' ORDER BY id DESC LIMIT 1",
  )
  if (!row) throw new Error('no auth.login event')
  return { ...row, detail: JSON.parse(row.detail ?? '{}') as Record<string, unknown> }
}
