// SPDX-License-Identifier: AGPL-3.0-or-later
import type { Database } from 'bun:sqlite'
import type { Role } from '../auth/roles.ts'
import type { UserRow } from './model.ts'

export type UserFilter = { query?: string; role?: Role; source?: string; enabled?: boolean; limit: number; offset: number }
export type NewUser = {
  id: string
  username: string
  email: string | null
  passwordHash: string | null
  role: Role
  identitySource: string
  oidcIssuer?: string | null
  oidcSubject?: string | null
  mustChangePw: boolean
  createdBy: string | null
  now: number
}

/** What the identity provider says about a user at sign-in; the caller has already made username and email free. */
export type OidcIdentity = {
  issuer: string
  subject: string
  identitySource: string
  username: string
  email: string | null
  role: Role
  now: number
}

export type UserStore = ReturnType<typeof createUserStore>

export function createUserStore(db: Database) {
  const byId = db.query<UserRow, [string]>('SELECT * FROM users WHERE id = ?')
  const byName = db.query<UserRow, [string]>('SELECT * FROM users WHERE username = ?')
  const byEmail = db.query<UserRow, [string]>('SELECT * FROM users WHERE email = ?')
  const byOidc = db.query<UserRow, [string, string]>('SELECT * FROM users WHERE oidc_issuer = ? AND oidc_subject = ?')
  const enabledAdmins = db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND enabled = 1")
  const count = db.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM users')

  function where(f: UserFilter): { sql: string; args: Record<string, string | number> } {
    const parts: string[] = []
    const args: Record<string, string | number> = {}
    if (f.query) {
      parts.push("(username LIKE $q ESCAPE '\\' OR email LIKE $q ESCAPE '\\')")
      args.q = `%${f.query.replace(/[\\%_]/g, (c) => '\\' + c)}%`
    }
    if (f.role) {
      parts.push('role = $role')
      args.role = f.role
    }
    if (f.source) {
      parts.push(f.source === 'oidc' ? "identity_source LIKE 'oidc:%'" : 'identity_source = $source')
      if (f.source !== 'oidc') args.source = f.source
    }
    if (f.enabled !== undefined) {
      parts.push('enabled = $enabled')
      args.enabled = f.enabled ? 1 : 0
    }
    return { sql: parts.length ? 'WHERE ' + parts.join(' AND ') : '', args }
  }

  return {
    get: (id: string): UserRow | null => byId.get(id),
    getByUsername: (name: string): UserRow | null => byName.get(name),
    getByEmail: (email: string): UserRow | null => byEmail.get(email),
    getByOidc: (issuer: string, subject: string): UserRow | null => byOidc.get(issuer, subject),
    countEnabledAdmins: (): number => enabledAdmins.get()!.n,
    count: (): number => count.get()!.n,

    list(f: UserFilter): { rows: UserRow[]; total: number } {
      const w = where(f)
      const rows = db
        .query<UserRow, Record<string, string | number>>(`SELECT * FROM users ${w.sql} ORDER BY username LIMIT $limit OFFSET $offset`)
        .all({ ...w.args, limit: f.limit, offset: f.offset })
      const total = db.query<{ n: number }, Record<string, string | number>>(`SELECT COUNT(*) AS n FROM users ${w.sql}`).get(w.args)!.n
      return { rows, total }
    },

    insert(u: NewUser): void {
      db.query(
        `INSERT INTO users (id, username, email, password_hash, role, identity_source, oidc_issuer, oidc_subject, must_change_pw, created_at, created_by, pw_changed_at)
         VALUES ($id, $username, $email, $hash, $role, $source, $issuer, $subject, $must, $now, $by, $pw)`,
      ).run({
        id: u.id,
        username: u.username,
        email: u.email,
        hash: u.passwordHash,
        role: u.role,
        source: u.identitySource,
        issuer: u.oidcIssuer ?? null,
        subject: u.oidcSubject ?? null,
        must: u.mustChangePw ? 1 : 0,
        now: u.now,
        by: u.createdBy,
        pw: u.passwordHash ? u.now : null,
      })
    },

    update(id: string, fields: Partial<Pick<UserRow, 'role' | 'enabled' | 'email' | 'username' | 'must_change_pw' | 'identity_source'>>): void {
      const keys = Object.keys(fields) as Array<keyof typeof fields>
      if (keys.length === 0) return
      db.query(`UPDATE users SET ${keys.map((k) => `${k} = $${k}`).join(', ')} WHERE id = $id`).run({ ...fields, id } as Record<string, string | number | null>)
    },

    setPassword(id: string, hash: string, mustChangePw: boolean, now: number): void {
      db.query('UPDATE users SET password_hash = ?, must_change_pw = ?, pw_changed_at = ?, failed_attempts = 0, locked_until = NULL WHERE id = ?').run(
        hash,
        mustChangePw ? 1 : 0,
        now,
        id,
      )
    },

    /**
     * Counts one sign-in attempt and returns the new count; reaching `maxAttempts` locks the
     * account for `windowMs`. A lock that has run out starts a fresh count. One statement, so
     * concurrent attempts each get their own number.
     */
    recordFailure(id: string, maxAttempts: number, now: number, windowMs: number): number {
      const row = db
        .query<{ failed_attempts: number }, Record<string, string | number>>(
          `UPDATE users SET
             failed_attempts = (CASE WHEN locked_until <= $now THEN 0 ELSE failed_attempts END) + 1,
             locked_until = CASE
               WHEN (CASE WHEN locked_until <= $now THEN 0 ELSE failed_attempts END) + 1 >= $max THEN $until
               WHEN locked_until <= $now THEN NULL
               ELSE locked_until END
           WHERE id = $id RETURNING failed_attempts`,
        )
        .get({ now, max: maxAttempts, until: now + windowMs, id })
      return row?.failed_attempts ?? 0
    },

    recordLogin(id: string, now: number): void {
      db.query('UPDATE users SET failed_attempts = 0, locked_until = NULL, last_login_at = ? WHERE id = ?').run(now, id)
    },

    unlock(id: string): void {
      db.query('UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = ?').run(id)
    },

    /**
     * Creates or refreshes the account keyed by (issuer, subject): username, email and role
     * follow the provider at every sign-in. Never touches a local account, and leaves
     * `enabled` alone so a disabled user stays disabled.
     */
    upsertOidc(u: OidcIdentity, newId: string): { user: UserRow; created: boolean } {
      return db.transaction((): { user: UserRow; created: boolean } => {
        const existing = byOidc.get(u.issuer, u.subject)
        if (existing) {
          db.query('UPDATE users SET username = ?, email = ?, role = ?, identity_source = ? WHERE id = ?').run(
            u.username,
            u.email,
            u.role,
            u.identitySource,
            existing.id,
          )
          return { user: byId.get(existing.id)!, created: false }
        }
        db.query(
          `INSERT INTO users (id, username, email, password_hash, role, identity_source, oidc_issuer, oidc_subject, must_change_pw, created_at, created_by)
           VALUES (?, ?, ?, NULL, ?, ?, ?, ?, 0, ?, NULL)`,
        ).run(newId, u.username, u.email, u.role, u.identitySource, u.issuer, u.subject, u.now)
        return { user: byId.get(newId)!, created: true }
      })()
    },

    delete(id: string): void {
      db.query('DELETE FROM users WHERE id = ?').run(id)
    },
  }
}
