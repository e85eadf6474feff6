// SPDX-License-Identifier: AGPL-3.0-or-later
/** SQL of `access_grants` and `user_groups`. */
import type { Database, Param } from '../db/database.ts'
import type { AccessName } from './view.ts'

export type GrantOrigin = 'admin' | 'creator' | 'upgrade'

export type GrantRow = {
  id: string
  subject_type: 'user' | 'group'
  subject: string
  backend_id: string
  bucket: string
  prefix: string
  access: AccessName
  origin: GrantOrigin
  created_at: number
  created_by: string | null
  updated_at: number
  updated_by: string | null
}

export type GrantFilter = {
  userId?: string
  group?: string
  /** With userId: also the grants of these groups. */
  groupsOfUser?: string[]
  backendId?: string
  bucket?: string
  /** Also grants on every backend (and, with bucket, on the whole backend). */
  broader?: boolean
  limit: number
  offset: number
}

export type GrantStore = ReturnType<typeof createGrantStore>

export function createGrantStore(db: Database) {
  function where(f: GrantFilter): { sql: string; args: Param[] } {
    const parts: string[] = []
    const args: Param[] = []
    const subjects: string[] = []
    if (f.userId !== undefined) {
      subjects.push("(subject_type = 'user' AND subject = ?)")
      args.push(f.userId)
      for (const g of f.groupsOfUser ?? []) {
        subjects.push("(subject_type = 'group' AND subject = ?)")
        args.push(g)
      }
    }
    if (f.group !== undefined) {
      subjects.push("(subject_type = 'group' AND subject = ?)")
      args.push(f.group)
    }
    if (subjects.length) parts.push(`(${subjects.join(' OR ')})`)
    if (f.backendId !== undefined) {
      if (f.bucket !== undefined) {
        parts.push(f.broader ? "(backend_id = '*' OR (backend_id = ? AND (bucket = '' OR bucket = ?)))" : '(backend_id = ? AND bucket = ?)')
        args.push(f.backendId, f.bucket)
      } else {
        parts.push(f.broader ? "(backend_id = '*' OR backend_id = ?)" : 'backend_id = ?')
        args.push(f.backendId)
      }
    }
    return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', args }
  }

  const groupsOf = async (userId: string): Promise<string[]> =>
    (await db.all<{ group_name: string }>('SELECT group_name FROM user_groups WHERE user_id = ? ORDER BY group_name', [userId])).map((r) => r.group_name)

  return {
    get: (id: string): Promise<GrantRow | null> => db.get<GrantRow>('SELECT * FROM access_grants WHERE id = ?', [id]),
    find: (type: 'user' | 'group', subject: string, backendId: string, bucket: string, prefix: string): Promise<GrantRow | null> =>
      db.get<GrantRow>('SELECT * FROM access_grants WHERE subject_type = ? AND subject = ? AND backend_id = ? AND bucket = ? AND prefix = ?', [
        type,
        subject,
        backendId,
        bucket,
        prefix,
      ]),
    /** Every grant that applies to a user: their own and their groups'. */
    forUser: (userId: string): Promise<GrantRow[]> =>
      db.all<GrantRow>(
        `SELECT * FROM access_grants
         WHERE (subject_type = 'user' AND subject = ?)
            OR (subject_type = 'group' AND subject IN (SELECT group_name FROM user_groups WHERE user_id = ?))`,
        [userId, userId],
      ),
    onBucket: (backendId: string, bucket: string): Promise<GrantRow[]> =>
      db.all<GrantRow>('SELECT * FROM access_grants WHERE backend_id = ? AND bucket = ?', [backendId, bucket]),

    async list(f: GrantFilter): Promise<{ rows: GrantRow[]; total: number }> {
      const w = where(f)
      const rows = await db.all<GrantRow>(`SELECT * FROM access_grants ${w.sql} ORDER BY backend_id, bucket, prefix, subject_type, subject LIMIT ? OFFSET ?`, [
        ...w.args,
        f.limit,
        f.offset,
      ])
      const total = (await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM access_grants ${w.sql}`, w.args))!.n
      return { rows, total }
    },

    async insert(g: GrantRow): Promise<void> {
      await db.run(
        `INSERT INTO access_grants (id, subject_type, subject, backend_id, bucket, prefix, access, origin, created_at, created_by, updated_at, updated_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [g.id, g.subject_type, g.subject, g.backend_id, g.bucket, g.prefix, g.access, g.origin, g.created_at, g.created_by, g.updated_at, g.updated_by],
      )
    },

    async setAccess(id: string, access: AccessName, now: number, by: string | null): Promise<void> {
      await db.run('UPDATE access_grants SET access = ?, updated_at = ?, updated_by = ? WHERE id = ?', [access, now, by, id])
    },

    async remove(id: string): Promise<void> {
      await db.run('DELETE FROM access_grants WHERE id = ?', [id])
    },

    groupsOf,

    /** Replaces the groups a user was seen with; true when the set changed. */
    setGroups(userId: string, groups: readonly string[], now: number): Promise<boolean> {
      return db.transaction(async (tx) => {
        const before = (await tx.all<{ group_name: string }>('SELECT group_name FROM user_groups WHERE user_id = ? ORDER BY group_name', [userId])).map(
          (r) => r.group_name,
        )
        // Both sides sorted here: the database's collation need not order as JavaScript does.
        before.sort()
        const next = [...new Set(groups)].sort()
        await tx.run('DELETE FROM user_groups WHERE user_id = ?', [userId])
        for (const g of next) await tx.run('INSERT INTO user_groups (user_id, group_name, seen_at) VALUES (?, ?, ?)', [userId, g, now])
        return before.join('\u0000') !== next.join('\u0000')
      })
    },

    seenGroups: (): Promise<Array<{ name: string; users: number; last_seen_at: number }>> =>
      db.all('SELECT group_name AS name, COUNT(*) AS users, MAX(seen_at) AS last_seen_at FROM user_groups GROUP BY group_name ORDER BY group_name'),
  }
}
