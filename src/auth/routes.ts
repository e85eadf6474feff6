// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia } from 'elysia'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { RequestContext } from '../http/context.ts'
import { auditOrigin } from '../http/origin.ts'
import type { UserService } from '../users/service.ts'
import type { Actor } from './actor.ts'
import { CSRF_COOKIE, SESSION_COOKIE, checkCsrf, type Authenticator, type Guard } from './guard.ts'
import type { LoginService } from './login.ts'
import { AuthConfigDTO, ChangePasswordBody, LoginBody, LoginResponse, MeDTO, StatusOk } from './model.ts'
import type { Sessions } from './sessions.ts'

export type AuthConfigView = () => typeof AuthConfigDTO.static

export function meDTO(a: Actor): typeof MeDTO.static {
  return {
    id: a.id,
    username: a.username,
    role: a.role,
    identity_source: a.identitySource,
    must_change_pw: a.mustChangePw,
    ...(a.email ? { email: a.email } : {}),
  }
}

/** Session cookies: HttpOnly token, script-readable CSRF twin, both ending with the session. */
export function sessionCookies(token: string, csrf: string, expiresAt: number, secure: boolean): string[] {
  const attrs = `Path=/; Expires=${new Date(expiresAt).toUTCString()}; SameSite=Lax${secure ? '; Secure' : ''}`
  return [`${SESSION_COOKIE}=${token}; ${attrs}; HttpOnly`, `${CSRF_COOKIE}=${csrf}; ${attrs}`]
}

export function clearedSessionCookies(secure: boolean): string[] {
  const attrs = `Path=/; Max-Age=0; SameSite=Lax${secure ? '; Secure' : ''}`
  return [`${SESSION_COOKIE}=; ${attrs}; HttpOnly`, `${CSRF_COOKIE}=; ${attrs}`]
}

export function authRoutes(d: {
  guard: Guard
  context: RequestContext
  login: LoginService
  sessions: Sessions
  authn: Authenticator
  userService: UserService
  audit: AuditRecorder
  authConfig: AuthConfigView
  /** Where to send the browser after logout when the identity provider offers RP-initiated logout. */
  logoutRedirect?: (actor: Actor, sessionHint: string | null, request: Request) => string | undefined
}) {
  return new Elysia()
    .use(d.guard)
    .post(
      '/auth/login/local',
      async ({ body, request, set }) => {
        const origin = auditOrigin(d.context, request)
        const r = await d.login.login(body.username, body.password, origin)
        set.headers['set-cookie'] = sessionCookies(r.session.token, r.session.csrf, r.session.expiresAt, d.context.meta(request).secure) as unknown as string
        set.headers['cache-control'] = 'no-store'
        return { status: 'ok' as const, source: r.source, must_change_pw: r.mustChangePw }
      },
      { access: 'public', body: LoginBody, response: { 200: LoginResponse }, detail: { tags: ['auth'], summary: 'Sign in with a local or static account' } },
    )
    .post(
      '/auth/logout',
      async ({ request, set, actor, origin }) => {
        const secure = d.context.meta(request).secure
        set.headers['set-cookie'] = clearedSessionCookies(secure) as unknown as string
        if (!actor) return { status: 'ok' as const }
        checkCsrf(request, actor)
        const hint = await d.sessions.endSessionHint(actor.sessionId)
        await d.sessions.revoke(actor.sessionId)
        d.audit.record({ ...origin, action: 'auth.logout' })
        const redirect = d.logoutRedirect?.(actor, hint, request)
        return { status: 'ok' as const, ...(redirect ? { redirect } : {}) }
      },
      { access: 'public', detail: { tags: ['auth'], summary: 'End the session' } },
    )
    .get('/api/auth/config', () => d.authConfig(), {
      access: 'public',
      response: { 200: AuthConfigDTO },
      detail: { tags: ['auth'], summary: 'Enabled sign-in modes and the SSO start URL' },
    })
    .get('/api/me', ({ actor }) => meDTO(actor), { access: 'session', response: { 200: MeDTO }, detail: { tags: ['me'], summary: 'The signed-in user' } })
    .post(
      '/api/me/password',
      async ({ actor, body, origin }) => {
        await d.userService.changeOwnPassword(actor, body.current_password, body.new_password, origin)
        return { status: 'ok' as const }
      },
      {
        access: 'session',
        body: ChangePasswordBody,
        response: { 200: StatusOk },
        detail: { tags: ['me'], summary: 'Change your own password (ends your other sessions)' },
      },
    )
}
