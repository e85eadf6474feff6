// SPDX-License-Identifier: AGPL-3.0-or-later
import type { Database, Param, Queries } from '../db/database.ts'
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

/** Columns `update` may set; anything else never reaches the SQL text. */
const UPDATABLE = new Set(['role', 'enabled', 'email', 'username', 'must_change_pw', 'identity_source'])

export function createUserStore(db: Database) {
  function where(f: UserFilter): { sql: string; args: Param[] } {
    const parts: string[] = []
    const args: Param[] = []
    if (f.query) {
      // LIKE ignores ASCII case on both stores (SQLite's LIKE; citext columns on PostgreSQL).
      parts.push("(username LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\')")
      const q = `%${f.query.replace(/[\\%_]/g, (c) => '\\' + c)}%`
      args.push(q, q)
    }
    if (f.role) {
      parts.push('role = ?')
      args.push(f.role)
    }
    if (f.source) {
      if (f.source === 'oidc') parts.push("identity_source LIKE 'oidc:%'")
      else {
        parts.push('identity_source = ?')
        args.push(f.source)
      }
    }
    if (f.enabled !== undefined) {
      parts.push('enabled = ?')
      args.push(f.enabled ? 1 : 0)
    }
    return { sql: parts.length ? 'WHERE ' + parts.join(' AND ') : '', args }
  }

  const byOidc = (q: Queries, issuer: string, subject: string) =>
    q.get<UserRow>('SELECT * FROM users WHERE oidc_issuer = ? AND oidc_subject = ?', [issuer, subject])
  const byId = (q: Queries, id: string) => q.get<UserRow>('SELECT * FROM users WHERE id = ?', [id])
  const update = async (
    q: Queries,
    id: string,
    fields: Partial<Pick<UserRow, 'role' | 'enabled' | 'email' | 'username' | 'must_change_pw' | 'identity_source'>>,
  ): Promise<void> => {
    const keys = Object.keys(fields).filter((k) => UPDATABLE.has(k)) as Array<keyof typeof fields>
    if (keys.length === 0) return
    await q.run(`UPDATE users SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE id = ?`, [...keys.map((k) => fields[k] as Param), id])
  }

  return {
    get: (id: string): Promise<UserRow | null> => byId(db, id),
    getByUsername: (name: string): Promise<UserRow | null> => db.get<UserRow>('SELECT * FROM users WHERE username = ?', [name]),
    getByEmail: (email: string): Promise<UserRow | null> => db.get<UserRow>('SELECT * FROM users WHERE email = ?', [email]),
    getByOidc: (issuer: string, subject: string): Promise<UserRow | null> => byOidc(db, issuer, subject),
    countEnabledAdmins: async (): Promise<number> => (await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND enabled = 1"))!.n,
    count: async (): Promise<number> => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM users'))!.n,

    async list(f: UserFilter): Promise<{ rows: UserRow[]; total: number }> {
      const w = where(f)
      const rows = await db.all<UserRow>(`SELECT * FROM users ${w.sql} ORDER BY username LIMIT ? OFFSET ?`, [...w.args, f.limit, f.offset])
      const total = (await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM users ${w.sql}`, w.args))!.n
      return { rows, total }
    },

    async insert(u: NewUser): Promise<void> {
      await db.run(
        `INSERT INTO users (id, username, email, password_hash, role, identity_source, oidc_issuer, oidc_subject, must_change_pw, created_at, created_by, pw_changed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          u.id,
          u.username,
          u.email,
          u.passwordHash,
          u.role,
          u.identitySource,
          u.oidcIssuer ?? null,
          u.oidcSubject ?? null,
          u.mustChangePw ? 1 : 0,
          u.now,
          u.createdBy,
          u.passwordHash ? u.now : null,
        ],
      )
    },

    update: (id: string, fields: Partial<Pick<UserRow, 'role' | 'enabled' | 'email' | 'username' | 'must_change_pw' | 'identity_source'>>): Promise<void> =>
      update(db, id, fields),

    /**
     * Runs a change that could leave no enabled admin in one transaction
     * holding every enabled admin's row, so two concurrent demotions (on one
     * replica or two) cannot each remove "the other" last admin. `fn` gets
     * the user as it is now (null when gone) and the number of enabled admins.
     */
    adminChange<T>(
      id: string,
      fn: (u: UserRow | null, admins: number, apply: { update(fields: Parameters<typeof update>[2]): Promise<void>; delete(): Promise<void> }) => Promise<T>,
    ): Promise<T> {
      return db.transaction(async (tx) => {
        const lock = db.dialect === 'postgres' ? ' FOR UPDATE' : ''
        const admins = (await tx.all<{ id: string }>(`SELECT id FROM users WHERE role = 'admin' AND enabled = 1${lock}`)).length
        return fn(await byId(tx, id), admins, {
          update: (fields) => update(tx, id, fields),
          delete: async () => void (await tx.run('DELETE FROM users WHERE id = ?', [id])),
        })
      })
    },

    async setPassword(id: string, hash: string, mustChangePw: boolean, now: number): Promise<void> {
      await db.run('UPDATE users SET password_hash = ?, must_change_pw = ?, pw_changed_at = ?, failed_attempts = 0, locked_until = NULL WHERE id = ?', [
        hash,
        mustChangePw ? 1 : 0,
        now,
        id,
      ])
    },

    /**
     * Counts one sign-in attempt and returns the new count; reaching `maxAttempts` locks the
     * account for `windowMs`. A lock that has run out starts a fresh count. One statement, so
     * concurrent attempts each get their own number, on whichever replica they arrive.
     */
    async recordFailure(id: string, maxAttempts: number, now: number, windowMs: number): Promise<number> {
      const row = await db.get<{ failed_attempts: number }>(
        `UPDATE users SET
           failed_attempts = (CASE WHEN locked_until <= ? THEN 0 ELSE failed_attempts END) + 1,
           locked_until = CASE
             WHEN (CASE WHEN locked_until <= ? THEN 0 ELSE failed_attempts END) + 1 >= ? THEN ?
             WHEN locked_until <= ? THEN NULL
             ELSE locked_until END
         WHERE id = ? RETURNING failed_attempts`,
        [now, now, maxAttempts, now + windowMs, now, id],
      )
      return row?.failed_attempts ?? 0
    },

    async recordLogin(id: string, now: number): Promise<void> {
      await db.run('UPDATE users SET failed_attempts = 0, locked_until = NULL, last_login_at = ? WHERE id = ?', [now, id])
    },

    async unlock(id: string): Promise<void> {
      await db.run('UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = ?', [id])
    },

    /**
     * Creates or refreshes the account keyed by (issuer, subject): username, email and role
     * follow the provider at every sign-in. Never touches a local account, and leaves
     * `enabled` alone so a disabled user stays disabled.
     */
    upsertOidc(u: OidcIdentity, newId: string): Promise<{ user: UserRow; created: boolean }> {
      return db.transaction(async (tx) => {
        const existing = await byOidc(tx, u.issuer, u.subject)
        if (existing) {
          await tx.run('UPDATE users SET username = ?, email = ?, role = ?, identity_source = ? WHERE id = ?', [
            u.username,
            u.email,
            u.role,
            u.identitySource,
            existing.id,
          ])
          return { user: (await byId(tx, existing.id))!, created: false }
        }
        await tx.run(
          `INSERT INTO users (id, username, email, password_hash, role, identity_source, oidc_issuer, oidc_subject, must_change_pw, created_at, created_by)
           VALUES (?, ?, ?, NULL, ?, ?, ?, ?, 0, ?, NULL)`,
          [newId, u.username, u.email, u.role, u.identitySource, u.issuer, u.subject, u.now],
        )
        return { user: (await byId(tx, newId))!, created: true }
      })
    },

    async delete(id: string): Promise<void> {
      await db.run('DELETE FROM users WHERE id = ?', [id])
    },
  }
}
