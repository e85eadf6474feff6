// SPDX-License-Identifier: AGPL-3.0-or-later
import type { Database } from 'bun:sqlite'
import type { AuditEvent, AuditQuery, AuditRow } from './model.ts'

type Args = Record<string, string | number>

export type AuditFilter = Omit<AuditQuery, 'limit' | 'offset'>

export type AuditStore = ReturnType<typeof createAuditStore>

export function createAuditStore(db: Database) {
  const insert = db.query(
    `INSERT INTO audit_events (ts, user_id, username, action, backend_id, bucket, object_key, request_id, ip, user_agent, status, detail)
     VALUES ($ts, $user_id, $username, $action, $backend, $bucket, $key, $request_id, $ip, $ua, $status, $detail)`,
  )
  const insertMany = db.transaction((events: AuditEvent[]) => {
    for (const e of events) {
      insert.run({
        ts: e.ts ?? Date.now(),
        user_id: e.userId ?? null,
        username: e.username ?? null,
        action: e.action,
        backend: e.backend ?? null,
        bucket: e.bucket ?? null,
        key: e.key ?? null,
        request_id: e.requestId ?? null,
        ip: e.ip ?? null,
        ua: e.userAgent ? e.userAgent.slice(0, 512) : null,
        status: e.status ?? 'ok',
        detail: e.detail ? JSON.stringify(e.detail) : null,
      })
    }
  })

  function where(f: AuditFilter): { sql: string; args: Args } {
    const parts: string[] = []
    const args: Args = {}
    if (f.user) (parts.push('user_id = $user'), (args.user = f.user))
    if (f.username) (parts.push('username = $username COLLATE NOCASE'), (args.username = f.username))
    if (f.action) (parts.push("action LIKE $action ESCAPE '\\'"), (args.action = f.action.replace(/[\\%_]/g, (c) => '\\' + c) + '%'))
    if (f.backend) (parts.push('backend_id = $backend'), (args.backend = f.backend))
    if (f.bucket) (parts.push('bucket = $bucket'), (args.bucket = f.bucket))
    if (f.status) (parts.push('status = $status'), (args.status = f.status))
    if (f.from) (parts.push('ts >= $from'), (args.from = Date.parse(f.from)))
    if (f.to) (parts.push('ts <= $to'), (args.to = Date.parse(f.to)))
    return { sql: parts.length ? 'WHERE ' + parts.join(' AND ') : '', args }
  }

  return {
    insertMany: (events: AuditEvent[]): void => insertMany(events),

    list(f: AuditFilter, limit: number, offset: number): { rows: AuditRow[]; total: number } {
      const w = where(f)
      const rows = db
        .query<AuditRow, Args>(`SELECT * FROM audit_events ${w.sql} ORDER BY id DESC LIMIT $limit OFFSET $offset`)
        .all({ ...w.args, limit, offset })
      const total = db.query<{ n: number }, Args>(`SELECT COUNT(*) AS n FROM audit_events ${w.sql}`).get(w.args)!.n
      return { rows, total }
    },

    /** One page of a keyset walk (newest first) so exports never hold the whole log. */
    page(f: AuditFilter, beforeId: number, size: number): AuditRow[] {
      const w = where(f)
      const cond = w.sql ? `${w.sql} AND id < $before` : 'WHERE id < $before'
      return db.query<AuditRow, Args>(`SELECT * FROM audit_events ${cond} ORDER BY id DESC LIMIT $size`).all({ ...w.args, before: beforeId, size })
    },

    deleteOlderThan(ts: number): number {
      return db.query('DELETE FROM audit_events WHERE ts < ?').run(ts).changes
    },
  }
}
