// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * OpenID Connect sign-in: authorization code + PKCE (S256) with `state` and
 * `nonce` (arctic builds the requests; jose verifies the ID token, see
 * id-token.ts), accounts provisioned by (issuer, subject), roles from a claim.
 *
 * Every refusal sends the browser back to `/login?error=<code>` and writes an
 * `auth.login` audit event with `source: oidc` and the reason (bad_state,
 * token_exchange_failed, invalid_id_token, no_role, disabled, …). Failed
 * callbacks count against the per-IP limit (`ratelimit.login_per_ip` per
 * `login_window`, its own counter beside the password form's); successful
 * sign-ins count nothing, so a household behind one address cannot lock
 * itself out by signing in.
 *
 * The access token is used at most once, for userinfo, and never stored; the
 * raw ID token is kept with the session only as `id_token_hint` for logout.
 */
import { CodeChallengeMethod, generateCodeVerifier, generateState, OAuth2Client, OAuth2RequestError, type OAuth2Tokens } from 'arctic'
import type { AuditOrigin } from '../../audit/model.ts'
import type { AuditRecorder } from '../../audit/recorder.ts'
import type { Config } from '../../config/schema.ts'
import { rateLimitKey } from '../../lib/cidr.ts'
import { SlidingWindowLimiter } from '../../lib/rate-limit.ts'
import type { Logger } from '../../lib/log.ts'
import type { Metrics } from '../../metrics/registry.ts'
import type { UserStore } from '../../users/store.ts'
import type { Actor } from '../actor.ts'
import type { Sessions } from '../sessions.ts'
import { sessionCookies } from '../routes.ts'
import { claimAt, claimValues, mapRole } from './claims.ts'
import type { DiscoveredProvider, Discovery, OidcStatus } from './discovery.ts'
import { IdTokenError, verifyIdToken } from './id-token.ts'
import { createPendingCodec, findPending, PENDING_TTL_MS, type Pending } from './pending.ts'
import { provisionUser } from './provision.ts'
import { externalBase, loginErrorPath, safeNextPath } from './urls.ts'

export const OIDC_START_PATH = '/auth/login/oidc'
export const OIDC_CALLBACK_PATH = '/auth/callback'
const EXCHANGE_TIMEOUT_MS = 10_000

type OidcConfig = Config['auth']['oidc']

/** What the browser gets: a redirect and the cookies to set on it. */
export type Redirect = { location: string; cookies: string[] }

/** The request facts the flow needs; the route builds them. */
export type OidcRequest = { req: Request; secure: boolean; origin: AuditOrigin; cookie: string | undefined }

export type CallbackQuery = { code?: string; state?: string; iss?: string; error?: string }

type Reason =
  'rate_limited' | 'provider_error' | 'bad_state' | 'bad_issuer' | 'unavailable' | 'token_exchange_failed' | 'invalid_id_token' | 'no_role' | 'disabled'

const SPA_CODE: Record<Reason, string> = {
  rate_limited: 'rate_limited',
  provider_error: 'oidc_failed',
  bad_state: 'oidc_failed',
  bad_issuer: 'oidc_failed',
  unavailable: 'oidc_unavailable',
  token_exchange_failed: 'oidc_failed',
  invalid_id_token: 'oidc_failed',
  no_role: 'oidc_no_role',
  disabled: 'account_disabled',
}

/** Our fault or the provider's (error) rather than the caller's (denied). */
const SYSTEM_FAILURES = new Set<Reason>(['unavailable', 'token_exchange_failed'])

class Refusal extends Error {
  constructor(
    readonly reason: Reason,
    readonly detail: Record<string, unknown> = {},
    readonly user?: { id: string; username: string },
  ) {
    super(reason)
  }
}

export type OidcDeps = {
  config: OidcConfig
  clientSecret: string | null
  publicUrl: string
  discovery: Discovery
  users: UserStore
  sessions: Sessions
  audit: AuditRecorder
  metrics: Metrics
  logger: Logger
  /** Remembers the groups of each sign-in: group grants apply to the groups of the latest one. */
  groups: { recordGroups(userId: string, groups: readonly string[]): Promise<void> }
  perIp: { limit: number; windowMs: number }
  now?: () => number
}

export type OidcService = ReturnType<typeof createOidcService>

function clip(s: unknown, n = 100): string {
  return String(s ?? '').slice(0, n)
}

export function createOidcService(d: OidcDeps) {
  const now = d.now ?? Date.now
  const cfg = d.config
  const pending = createPendingCodec({ now })
  const limiter = new SlidingWindowLimiter(d.perIp.limit, d.perIp.windowMs)
  const callbackUrl = (o: OidcRequest): string => externalBase(d.publicUrl, o.req, o.secure) + OIDC_CALLBACK_PATH
  const client = (redirectUri: string): OAuth2Client => new OAuth2Client(cfg.client_id, d.clientSecret, redirectUri)

  async function exchange(p: DiscoveredProvider, attempt: Pending, code: string): Promise<OAuth2Tokens> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('token endpoint timed out')), EXCHANGE_TIMEOUT_MS)
    })
    try {
      return await Promise.race([client(attempt.redirectUri).validateAuthorizationCode(p.metadata.token_endpoint, code, attempt.verifier), timeout])
    } catch (err) {
      const detail = err instanceof OAuth2RequestError ? { error: clip(err.code, 64) } : { error: clip((err as Error).message) }
      throw new Refusal('token_exchange_failed', detail)
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Some providers (Authelia by default) put only the required claims in the
   * ID token. When the role claim, username or email is missing there, ask
   * userinfo once and fill in only what is missing; its `sub` must match.
   */
  async function fillFromUserinfo(p: DiscoveredProvider, tokens: OAuth2Tokens, claims: Record<string, unknown>): Promise<Record<string, unknown>> {
    const endpoint = p.metadata.userinfo_endpoint
    const missing = claimAt(claims, cfg.role_claim) === undefined || claims.preferred_username === undefined || claims.email === undefined
    if (!endpoint || !missing) return claims
    let token: string
    try {
      token = tokens.accessToken()
    } catch {
      return claims
    }
    try {
      const res = await fetch(endpoint, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(5000) })
      if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) {
        await res.body?.cancel()
        return claims
      }
      const info = (await res.json()) as Record<string, unknown>
      if (!info || typeof info !== 'object' || info.sub !== claims.sub) return claims
      return { ...info, ...claims }
    } catch (err) {
      d.logger.warn('oidc userinfo failed; using the ID token claims only', { error: clip((err as Error).message) })
      return claims
    }
  }

  function refuse(r: Refusal, o: OidcRequest, attempt: Pending | undefined, remaining: Pending[]): Redirect {
    if (r.reason !== 'rate_limited') limiter.record(rateLimitKey(o.origin.ip))
    d.metrics.loginAttempts.inc({ mode: 'oidc', result: r.reason === 'rate_limited' ? 'rate_limited' : 'failure' })
    d.audit.record({
      ...o.origin,
      userId: r.user?.id ?? null,
      username: r.user?.username ?? null,
      action: 'auth.login',
      status: SYSTEM_FAILURES.has(r.reason) ? 'error' : 'denied',
      detail: { source: 'oidc', reason: r.reason, ...r.detail },
    })
    if (r.reason !== 'rate_limited' && r.reason !== 'bad_state') d.logger.info('oidc sign-in refused', { reason: r.reason, ...r.detail })
    const cookies = attempt ? [pending.cookie(remaining, o.secure)] : []
    return { location: loginErrorPath(SPA_CODE[r.reason], attempt?.next), cookies }
  }

  async function complete(
    q: CallbackQuery,
    o: OidcRequest,
    attempt: Pending,
  ): Promise<{ userId: string; username: string; identitySource: string; role: string; created: boolean; idToken: string }> {
    if (q.error) throw new Refusal('provider_error', { error: clip(q.error, 64) })
    if (q.iss !== undefined && q.iss !== cfg.issuer) throw new Refusal('bad_issuer')
    if (!q.code) throw new Refusal('provider_error', { error: 'missing_code' })
    let p: DiscoveredProvider
    try {
      p = await d.discovery.ensure()
    } catch (err) {
      throw new Refusal('unavailable', { error: (err as Error).message })
    }
    const tokens = await exchange(p, attempt, q.code)
    let idToken: string
    try {
      idToken = tokens.idToken()
    } catch {
      throw new Refusal('invalid_id_token', { check: 'missing' })
    }
    let verified: Record<string, unknown> & { sub: string }
    try {
      verified = await verifyIdToken(idToken, { keys: p.jwks, issuer: cfg.issuer, clientId: cfg.client_id, nonce: attempt.nonce, now })
    } catch (err) {
      if (err instanceof IdTokenError && err.check === 'keys_unavailable') throw new Refusal('unavailable', { error: 'signing keys could not be fetched' })
      throw new Refusal('invalid_id_token', { check: err instanceof IdTokenError ? err.check : 'malformed' })
    }
    const claims = (await fillFromUserinfo(p, tokens, verified)) as Record<string, unknown> & { sub: string }
    const values = claimValues(claimAt(claims, cfg.role_claim))
    const role = mapRole(values, cfg.role_mapping, cfg.default_role)
    if (!role) throw new Refusal('no_role', { sub: clip(claims.sub, 255), claim: cfg.role_claim, values: values.slice(0, 20).map((v) => clip(v)) })
    const result = await provisionUser(d.users, { issuer: cfg.issuer, claims, role, now: now() })
    if (!result.ok) throw new Refusal('disabled', { sub: clip(claims.sub, 255) }, result.user)
    if (result.emailDropped) d.logger.info('oidc email already used by another account; not stored', { user_id: result.user.id })
    await d.groups.recordGroups(result.user.id, values)
    return { userId: result.user.id, username: result.user.username, identitySource: result.user.identity_source, role, created: result.created, idToken }
  }

  return {
    status: (): OidcStatus => d.discovery.status(),

    /** GET /auth/login/oidc: remember a new attempt in the cookie and send the browser to the provider. */
    async start(rawNext: string | undefined, o: OidcRequest): Promise<Redirect> {
      const next = safeNextPath(rawNext)
      if (!limiter.check(rateLimitKey(o.origin.ip)).ok) return { location: loginErrorPath('rate_limited', next), cookies: [] }
      let p: DiscoveredProvider
      try {
        p = await d.discovery.ensure()
      } catch {
        return { location: loginErrorPath('oidc_unavailable', next), cookies: [] }
      }
      const attempt: Pending = {
        state: generateState(),
        verifier: generateCodeVerifier(),
        nonce: generateState(),
        next,
        redirectUri: callbackUrl(o),
        exp: now() + PENDING_TTL_MS,
      }
      const url = client(attempt.redirectUri).createAuthorizationURLWithPKCE(
        p.metadata.authorization_endpoint,
        attempt.state,
        CodeChallengeMethod.S256,
        attempt.verifier,
        [...cfg.scopes],
      )
      url.searchParams.set('nonce', attempt.nonce)
      return { location: url.toString(), cookies: [pending.cookie([...pending.read(o.cookie), attempt], o.secure)] }
    },

    /** GET /auth/callback: finish the attempt named by `state`, or refuse with a reason. */
    async callback(q: CallbackQuery, o: OidcRequest): Promise<Redirect> {
      const list = pending.read(o.cookie)
      const attempt = q.state ? findPending(list, q.state) : undefined
      const remaining = list.filter((p) => p !== attempt)
      const rl = limiter.check(rateLimitKey(o.origin.ip))
      if (!rl.ok) return refuse(new Refusal('rate_limited'), o, attempt, remaining)
      if (!attempt) return refuse(new Refusal('bad_state', { error: q.error ? clip(q.error, 64) : undefined }), o, undefined, list)
      let done: Awaited<ReturnType<typeof complete>>
      try {
        done = await complete(q, o, attempt)
      } catch (err) {
        if (err instanceof Refusal) return refuse(err, o, attempt, remaining)
        throw err
      }
      const session = await d.sessions.create(done.userId, done.identitySource, {
        ip: o.origin.ip ?? '',
        userAgent: o.origin.userAgent ?? null,
        endSessionHint: done.idToken,
      })
      d.metrics.loginAttempts.inc({ mode: 'oidc', result: 'success' })
      d.audit.record({
        ...o.origin,
        userId: done.userId,
        username: done.username,
        action: 'auth.login',
        detail: { source: 'oidc', role: done.role, ...(done.created ? { created: true } : {}) },
      })
      return {
        location: attempt.next,
        cookies: [...sessionCookies(session.token, session.csrf, session.expiresAt, o.secure), pending.cookie(remaining, o.secure)],
      }
    },

    /** RP-initiated logout: where to send the browser after our session ended, for SSO sessions when the provider offers it. */
    logoutUrl(actor: Actor, idTokenHint: string | null, req: Request, secure: boolean): string | undefined {
      if (!actor.identitySource.startsWith('oidc:')) return undefined
      const endpoint = d.discovery.current()?.metadata.end_session_endpoint
      if (!endpoint) return undefined
      const url = new URL(endpoint)
      if (idTokenHint) url.searchParams.set('id_token_hint', idTokenHint)
      url.searchParams.set('client_id', cfg.client_id)
      url.searchParams.set('post_logout_redirect_uri', externalBase(d.publicUrl, req, secure) + '/login')
      return url.toString()
    },
  }
}
