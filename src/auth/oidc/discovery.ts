// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Finds the OpenID Provider's endpoints and keys, without ever blocking boot.
 *
 * Discovery runs in the background from start-up and, while the provider is
 * down, again after 1 s, 2 s, 4 s … capped at 60 s. A sign-in click retries at
 * once (coalesced, at most one attempt per second), so a provider that comes
 * back is usable before the next scheduled try. Until then `status()` says why
 * SSO is unavailable, for /readyz and the login page — the original disabled
 * OIDC silently when discovery failed at boot.
 *
 * Checks: the document's `issuer` must equal the configured issuer exactly
 * (OpenID Connect Discovery §4.3), the endpoints must be http(s) URLs, the
 * provider must allow the `code` flow and S256 PKCE when it lists what it
 * supports, and the JWKS must load. Keys are cached by jose for 10 minutes; an
 * ID token with an unknown `kid` refetches them (key rotation), at most once
 * per cooldown.
 */
import { createRemoteJWKSet } from 'jose'
import type { Logger } from '../../lib/log.ts'

export type ProviderMetadata = {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  jwks_uri: string
  userinfo_endpoint?: string
  end_session_endpoint?: string
}

export type DiscoveredProvider = {
  metadata: ProviderMetadata
  jwks: ReturnType<typeof createRemoteJWKSet>
}

export type OidcStatus = { available: boolean; error?: string }

export type Discovery = {
  /** Starts the background attempts (idempotent). */
  start(): void
  /** The provider if discovery has succeeded. */
  current(): DiscoveredProvider | undefined
  status(): OidcStatus
  /** The provider now, trying discovery at once if needed; throws with the reason when it stays unavailable. */
  ensure(): Promise<DiscoveredProvider>
  close(): void
}

export type DiscoveryOptions = {
  issuer: string
  logger: Logger
  /** How long after a JWKS fetch an unknown `kid` may trigger another (jose's default: 30 s). */
  jwksCooldownMs?: number
}

const BACKOFF_FIRST_MS = 1000
const BACKOFF_MAX_MS = 60_000
const ON_DEMAND_GAP_MS = 1000
const TIMEOUT_MS = 5000

export class DiscoveryError extends Error {}

/** `<issuer>/.well-known/openid-configuration`, with a trailing slash of the issuer removed first (Discovery §4). */
export function discoveryUrl(issuer: string): string {
  return issuer.replace(/\/$/, '') + '/.well-known/openid-configuration'
}

function httpUrl(v: unknown, name: string): string {
  if (typeof v !== 'string') throw new DiscoveryError(`the discovery document has no ${name}`)
  let u: URL
  try {
    u = new URL(v)
  } catch {
    throw new DiscoveryError(`${name} is not a URL`)
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new DiscoveryError(`${name} is not an http(s) URL`)
  return v
}

export function parseMetadata(doc: unknown, issuer: string): ProviderMetadata {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new DiscoveryError('the discovery document is not a JSON object')
  const d = doc as Record<string, unknown>
  if (d.issuer !== issuer)
    throw new DiscoveryError(`issuer mismatch: the provider calls itself ${JSON.stringify(String(d.issuer ?? ''))}, configured ${JSON.stringify(issuer)}`)
  const listed = (k: string): string[] | undefined => (Array.isArray(d[k]) ? (d[k] as unknown[]).map(String) : undefined)
  if (listed('response_types_supported') && !listed('response_types_supported')!.includes('code'))
    throw new DiscoveryError('the provider does not offer the authorization-code flow')
  if (listed('code_challenge_methods_supported') && !listed('code_challenge_methods_supported')!.includes('S256'))
    throw new DiscoveryError('the provider does not offer S256 PKCE')
  return {
    issuer,
    authorization_endpoint: httpUrl(d.authorization_endpoint, 'authorization_endpoint'),
    token_endpoint: httpUrl(d.token_endpoint, 'token_endpoint'),
    jwks_uri: httpUrl(d.jwks_uri, 'jwks_uri'),
    ...(d.userinfo_endpoint !== undefined ? { userinfo_endpoint: httpUrl(d.userinfo_endpoint, 'userinfo_endpoint') } : {}),
    ...(d.end_session_endpoint !== undefined ? { end_session_endpoint: httpUrl(d.end_session_endpoint, 'end_session_endpoint') } : {}),
  }
}

function describe(err: unknown): string {
  if (err instanceof DiscoveryError) return err.message
  const e = err as { name?: string; code?: string; message?: string }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'ERR_JWKS_TIMEOUT') return 'the provider did not answer in time'
  if (e?.code === 'ConnectionRefused' || e?.code === 'ECONNREFUSED') return 'the provider refused the connection'
  if (e?.code?.startsWith('ERR_JWKS') || e?.code?.startsWith('ERR_JOSE')) return 'the provider’s signing keys (JWKS) could not be loaded'
  return 'the provider could not be reached'
}

export function createDiscovery(o: DiscoveryOptions): Discovery {
  let provider: DiscoveredProvider | undefined
  let error: string | undefined = 'discovery has not finished yet'
  let inflight: Promise<DiscoveredProvider | undefined> | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let delay = BACKOFF_FIRST_MS
  let lastAttempt = 0
  let started = false
  let closed = false

  async function fetchProvider(): Promise<DiscoveredProvider> {
    const res = await fetch(discoveryUrl(o.issuer), { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS) })
    if (!res.ok) {
      await res.body?.cancel()
      throw new DiscoveryError(`the discovery document answered HTTP ${res.status}`)
    }
    const doc = await res.json().catch(() => {
      throw new DiscoveryError('the discovery document is not JSON')
    })
    const metadata = parseMetadata(doc, o.issuer)
    const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri), {
      timeoutDuration: TIMEOUT_MS,
      cooldownDuration: o.jwksCooldownMs ?? 30_000,
      cacheMaxAge: 10 * 60_000,
    })
    await jwks.reload()
    return { metadata, jwks }
  }

  function attempt(): Promise<DiscoveredProvider | undefined> {
    inflight ??= (async () => {
      lastAttempt = Date.now()
      try {
        provider = await fetchProvider()
        error = undefined
        if (timer) clearTimeout(timer)
        timer = undefined
        o.logger.info('oidc provider discovered', { issuer: o.issuer })
        return provider
      } catch (err) {
        error = describe(err)
        o.logger.warn('oidc discovery failed', { issuer: o.issuer, reason: error, retry_in_ms: delay })
        return undefined
      } finally {
        inflight = undefined
      }
    })()
    return inflight
  }

  function schedule(): void {
    if (closed || provider) return
    timer = setTimeout(async () => {
      timer = undefined
      delay = Math.min(delay * 2, BACKOFF_MAX_MS)
      if (!(await attempt())) schedule()
    }, delay)
    timer.unref?.()
  }

  return {
    start() {
      if (started) return
      started = true
      void attempt().then((p) => {
        if (!p) schedule()
      })
    },
    current: () => provider,
    status: () => (provider ? { available: true } : { available: false, error }),
    async ensure() {
      if (provider) return provider
      const p = inflight ? await inflight : Date.now() - lastAttempt >= ON_DEMAND_GAP_MS ? await attempt() : undefined
      if (p) return p
      throw new DiscoveryError(error ?? 'the provider could not be reached')
    },
    close() {
      closed = true
      if (timer) clearTimeout(timer)
      timer = undefined
    },
  }
}
