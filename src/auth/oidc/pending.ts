// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The browser-side half of a sign-in in progress: `state`, the PKCE verifier,
 * the `nonce` and where to go afterwards live in one short-lived cookie,
 * HttpOnly, SameSite=Lax (sent on the provider's top-level redirect back to
 * us), limited to `/auth` and to 10 minutes. The value is HMAC-signed with a
 * per-process key, so it cannot be edited; a restart only costs sign-ins that
 * were half-way through.
 *
 * The cookie keeps the last three attempts, so two tabs signing in at once
 * do not break each other; an attempt is removed as soon as its callback is
 * handled, successful or not, so a callback URL cannot be replayed.
 */
import { randomBytes } from 'node:crypto'
import { constantTimeEqual, hmacSha256 } from '../../lib/crypto.ts'

export const PENDING_COOKIE = 'stowage_oidc'
export const PENDING_TTL_MS = 10 * 60_000
const MAX_PENDING = 3

export type Pending = {
  state: string
  verifier: string
  nonce: string
  /** Same-origin path to land on after sign-in. */
  next: string
  redirectUri: string
  /** Unix ms after which the attempt is void. */
  exp: number
}

export type PendingCodec = {
  read(value: string | undefined): Pending[]
  /** The Set-Cookie header carrying `list` (or clearing the cookie when it is empty). */
  cookie(list: Pending[], secure: boolean): string
}

function isPending(p: unknown): p is Pending {
  const o = p as Record<string, unknown>
  return !!o && ['state', 'verifier', 'nonce', 'next', 'redirectUri'].every((k) => typeof o[k] === 'string') && typeof o.exp === 'number'
}

export function createPendingCodec(opts: { now?: () => number; key?: Uint8Array } = {}): PendingCodec {
  const now = opts.now ?? Date.now
  const key = opts.key ?? randomBytes(32)
  const sign = (payload: string): string => Buffer.from(hmacSha256(key, payload)).toString('base64url')

  return {
    read(value) {
      if (!value || value.length > 4096) return []
      const dot = value.lastIndexOf('.')
      if (dot < 1 || !constantTimeEqual(value.slice(dot + 1), sign(value.slice(0, dot)))) return []
      let list: unknown
      try {
        list = JSON.parse(Buffer.from(value.slice(0, dot), 'base64url').toString('utf8'))
      } catch {
        return []
      }
      if (!Array.isArray(list)) return []
      const t = now()
      return list.filter((p): p is Pending => isPending(p) && p.exp > t).slice(-MAX_PENDING)
    },

    cookie(list, secure) {
      const attrs = `Path=/auth; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`
      const live = list.slice(-MAX_PENDING)
      if (live.length === 0) return `${PENDING_COOKIE}=; Max-Age=0; ${attrs}`
      const payload = Buffer.from(JSON.stringify(live)).toString('base64url')
      const maxAge = Math.max(1, Math.ceil((Math.max(...live.map((p) => p.exp)) - now()) / 1000))
      return `${PENDING_COOKIE}=${payload}.${sign(payload)}; Max-Age=${maxAge}; ${attrs}`
    },
  }
}

/** The attempt whose `state` matches, compared in constant time. */
export function findPending(list: Pending[], state: string): Pending | undefined {
  return list.find((p) => constantTimeEqual(p.state, state))
}
