// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The two browser-facing SSO routes. Both are top-level navigations, so every
 * outcome is a 302: to the provider, to `next`, or back to the login page with
 * `?error=<code>`. With OIDC not among `auth.modes` they answer 400
 * `mode_disabled` (JSON), since no page links to them then.
 */
import { Elysia, t } from 'elysia'
import type { RequestContext } from '../../http/context.ts'
import { fail } from '../../http/errors.ts'
import { auditOrigin } from '../../http/origin.ts'
import { readCookie, type Guard } from '../guard.ts'
import { PENDING_COOKIE } from './pending.ts'
import { OIDC_CALLBACK_PATH, OIDC_START_PATH, type OidcRequest, type OidcService, type Redirect } from './service.ts'

const Param = t.Optional(t.String({ maxLength: 4096 }))

const StartQuery = t.Object({
  next: t.Optional(t.String({ maxLength: 2048, description: 'Same-origin path to land on after sign-in; anything else becomes `/`.' })),
})
const CallbackQuery = t.Object(
  { code: Param, state: Param, iss: Param, error: Param, error_description: Param },
  { additionalProperties: true, description: 'The provider’s authorization response (RFC 6749 §4.1.2, RFC 9207 `iss`).' },
)
/** Documented rather than validated: the handlers return a bare 302 Response. */
const FOUND = { 302: { description: 'Redirect (see the `Location` header).' } }

function redirect(r: Redirect): Response {
  const headers = new Headers({ location: r.location, 'cache-control': 'no-store' })
  for (const c of r.cookies) headers.append('set-cookie', c)
  return new Response(null, { status: 302, headers })
}

export function oidcRoutes(d: { guard: Guard; context: RequestContext; oidc: OidcService | undefined }) {
  const facts = (request: Request): OidcRequest => ({
    req: request,
    secure: d.context.meta(request).secure,
    origin: auditOrigin(d.context, request),
    cookie: readCookie(request.headers.get('cookie'), PENDING_COOKIE),
  })
  const service = (): OidcService => {
    if (!d.oidc) throw fail('mode_disabled', 'Single sign-on is not enabled.')
    return d.oidc
  }

  return new Elysia()
    .use(d.guard)
    .get(OIDC_START_PATH, async ({ query, request }) => redirect(await service().start(query.next, facts(request))), {
      access: 'public',
      query: StartQuery,
      detail: { tags: ['auth'], summary: 'Begin single sign-on: redirects to the OpenID Provider (400 mode_disabled when OIDC is off)', responses: FOUND },
    })
    .get(OIDC_CALLBACK_PATH, async ({ query, request }) => redirect(await service().callback(query, facts(request))), {
      access: 'public',
      query: CallbackQuery,
      detail: { tags: ['auth'], summary: 'Single sign-on callback: starts a session and redirects to `next`, or to /login?error=<code>', responses: FOUND },
    })
}
