// SPDX-License-Identifier: AGPL-3.0-or-later
import type { AuditOrigin } from '../audit/model.ts'
import type { Actor } from '../auth/actor.ts'
import type { RequestContext } from './context.ts'

/** Who made a request and from where, for audit events. */
export function auditOrigin(ctx: RequestContext, req: Request, actor?: Actor | null): AuditOrigin {
  const meta = ctx.meta(req)
  return {
    userId: actor?.id ?? null,
    username: actor?.username ?? null,
    requestId: meta.id,
    ip: meta.ip,
    userAgent: req.headers.get('user-agent'),
  }
}

/**
 * Refuses cross-site mutations: a browser always sends Origin on cross-site
 * POST/PUT/PATCH/DELETE, and a forged page cannot make it match our host.
 * Non-browser clients without Origin pass here and still need the CSRF token.
 */
export function isCrossSite(req: Request, publicUrl: string): boolean {
  if (req.headers.get('sec-fetch-site') === 'cross-site') return true
  const origin = req.headers.get('origin')
  if (!origin) return false
  if (origin === 'null') return true
  let host: string
  try {
    host = new URL(origin).host
  } catch {
    return true
  }
  const own = req.headers.get('host') ?? new URL(req.url).host
  return host !== own && !(publicUrl && host === new URL(publicUrl).host)
}
