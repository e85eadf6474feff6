// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A real OpenID Provider (the `oidc-provider` package) on loopback for the
 * OIDC tests: discovery, JWKS, the authorization endpoint with its own login
 * form (devInteractions), PKCE-enforcing token endpoint, userinfo and
 * end_session. Accounts and their claims are whatever a test puts in
 * `accounts`. Consent is granted automatically (the scopes Stowage asks for),
 * so a sign-in is: authorize → login form → back to Stowage.
 *
 * The one part that is not the real provider: `tamper`. When a test sets it,
 * the real token endpoint still runs (code, PKCE and client checks included),
 * then the ID token in its answer is replaced by one re-signed from the real
 * claims after the test's edits (another audience, an expired `exp`, another
 * signing key). Those are ID tokens a correct provider would never mint.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose'
import type { Account, KoaContext } from 'oidc-provider'

export type Claims = Record<string, unknown>

export type Tamper = {
  /** Edits the verified claims of the real ID token before it is re-signed. */
  claims?: (c: JWTPayload) => JWTPayload
  /** Sign with this key instead of the provider's (with the provider's `kid` unless `kid` is given). */
  key?: CryptoKey
  kid?: string
}

export type TestProvider = {
  issuer: string
  port: number
  /** Account id (= `sub`) → the claims the provider releases for it. */
  accounts: Map<string, Claims>
  /** Set to re-sign the next ID tokens (see the module comment); null for the real thing. */
  tamper: Tamper | null
  /** Authorization requests seen, newest last (to check what Stowage sent). */
  authorizeRequests: URL[]
  /** Runs the provider on `port` (again, after stop). */
  start(): Promise<void>
  stop(): Promise<void>
  /**
   * Plays the browser at the provider: follows `authorizeUrl`, submits the login
   * form as `accountId`, and returns the URL the provider finally redirects to
   * (Stowage's callback with `code` and `state`, or with `error`).
   */
  signIn(authorizeUrl: string, accountId: string): Promise<URL>
  /** A JWT signed with the provider's own key (as its ID tokens are). */
  sign(claims: JWTPayload): Promise<string>
}

export type ClientSpec = { client_id: string; client_secret?: string; redirect_uris: string[]; post_logout_redirect_uris?: string[] }

/** oidc-provider warns on load and construction that it runs on Bun with development defaults; that is the point here. */
async function quietly<T>(make: () => T | Promise<T>): Promise<T> {
  const { warn, info } = console
  console.warn = console.info = () => {}
  try {
    return await make()
  } finally {
    console.warn = warn
    console.info = info
  }
}

const { default: Provider } = await quietly(() => import('oidc-provider'))

export async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

