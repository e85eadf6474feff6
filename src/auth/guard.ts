// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Route access as data: every route declares `access` and this macro enforces
 * it before the body is validated, so anonymous callers learn nothing from
 * validation errors. Order: session (401) → CSRF on mutations (403) →
 * must-change-password gate (403) → role (403) → per-session rate limit (429).
 *
 * Routes that touch storage also declare `needs` (access/needs.ts): after
 * validation and before the handler, the caller's grants must cover what the
 * request names (403 `access_denied` or `read_only_access`); the handler gets
 * the decision as `granted`, for listings it must narrow.
 *
 * Handlers get `actor` and `origin` (who and from where, for audit events).
 */
import { Elysia } from 'elysia'
import { decide, type Decision } from '../access/decide.ts'
import type { Need, RequestParts } from '../access/needs.ts'
import type { AccessService } from '../access/service.ts'
import { fail } from '../http/errors.ts'
import { auditOrigin } from '../http/origin.ts'
import type { RequestContext } from '../http/context.ts'
import { constantTimeEqual } from '../lib/crypto.ts'
import { SlidingWindowLimiter } from '../lib/rate-limit.ts'
import type { UserStore } from '../users/store.ts'
import { resolveActor, type Actor } from './actor.ts'
import type { Sessions } from './sessions.ts'

/** public: anyone · session: signed in, even before a forced password change · any: any role · writer: admin or user · admin. */
export type Access = 'public' | 'session' | 'any' | 'writer' | 'admin'

export const SESSION_COOKIE = 'stowage_session'
export const CSRF_COOKIE = 'stowage_csrf'
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])
const ACTOR = Symbol('actor')

export type GuardDeps = {
  sessions: Sessions
  users: UserStore
  context: RequestContext
  staticUsername: string | undefined
  apiPerMinute: number
  seed: string
  access: AccessService
}

/** Marks a route's `needs` hook, so tests can list which routes declare one. */
export const NEEDS_TAG = Symbol.for('stowage.needs')

export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i > 0 && part.slice(0, i).trim() === name) {
      // A malformed %-escape is a bad cookie, not a server error: treat it as absent.
      try {
        return decodeURIComponent(part.slice(i + 1).trim())
      } catch {
        return undefined
      }
    }
  }
  return undefined
}

export type Authenticator = { actor(req: Request): Promise<Actor | null> }

export function createAuthenticator(deps: Omit<GuardDeps, 'apiPerMinute' | 'seed' | 'access'>): Authenticator {
  return {
    async actor(req) {
      const session = await deps.sessions.resolve(readCookie(req.headers.get('cookie'), SESSION_COOKIE))
      if (!session) return null
      const actor = await resolveActor(session, deps.users, deps.staticUsername)
      if (!actor) {
        await deps.sessions.revoke(session.id)
        return null
      }
      deps.context.meta(req).userId = actor.id
      return actor
    },
  }
}

export function checkCsrf(req: Request, actor: Actor): void {
  const header = req.headers.get('x-csrf-token') ?? ''
  const cookie = readCookie(req.headers.get('cookie'), CSRF_COOKIE) ?? ''
  if (!header || !constantTimeEqual(header, actor.csrf) || !constantTimeEqual(cookie, actor.csrf)) {
    throw fail('csrf_invalid')
  }
}

export function createGuard(deps: GuardDeps) {
  const auth = createAuthenticator(deps)
  const limiter = new SlidingWindowLimiter(deps.apiPerMinute, 60_000)
  return new Elysia({ name: 'stowage-guard', seed: deps.seed }).macro({
    // Arrow functions, not methods: Elysia's handler inference (sucrose) reads each hook's
    // source, and a method minified onto one line (`transform(a){…}`) breaks its parser, which
    // then prints a warning with the minified source to stdout in the compiled binary.
    access: (level: Access) => ({
      transform: async (ctx) => {
        const req = ctx.request
        if (level === 'public') {
          ;(ctx as Record<symbol, unknown>)[ACTOR] = await auth.actor(req)
          return
        }
        const actor = await auth.actor(req)
        if (!actor) throw fail('unauthorized')
        if (!SAFE.has(req.method)) checkCsrf(req, actor)
        if (actor.mustChangePw && level !== 'session') throw fail('password_change_required')
        if (level === 'writer' && actor.role === 'readonly') throw fail('forbidden')
        if (level === 'admin' && actor.role !== 'admin') throw fail('forbidden')
        const rl = limiter.hit(actor.sessionId)
        if (!rl.ok) throw fail('rate_limited', undefined, undefined, { 'retry-after': String(rl.retryAfterSeconds) })
        ;(ctx as Record<symbol, unknown>)[ACTOR] = actor
      },
      // Who and from where, for the audit events the handler records: made here once, not by each route.
      resolve: (ctx) => {
        const actor = (ctx as Record<symbol, unknown>)[ACTOR] as Actor
        return { actor, origin: auditOrigin(deps.context, ctx.request, actor) }
      },
    }),
    needs: (need: Need) => {
      // Named property reads, not `need(ctx)`: Elysia parses only the parts its hooks visibly use.
      const check = async (ctx: Omit<RequestParts, 'actor'>): Promise<{ granted: Decision }> => {
        const actor = (ctx as unknown as Record<symbol, unknown>)[ACTOR] as Actor | null | undefined
        if (!actor) throw fail('unauthorized')
        const wants = await need({ params: ctx.params, query: ctx.query, body: ctx.body, actor })
        return { granted: decide(await deps.access.viewFor(actor), wants) }
      }
      Object.assign(check, { [NEEDS_TAG]: need })
      return { resolve: check }
    },
  })
}

export type Guard = ReturnType<typeof createGuard>
