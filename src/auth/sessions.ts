// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Security contract for browser sessions (tests/auth/sessions.test.ts mirrors it):
 * 1. The cookie carries an opaque 160-bit random token; the database stores only
 *    its SHA-256, so a copy of the database cannot be replayed as cookies.
 * 2. A session ends at `created + auth.session.lifetime`, however active it is.
 * 3. A session unused for `auth.session.idle_timeout` ends; use slides this window.
 *    `last_seen_at` is written at most every min(idle/4, 60 s) to keep reads cheap.
 * 4. Each session has its own CSRF token; mutations must echo it in X-CSRF-Token and
 *    the `stowage_csrf` cookie, compared in constant time.
 * 5. Password change/reset, disable and delete revoke the user's other sessions.
 */
import type { Database } from '../db/database.ts'
import { randomToken, sha256Hex } from '../lib/crypto.ts'

export type Session = {
  id: string
  user_id: string
  identity_source: string
  csrf_token: string
  ip: string | null
  user_agent: string | null
  created_at: number
  last_seen_at: number
  expires_at: number
  end_session_hint: string | null
}

export type NewSession = { token: string; csrf: string; expiresAt: number; id: string }

export type Sessions = ReturnType<typeof createSessions>

export function createSessions(db: Database, opts: { lifetimeMs: number; idleMs: number; now?: () => number }) {
  const now = opts.now ?? Date.now
  const touchEvery = Math.min(opts.idleMs / 4, 60_000)
  const get = (id: string) => db.get<Session>('SELECT * FROM sessions WHERE id = ?', [id])
  const del = (id: string) => db.run('DELETE FROM sessions WHERE id = ?', [id])

  return {
    async create(userId: string, identitySource: string, ctx: { ip: string; userAgent: string | null; endSessionHint?: string }): Promise<NewSession> {
      const token = randomToken(20)
      const csrf = randomToken(20)
      const t = now()
      const id = sha256Hex(token)
      const expiresAt = t + opts.lifetimeMs
      await db.run(
        `INSERT INTO sessions (id, user_id, identity_source, csrf_token, ip, user_agent, created_at, last_seen_at, expires_at, end_session_hint)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [id, userId, identitySource, csrf, ctx.ip, ctx.userAgent?.slice(0, 512) ?? null, t, t, expiresAt, ctx.endSessionHint ?? null],
      )
      return { token, csrf, expiresAt, id }
    },

    /** The live session for a cookie token, or null (expired and idle sessions are deleted on sight). */
    async resolve(token: string | undefined): Promise<Session | null> {
      if (!token || token.length > 128) return null
      const id = sha256Hex(token)
      const s = await get(id)
      if (!s) return null
      const t = now()
      if (t >= s.expires_at || t - s.last_seen_at >= opts.idleMs) {
        await del(id)
        return null
      }
      if (t - s.last_seen_at >= touchEvery) {
        await db.run('UPDATE sessions SET last_seen_at = ? WHERE id = ?', [t, id])
        s.last_seen_at = t
      }
      return s
    },

    async endSessionHint(id: string): Promise<string | null> {
      return (await get(id))?.end_session_hint ?? null
    },

    async revoke(id: string): Promise<void> {
      await del(id)
    },

    revokeUser(userId: string, exceptId?: string): Promise<number> {
      return db.run('DELETE FROM sessions WHERE user_id = ? AND id != ?', [userId, exceptId ?? ''])
    },

    reap(): Promise<number> {
      const t = now()
      return db.run('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?', [t, t - opts.idleMs])
    },

    async countActive(): Promise<number> {
      return (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM sessions WHERE expires_at > ?', [now()]))!.n
    },
  }
}
