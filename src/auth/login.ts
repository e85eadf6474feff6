// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Username + password sign-in for local accounts and the static break-glass
 * admin. Every refusal looks the same to the caller (`invalid_credentials`,
 * after a full argon2 verify), including unknown users, OIDC users and
 * disabled accounts. Lockout counters are kept for unknown usernames too, so
 * "locked" does not reveal that an account exists. Attempts are counted (per
 * IP and per account) before the slow verify, so a burst of concurrent
 * guesses gets no more tries than a sequence would.
 */
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import { fail } from '../http/errors.ts'
import { rateLimitKey } from '../lib/cidr.ts'
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
  const max = d.lockout.maxAttempts
  const ipLimiter = new SlidingWindowLimiter(d.perIp.limit, d.perIp.windowMs)
  /** Failures for names that are not real accounts (and the static admin), by lower-cased name. */
  const phantom = new Map<string, { count: number; lockedUntil: number }>()

  /** Counts an attempt against a name without an account row; an expired lock starts a fresh count. */
  function phantomAttempt(name: string): number {
    const key = name.toLowerCase()
    const t = now()
    const old = phantom.get(key)
    const e = old && !(old.lockedUntil && old.lockedUntil <= t) ? old : { count: 0, lockedUntil: 0 }
    e.count++
    if (e.count >= max) e.lockedUntil = t + d.lockout.windowMs
    phantom.delete(key)
    phantom.set(key, e)
    if (phantom.size > 10_000) phantom.delete(phantom.keys().next().value!)
    return e.count
  }
  const phantomLocked = (name: string): boolean => (phantom.get(name.toLowerCase())?.lockedUntil ?? 0) > now()

  function refuse(origin: AuditOrigin, username: string, reason: string, userId: string | null, mode: string): never {
    d.metrics.loginAttempts.inc({ mode, result: 'failure' })
    d.audit.record({ ...origin, userId, username, action: 'auth.login', status: 'denied', detail: { reason, mode } })
    throw fail('invalid_credentials')
  }

  /** Refuses a locked account after the same argon2 work as any other attempt. */
  async function lockedOut(password: string, origin: AuditOrigin, username: string, userId: string | null, mode: string): Promise<never> {
    await d.passwords.verifyDummy(password)
    d.metrics.loginAttempts.inc({ mode, result: 'locked' })
    d.audit.record({ ...origin, userId, username, action: 'auth.login', status: 'denied', detail: { reason: 'locked', mode } })
    throw fail('account_locked')
  }

  const lockoutEvent = (origin: AuditOrigin, username: string, userId: string | null): void =>
    void d.audit.record({ ...origin, userId, username, action: 'auth.lockout', status: 'denied', detail: { attempts: max } })

  /**
   * A name without an account row (unknown, OIDC-only, or any name when only the
   * static admin may sign in): the same work, counters and answers as a real account.
   */
  async function phantomRefusal(password: string, origin: AuditOrigin, username: string, userId: string | null, reason: string, mode: string): Promise<never> {
    if (phantomLocked(username)) return lockedOut(password, origin, username, userId, mode)
    const attempts = phantomAttempt(username)
    if (attempts > max) return lockedOut(password, origin, username, userId, mode)
    await d.passwords.verifyDummy(password)
    if (attempts === max) lockoutEvent(origin, username, userId)
    return refuse(origin, username, reason, userId, mode)
  }

  return {
    /**
     * Every attempt is counted (per IP and per account) before the slow
     * password check, so concurrent guesses cannot all slip past the limits;
     * a success gives its count back.
     */
    async login(username: string, password: string, origin: AuditOrigin): Promise<LoginResult> {
      const ip = origin.ip ?? ''
      const ipKey = rateLimitKey(ip)
      const rl = ipLimiter.hit(ipKey, now())
      if (!rl.ok) {
        d.metrics.loginAttempts.inc({ mode: 'local', result: 'rate_limited' })
        d.audit.record({ ...origin, username, action: 'auth.login', status: 'denied', detail: { reason: 'rate_limited' } })
        throw fail('rate_limited', 'Too many sign-in attempts from your address; try again later.', undefined, { 'retry-after': String(rl.retryAfterSeconds) })
      }

      const st = d.staticAdmin
      if (st && username.toLowerCase() === st.username.toLowerCase()) {
        if (phantomLocked(username)) return lockedOut(password, origin, username, STATIC_USER_ID, 'static')
        const attempts = phantomAttempt(username)
        if (attempts > max) return lockedOut(password, origin, username, STATIC_USER_ID, 'static')
        if (!(await d.passwords.verify(password, st.passwordHash))) {
          if (attempts === max) lockoutEvent(origin, username, STATIC_USER_ID)
          refuse(origin, username, 'bad_password', STATIC_USER_ID, 'static')
        }
        phantom.delete(username.toLowerCase())
        ipLimiter.release(ipKey, now())
        const session = await d.sessions.create(STATIC_USER_ID, 'static', { ip, userAgent: origin.userAgent ?? null })
        d.metrics.loginAttempts.inc({ mode: 'static', result: 'success' })
        d.audit.record({ ...origin, userId: STATIC_USER_ID, username: st.username, action: 'auth.login', detail: { source: 'static' } })
        return { session, source: 'static', mustChangePw: false, userId: STATIC_USER_ID }
      }

      if (!d.localEnabled) {
        if (!st) throw fail('mode_disabled', 'Local sign-in is disabled.')
        // Only the static admin can sign in here. Other names must look like a wrong password,
        // or the different answer would reveal which name is the break-glass admin's.
        return phantomRefusal(password, origin, username, null, 'unknown_user', 'static')
      }
      const user = await d.users.getByUsername(username)
      if (!user || !user.password_hash) return phantomRefusal(password, origin, username, user?.id ?? null, user ? 'not_local' : 'unknown_user', 'local')
      if (user.locked_until && user.locked_until > now()) return lockedOut(password, origin, username, user.id, 'local')
      const attempts = await d.users.recordFailure(user.id, max, now(), d.lockout.windowMs)
      if (attempts > max) return lockedOut(password, origin, username, user.id, 'local')
      const ok = await d.passwords.verify(password, user.password_hash)
      // A disabled account counts every attempt, right password or not: otherwise "never locks" would confirm a guessed password.
      if (!ok || user.enabled !== 1) {
        if (attempts === max) lockoutEvent(origin, user.username, user.id)
        refuse(origin, username, ok ? 'disabled' : 'bad_password', user.id, 'local')
      }
      await d.users.recordLogin(user.id, now())
      ipLimiter.release(ipKey, now())
      const session = await d.sessions.create(user.id, user.identity_source, { ip, userAgent: origin.userAgent ?? null })
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
