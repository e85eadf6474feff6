// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Builds SSO from the config for the composition root: the service (only when
 * `oidc` is among `auth.modes`), what `/api/auth/config` and `/readyz` say
 * about it, and the logout redirect.
 */
import type { AuditRecorder } from '../../audit/recorder.ts'
import type { AppConfig } from '../../config/load.ts'
import type { ReadinessCheck } from '../../health/routes.ts'
import type { RequestContext } from '../../http/context.ts'
import type { Logger } from '../../lib/log.ts'
import type { Metrics } from '../../metrics/registry.ts'
import type { UserStore } from '../../users/store.ts'
import type { Actor } from '../actor.ts'
import type { Sessions } from '../sessions.ts'
import { createDiscovery, type Discovery } from './discovery.ts'
import { createOidcService, OIDC_START_PATH, type OidcDeps, type OidcService } from './service.ts'

export type OidcAuthConfig = { start_url: string; available: boolean; display_name: string; error?: string }

export type Oidc = {
  /** Undefined when OIDC is not among `auth.modes`. */
  service: OidcService | undefined
  /** The `oidc` part of GET /api/auth/config. */
  authConfig(): OidcAuthConfig | undefined
  /** Critical only when SSO is the only way to sign in. */
  readiness(): ReadinessCheck[]
  logoutRedirect(actor: Actor, hint: string | null, req: Request): string | undefined
  close(): void
}

export function createOidc(
  config: AppConfig,
  d: {
    users: UserStore
    sessions: Sessions
    audit: AuditRecorder
    metrics: Metrics
    logger: Logger
    context: RequestContext
    access: OidcDeps['groups']
    now?: () => number
  },
): Oidc {
  const cfg = config.auth.oidc
  if (!config.auth.modes.includes('oidc')) {
    return { service: undefined, authConfig: () => undefined, readiness: () => [], logoutRedirect: () => undefined, close: () => {} }
  }
  const discovery: Discovery = createDiscovery({ issuer: cfg.issuer, logger: d.logger })
  discovery.start()
  const service = createOidcService({
    config: cfg,
    clientSecret: cfg.client_secret_env ? (config.secrets[cfg.client_secret_env] ?? null) : null,
    publicUrl: config.server.public_url,
    discovery,
    users: d.users,
    groups: d.access,
    sessions: d.sessions,
    audit: d.audit,
    metrics: d.metrics,
    logger: d.logger,
    perIp: { limit: config.ratelimit.login_per_ip, windowMs: config.ratelimit.login_window },
    now: d.now,
  })
  const staticOn = config.auth.static.enabled || config.auth.modes.includes('static')
  const only = config.auth.modes.every((m) => m === 'oidc') && !staticOn
  return {
    service,
    authConfig() {
      const s = discovery.status()
      return { start_url: OIDC_START_PATH, available: s.available, display_name: cfg.display_name, ...(s.error ? { error: s.error } : {}) }
    },
    readiness: () => [
      {
        name: 'oidc',
        critical: only,
        run: () => {
          const s = discovery.status()
          return s.available ? { ok: true } : { ok: false, reason: `single sign-on unavailable: ${s.error}` }
        },
      },
    ],
    logoutRedirect: (actor, hint, req) => service.logoutUrl(actor, hint, req, d.context.meta(req).secure),
    close: () => discovery.close(),
  }
}