export async function createTestProvider(opts: {
  clients: ClientSpec[]
  port?: number
  /** oidc-provider's default (true) puts scope claims in userinfo only, as Authelia does; false puts them in the ID token too. */
  idTokenOnlyStandardClaims?: boolean
  /** Leave it stopped (a provider that is down when Stowage starts). */
  stopped?: boolean
  /** Key id of the signing key; a new provider with another kid on the same port is a key rotation. */
  kid?: string
}): Promise<TestProvider> {
  const port = opts.port ?? (await freePort())
  const issuer = `http://127.0.0.1:${port}`
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid: opts.kid ?? 'stowage-test-1', alg: 'RS256', use: 'sig' }
  const accounts = new Map<string, Claims>()
  const authorizeRequests: URL[] = []

  const provider = await quietly(
    () =>
      new Provider(issuer, {
        clients: opts.clients.map((c) => ({
          client_id: c.client_id,
          ...(c.client_secret ? { client_secret: c.client_secret, token_endpoint_auth_method: 'client_secret_basic' } : { token_endpoint_auth_method: 'none' }),
          redirect_uris: c.redirect_uris,
          post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        })),
        jwks: { keys: [jwk] },
        ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
        cookies: { keys: ['stowage-test-cookie-key'] },
        pkce: { required: () => true },
        conformIdTokenClaims: opts.idTokenOnlyStandardClaims ?? false,
        scopes: ['openid', 'profile', 'email', 'groups', 'roles', 'offline_access'],
        claims: {
          openid: ['sub'],
          profile: ['preferred_username', 'name'],
          email: ['email', 'email_verified'],
          groups: ['groups'],
          roles: ['realm_access'],
        },
        features: {
          devInteractions: { enabled: true },
          rpInitiatedLogout: {
            enabled: true,
            async logoutSource(ctx: KoaContext, form: string) {
              ctx.body = `<!doctype html><title>Sign out</title><h1>Sign out of the test provider?</h1>${form}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`
            },
          },
        },
        async findAccount(_ctx: unknown, id: string): Promise<Account> {
          const claims = accounts.get(id) ?? {}
          return { accountId: id, claims: async () => ({ ...claims, sub: id }) }
        },
        async loadExistingGrant(ctx: KoaContext) {
          const oidc = ctx.oidc
          const existing = oidc.result?.consent?.grantId || oidc.session!.grantIdFor(oidc.client!.clientId)
          if (existing) return oidc.provider.Grant.find(existing)
          const grant = new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session!.accountId! })
          grant.addOIDCScope(String(oidc.params!.scope ?? 'openid'))
          await grant.save()
          return grant
        },
      }),
  )

  const tp: TestProvider = {
    issuer,
    port,
    accounts,
    tamper: null,
    authorizeRequests,
    start,
    stop,
    signIn,
    sign: (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: jwk.kid!, typ: 'JWT' }).sign(privateKey),
  }

  provider.use(async (ctx, next) => {
    if (ctx.path === '/auth' && ctx.method === 'GET') authorizeRequests.push(new URL(ctx.href))
    await next()
    const tamper = tp.tamper
    if (!tamper || ctx.path !== '/token' || ctx.status !== 200) return
    const body = ctx.body as { id_token?: string }
    if (!body?.id_token) return
    const claims = (tamper.claims ?? ((c) => c))(decodeJwt(body.id_token))
    const key = tamper.key ?? privateKey
    body.id_token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: tamper.kid ?? jwk.kid!, typ: 'JWT' }).sign(key)
  })

  let server: Server | undefined
  async function start(): Promise<void> {
    server = createServer(provider.callback())
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject)
      server!.listen(port, '127.0.0.1', () => resolve())
    })
  }
  async function stop(): Promise<void> {
    const s = server
    server = undefined
    if (!s) return
    s.closeAllConnections()
    await new Promise<void>((r) => s.close(() => r()))
  }

  async function signIn(authorizeUrl: string, accountId: string): Promise<URL> {
    const jar = new Map<string, string>()
    const cookieHeader = (): string => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const remember = (res: Response): void => {
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';')
        const i = pair!.indexOf('=')
        jar.set(pair!.slice(0, i), pair!.slice(i + 1))
      }
    }
    let url = new URL(authorizeUrl)
    let method = 'GET'
    let body: string | undefined
    for (let hop = 0; hop < 10; hop++) {
      if (url.origin !== issuer) return url
      const res = await fetch(url, {
        method,
        redirect: 'manual',
        headers: { cookie: cookieHeader(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        body,
      })
      remember(res)
      method = 'GET'
      body = undefined
      const location = res.headers.get('location')
      if (location) {
        await res.body?.cancel()
        url = new URL(location, url)
        continue
      }
      const html = await res.text()
      const action = /<form[^>]*action="([^"]+)"[^>]*method="post"/.exec(html)?.[1]
      if (!action || !html.includes('name="login"')) throw new Error(`provider answered ${res.status} without a login form: ${html.slice(0, 400)}`)
      url = new URL(action.replace(/&amp;/g, '&'), url)
      method = 'POST'
      body = new URLSearchParams({ prompt: 'login', login: accountId, password: 'any' }).toString()
    }
    throw new Error('too many redirects at the provider')
  }

  if (!opts.stopped) await start()
  return tp
}
