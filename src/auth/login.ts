// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Username + password sign-in for local accounts and the static break-glass
 * admin. Every refusal looks the same to the caller (`invalid_credentials`,
 * after a full argon2 verify), including unknown users, OIDC users and
 * disabled accounts. Lockout counters are kept for unknown usernames too, so
 * "locked" does not reveal that an account exists.
 */
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import { fail } from '../http/errors.ts'
import { SlidingWindowLimiter } from '../lib/rate-limit.ts'
import type { Metrics } from '../metrics/registry.ts'
import type { UserStore } from '../users/store.ts'
import { STATIC_USER_ID } from './actor.ts'
import type { Passwords } from './password.ts'
import type { NewSession, Sessions } from './sessions.ts'

export type LoginResult = { session: NewSession; source: 'local' | 'static'; mustChangePw: boolean; userId: string }

export type LoginDeps = {
  users: UserStore
  sessions: Sessions
  passwords: Passwords
  audit: AuditRecorder
  metrics: Metrics
  localEnabled: boolean
  staticAdmin?: { username: string; passwordHash: string }
  lockout: { maxAttempts: number; windowMs: number }
  perIp: { limit: number; windowMs: number }
  now?: () => number
}

export type LoginService = ReturnType<typeof createLoginService>

export function createLoginService(d: LoginDeps) {
  const now = d.now ?? Date.now
  const ipLimiter = new SlidingWindowLimiter(d.perIp.limit, d.perIp.windowMs)
  /** Failures for names that are not real accounts (and the static admin), by lower-cased name. */
  const phantom = new Map<string, { count: number; lockedUntil: number }>()

  function phantomFailure(name: string): boolean {
    const key = name.toLowerCase()
    const e = phantom.get(key) ?? { count: 0, lockedUntil: 0 }
    e.count++
    if (e.count >= d.lockout.maxAttempts) e.lockedUntil = now() + d.lockout.windowMs
    phantom.delete(key)
    phantom.set(key, e)
    if (phantom.size > 10_000) phantom.delete(phantom.keys().next().value!)
    return e.lockedUntil > now()
  }
  const phantomLocked = (name: string): boolean => (phantom.get(name.toLowerCase())?.lockedUntil ?? 0) > now()

  function refuse(origin: AuditOrigin, username: string, reason: string, userId: string | null, mode: string): never {
    ipLimiter.record(origin.ip ?? '')
    d.metrics.loginAttempts.inc({ mode, result: 'failure' })
    d.audit.record({ ...origin, userId, username, action: 'auth.login', status: 'denied', detail: { reason, mode } })
    throw fail('invalid_credentials')
  }

  function lockedOut(origin: AuditOrigin, username: string, userId: string | null, mode: string): never {
    d.metrics.loginAttempts.inc({ mode, result: 'locked' })
    d.audit.record({ ...origin, userId, username, action: 'auth.login', status: 'denied', detail: { reason: 'locked', mode } })
    throw fail('account_locked')
  }

  return {
    async login(username: string, password: string, origin: AuditOrigin): Promise<LoginResult> {
      const ip = origin.ip ?? ''
      const rl = ipLimiter.check(ip)
      if (!rl.ok) {
        d.metrics.loginAttempts.inc({ mode: 'local', result: 'rate_limited' })
        d.audit.record({ ...origin, username, action: 'auth.login', status: 'denied', detail: { reason: 'rate_limited' } })
        throw fail('rate_limited', 'Too many sign-in attempts from your address; try again later.', undefined, { 'retry-after': String(rl.retryAfterSeconds) })
      }

      const st = d.staticAdmin
      if (st && username.toLowerCase() === st.username.toLowerCase()) {
        if (phantomLocked(username)) {
          await d.passwords.verifyDummy(password)
          lockedOut(origin, username, STATIC_USER_ID, 'static')
        }
        if (!(await d.passwords.verify(password, st.passwordHash))) {
          const locked = phantomFailure(username)
          if (locked) d.audit.record({ ...origin, userId: STATIC_USER_ID, username, action: 'auth.lockout', status: 'denied' })
          refuse(origin, username, 'bad_password', STATIC_USER_ID, 'static')
        }
        phantom.delete(username.toLowerCase())
        const session = d.sessions.create(STATIC_USER_ID, 'static', { ip, userAgent: origin.userAgent ?? null })
        d.metrics.loginAttempts.inc({ mode: 'static', result: 'success' })
        d.audit.record({ ...origin, userId: STATIC_USER_ID, username: st.username, action: 'auth.login', detail: { source: 'static' } })
        return { session, source: 'static', mustChangePw: false, userId: STATIC_USER_ID }
      }

      if (!d.localEnabled) throw fail('mode_disabled', 'Local sign-in is disabled.')
      const user = d.users.getByUsername(username)
      if (!user || !user.password_hash) {
        await d.passwords.verifyDummy(password)
        if (phantomLocked(username)) lockedOut(origin, username, user?.id ?? null, 'local')
        phantomFailure(username)
        refuse(origin, username, user ? 'not_local' : 'unknown_user', user?.id ?? null, 'local')
      }
      if (user.locked_until && user.locked_until > now()) {
        await d.passwords.verifyDummy(password)
        lockedOut(origin, username, user.id, 'local')
      }
      const ok = await d.passwords.verify(password, user.password_hash)
      if (!ok) {
        const { locked } = d.users.recordFailure(user.id, d.lockout.maxAttempts, now() + d.lockout.windowMs)
        if (locked) d.audit.record({ ...origin, userId: user.id, username: user.username, action: 'auth.lockout', status: 'denied', detail: { attempts: d.lockout.maxAttempts } })
        refuse(origin, username, 'bad_password', user.id, 'local')
      }
      if (user.enabled !== 1) refuse(origin, username, 'disabled', user.id, 'local')
      d.users.recordLogin(user.id, now())
      const session = d.sessions.create(user.id, user.identity_source, { ip, userAgent: origin.userAgent ?? null })
      d.metrics.loginAttempts.inc({ mode: 'local', result: 'success' })
      d.audit.record({ ...origin, userId: user.id, username: user.username, action: 'auth.login', detail: { source: 'local' } })
      return { session, source: 'local', mustChangePw: user.must_change_pw === 1, userId: user.id }
    },

    /** Lets tests and the admin "unlock" reach the in-memory counters too. */
    clearPhantom(username: string): void {
      phantom.delete(username.toLowerCase())
    },
  }
}

