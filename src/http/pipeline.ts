// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The one path every dashboard request takes, each concern once and in this order:
 *
 * 1. the listener (listener.ts) gives the request its meta: id, client IP, https (context.ts);
 * 2. `fetch`: the in-flight gauge; HEAD is handed to the app as a GET (head.ts);
 * 3. inside the app, Elysia's hooks (plumbing.ts) refuse cross-site mutations and malformed
 *    percent-encoding, note the route template, parse the body under its cap and render errors;
 *    the guard (auth/guard.ts) resolves the actor, CSRF, role, rate limit and grants, and hands
 *    the handler the actor and its audit origin;
 * 4. back in `fetch`: the answer waits until the request's audit events are committed, gets the
 *    security headers and is counted in the dashboard's request statistics;
 * 5. `onDone`, when the listener has sent the last byte or the client left: Prometheus metrics
 *    and the access log.
 *
 * Tests call `fetch` directly (steps 2–4); `serve()` in server.ts adds the listener (1, 5).
 */
import type { AuditRecorder } from '../audit/recorder.ts'
import type { AppConfig } from '../config/load.ts'
import type { RequestStats } from '../dashboard/stats.ts'
import type { Logger } from '../lib/log.ts'
import type { Metrics } from '../metrics/registry.ts'
import type { RequestContext } from './context.ts'
import { errorResponse, type AppError } from './errors.ts'
import { handleHead } from './head.ts'
import type { ListenerHooks } from './listener.ts'
import { withSecurityHeaders } from './security-headers.ts'

export type Pipeline = { fetch(req: Request): Promise<Response> } & Required<ListenerHooks>

export function createPipeline(d: {
  handle: (req: Request) => Promise<Response>
  context: RequestContext
  audit: AuditRecorder
  metrics: Metrics
  stats: RequestStats
  logger: Logger
  accessLevel: AppConfig['log']['access_level']
  now: () => number
}): Pipeline {
  const m = d.metrics

  async function answer(req: Request, meta: ReturnType<RequestContext['meta']>): Promise<Response> {
    // Acknowledged means audited: the answer waits until the request's audit events are committed.
    const held = d.audit.hold(meta.id)
    try {
      const res = await (req.method === 'HEAD' ? handleHead(d.handle, d.context, req) : d.handle(req))
      return await held.durable().then(
        () => res,
        async (err: AppError) => {
          await res.body?.cancel()
          return errorResponse(err)
        },
      )
    } finally {
      held.release()
    }
  }

  return {
    async fetch(req) {
      const meta = d.context.meta(req)
      m.httpInFlight.inc()
      let res: Response
      try {
        res = withSecurityHeaders(await answer(req, meta), meta)
      } finally {
        m.httpInFlight.dec()
      }
      d.stats.record({
        method: req.method,
        route: meta.route,
        pathname: new URL(req.url).pathname,
        status: res.status,
        code: meta.errorCode,
        userId: meta.userId,
        at: d.now(),
      })
      return res
    },
    onDone(meta, info) {
      const route = meta.route ?? 'unmatched'
      m.httpRequests.inc({ method: info.method, route, status: String(info.status) })
      m.httpDuration.observe({ method: info.method, route }, info.durationMs / 1000)
      m.httpBytesOut.inc({ route }, info.bytesOut)
      if (d.accessLevel === 'off') return
      d.logger.log(d.accessLevel, 'request', {
        request_id: meta.id,
        listener: 'dashboard',
        method: info.method,
        route,
        status: info.status,
        duration_ms: Math.round(info.durationMs * 10) / 10,
        bytes_out: info.bytesOut,
        user_id: meta.userId,
        ip: meta.ip,
        ...(info.aborted ? { aborted: true } : {}),
      })
    },
  }
}
