// SPDX-License-Identifier: AGPL-3.0-or-later
/** SQL of `access_grants` and `user_groups`. */
import type { Database } from 'bun:sqlite'
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
  const byId = db.query<GrantRow, [string]>('SELECT * FROM access_grants WHERE id = ?')
  const bySubjectTarget = db.query<GrantRow, [string, string, string, string, string]>(
    'SELECT * FROM access_grants WHERE subject_type = ? AND subject = ? AND backend_id = ? AND bucket = ? AND prefix = ?',
  )
  const forUser = db.query<GrantRow, [string, string]>(
    `SELECT * FROM access_grants
     WHERE (subject_type = 'user' AND subject = ?1)
        OR (subject_type = 'group' AND subject IN (SELECT group_name FROM user_groups WHERE user_id = ?2))`,
  )
  const onBucket = db.query<GrantRow, [string, string]>('SELECT * FROM access_grants WHERE backend_id = ? AND bucket = ?')
  const groupsOf = db.query<{ group_name: string }, [string]>('SELECT group_name FROM user_groups WHERE user_id = ? ORDER BY group_name')
  const seenGroups = db.query<{ name: string; users: number; last_seen_at: number }, []>(
    'SELECT group_name AS name, COUNT(*) AS users, MAX(seen_at) AS last_seen_at FROM user_groups GROUP BY group_name ORDER BY group_name',
  )

  function where(f: GrantFilter): { sql: string; args: Record<string, string | number> } {
    const parts: string[] = []
    const args: Record<string, string | number> = {}
    const subjects: string[] = []
    if (f.userId !== undefined) {
      subjects.push("(subject_type = 'user' AND subject = $user)")
      args.user = f.userId
      f.groupsOfUser?.forEach((g, i) => {
        subjects.push(`(subject_type = 'group' AND subject = $g${i})`)
        args[`g${i}`] = g
      })
    }
    if (f.group !== undefined) {
      subjects.push("(subject_type = 'group' AND subject = $group)")
      args.group = f.group
    }
    if (subjects.length) parts.push(`(${subjects.join(' OR ')})`)
    if (f.backendId !== undefined) {
      args.backend = f.backendId
      if (f.bucket !== undefined) {
        args.bucket = f.bucket
        parts.push(
          f.broader ? "(backend_id = '*' OR (backend_id = $backend AND (bucket = '' OR bucket = $bucket)))" : '(backend_id = $backend AND bucket = $bucket)',
        )
      } else {
        parts.push(f.broader ? "(backend_id = '*' OR backend_id = $backend)" : 'backend_id = $backend')
      }
    }
    return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', args }
  }

  return {
    get: (id: string): GrantRow | null => byId.get(id),
    find: (type: 'user' | 'group', subject: string, backendId: string, bucket: string, prefix: string): GrantRow | null =>
      bySubjectTarget.get(type, subject, backendId, bucket, prefix),
    /** Every grant that applies to a user: their own and their groups'. */
    forUser: (userId: string): GrantRow[] => forUser.all(userId, userId),
    onBucket: (backendId: string, bucket: string): GrantRow[] => onBucket.all(backendId, bucket),

    list(f: GrantFilter): { rows: GrantRow[]; total: number } {
      const w = where(f)
      const rows = db
        .query<GrantRow, Record<string, string | number>>(
          `SELECT * FROM access_grants ${w.sql} ORDER BY backend_id, bucket, prefix, subject_type, subject LIMIT $limit OFFSET $offset`,
        )
        .all({ ...w.args, limit: f.limit, offset: f.offset })
      const total = db.query<{ n: number }, Record<string, string | number>>(`SELECT COUNT(*) AS n FROM access_grants ${w.sql}`).get(w.args)!.n
      return { rows, total }
    },

    insert(g: GrantRow): void {
      db.query(
        `INSERT INTO access_grants (id, subject_type, subject, backend_id, bucket, prefix, access, origin, created_at, created_by, updated_at, updated_by)
         VALUES ($id, $subject_type, $subject, $backend_id, $bucket, $prefix, $access, $origin, $created_at, $created_by, $updated_at, $updated_by)`,
      ).run(g)
    },

    setAccess(id: string, access: AccessName, now: number, by: string | null): void {
      db.query('UPDATE access_grants SET access = ?, updated_at = ?, updated_by = ? WHERE id = ?').run(access, now, by, id)
    },

    remove(id: string): void {
      db.query('DELETE FROM access_grants WHERE id = ?').run(id)
    },

    groupsOf: (userId: string): string[] => groupsOf.all(userId).map((r) => r.group_name),

    /** Replaces the groups a user was seen with; true when the set changed. */
    setGroups(userId: string, groups: readonly string[], now: number): boolean {
      return db.transaction((): boolean => {
        const before = groupsOf.all(userId).map((r) => r.group_name)
        const next = [...new Set(groups)].sort()
        db.query('DELETE FROM user_groups WHERE user_id = ?').run(userId)
        const insert = db.query('INSERT INTO user_groups (user_id, group_name, seen_at) VALUES (?, ?, ?)')
        for (const g of next) insert.run(userId, g, now)
        return before.join('\u0000') !== next.join('\u0000')
      })()
    },

    seenGroups: () => seenGroups.all(),
  }
}
