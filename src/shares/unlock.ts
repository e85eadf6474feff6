// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Security contract for share cookies (tests/shares/unlock.test.ts mirrors it
 * point by point):
 * 1. The signing key is HKDF(master key, "share-unlock"), so unlocks and grants
 *    survive restarts, and rotating the master key invalidates all of them. The
 *    master key itself never reaches this module. Without a master key a random
 *    per-process key is used (cookies then end with the process).
 * 2. The unlock cookie `stowage_share_unlock` is `<expiry>.<mac>`, where mac is
 *    HMAC-SHA256 over a purpose label, the share id, the code and the expiry. It
 *    is checked in constant time; a tampered, truncated or expired value counts
 *    as absent, never as an error.
 * 3. It is HttpOnly, SameSite=Lax, Path=/s/<code>, Secure when the client
 *    reached us over https (directly or via a trusted proxy), and lasts
 *    `shares.unlock_ttl`.
 * 4. Only the right password issues it. Wrong passwords are counted per
 *    (share, client IP); after `shares.wrong_password_limit` within 15 minutes
 *    unlocking answers 429 with Retry-After before any password is verified.
 * 5. A cookie for one share never opens another: the MAC binds the share id and
 *    code, and the browser only sends it under that share's path.
 * 6. Cookies never outlive the share: revocation, expiry and (for a new
 *    download) the cap are checked on every request, whatever the cookies say.
 * 7. The download grant `stowage_share_grant` is `<issued>.<expiry>.<mac>` under
 *    another purpose label, with the same attributes. It is set on a counted
 *    download (so only on a client that passed the password check) and lets the
 *    same browser go on fetching bytes — Range requests, the preview, the
 *    download button — without counting again and without the unlock cookie, for
 *    30 minutes after its last use and at most 24 hours after the counted
 *    request. It does not stand in for the unlock cookie on /info: reloading the
 *    page after `unlock_ttl` asks for the password again.
 * 8. Neither cookie carries the password, its hash or anything about where the
 *    share's bytes live.
 */
import { readCookie } from '../auth/guard.ts'
import { constantTimeEqual, hmacSha256 } from '../lib/crypto.ts'

export const UNLOCK_COOKIE = 'stowage_share_unlock'
export const GRANT_COOKIE = 'stowage_share_grant'
export const GRANT_IDLE_MS = 30 * 60_000
export const GRANT_MAX_MS = 24 * 60 * 60_000

export type CookieShare = { id: string; code: string }

export type ShareCookies = {
  /** Set-Cookie value for a successful unlock. */
  unlock(share: CookieShare, opts: { now: number; secure: boolean }): string
  isUnlocked(cookieHeader: string | null, share: CookieShare, now: number): boolean
  /** Set-Cookie value for a download grant first issued at `issued` (renewed on each use). */
  grant(share: CookieShare, opts: { issued: number; now: number; secure: boolean }): string
  /** When the live grant was first issued, or null without a live grant. */
  grantIssued(cookieHeader: string | null, share: CookieShare, now: number): number | null
}

const mac = (key: Uint8Array, parts: Array<string | number>): string => Buffer.from(hmacSha256(key, parts.join('\0'))).toString('base64url')

function attributes(code: string, maxAgeMs: number, secure: boolean): string {
  return `Path=/s/${code}; Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`
}

/** `key` is the derived share key; `unlockTtlMs` is `shares.unlock_ttl`. */
export function createShareCookies(key: Uint8Array, unlockTtlMs: number): ShareCookies {
  const NUM = /^\d{1,16}$/
  return {
    unlock(share, o) {
      const exp = o.now + unlockTtlMs
      return `${UNLOCK_COOKIE}=${exp}.${mac(key, ['unlock', share.id, share.code, exp])}; ${attributes(share.code, unlockTtlMs, o.secure)}`
    },
    isUnlocked(header, share, now) {
      const [exp, sig, extra] = (readCookie(header, UNLOCK_COOKIE) ?? '').split('.')
      if (!exp || !sig || extra !== undefined || !NUM.test(exp)) return false
      return constantTimeEqual(sig, mac(key, ['unlock', share.id, share.code, Number(exp)])) && Number(exp) > now
    },
    grant(share, o) {
      const exp = Math.min(o.now + GRANT_IDLE_MS, o.issued + GRANT_MAX_MS)
      return `${GRANT_COOKIE}=${o.issued}.${exp}.${mac(key, ['grant', share.id, share.code, o.issued, exp])}; ${attributes(share.code, exp - o.now, o.secure)}`
    },
    grantIssued(header, share, now) {
      const [issued, exp, sig, extra] = (readCookie(header, GRANT_COOKIE) ?? '').split('.')
      if (!issued || !exp || !sig || extra !== undefined || !NUM.test(issued) || !NUM.test(exp)) return null
      if (!constantTimeEqual(sig, mac(key, ['grant', share.id, share.code, Number(issued), Number(exp)]))) return null
      return Number(exp) > now && Number(issued) + GRANT_MAX_MS > now ? Number(issued) : null
    },
  }
}
