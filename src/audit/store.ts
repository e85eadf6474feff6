// SPDX-License-Identifier: AGPL-3.0-or-later
import type { Database, Param } from '../db/database.ts'
import type { AuditEvent, AuditQuery, AuditRow } from './model.ts'

export type AuditFilter = Omit<AuditQuery, 'limit' | 'offset'>

export type AuditStore = ReturnType<typeof createAuditStore>

const COLUMNS = '(ts, user_id, username, action, backend_id, bucket, object_key, request_id, ip, user_agent, status, detail)'
/** Rows per INSERT statement: 12 parameters each stays under both stores' limits on bound parameters. */
const ROWS_PER_STATEMENT = 500

const valuesOf = (e: AuditEvent): Param[] => [
  e.ts ?? Date.now(),
  e.userId ?? null,
  e.username ?? null,
  e.action,
  e.backend ?? null,
  e.bucket ?? null,
  e.key ?? null,
  e.requestId ?? null,
  e.ip ?? null,
  e.userAgent ? e.userAgent.slice(0, 512) : null,
  e.status ?? 'ok',
  e.detail ? JSON.stringify(e.detail) : null,
]

export function createAuditStore(db: Database) {
  function where(f: AuditFilter): { sql: string; args: Param[] } {
    const parts: string[] = []
    const args: Param[] = []
    const add = (sql: string, arg: Param) => (parts.push(sql), args.push(arg))
    if (f.user) add('user_id = ?', f.user)
    // citext on PostgreSQL compares without case already.
    if (f.username) add(db.dialect === 'sqlite' ? 'username = ? COLLATE NOCASE' : 'username = ?', f.username)
    if (f.action) add("action LIKE ? ESCAPE '\\'", f.action.replace(/[\\%_]/g, (c) => '\\' + c) + '%')
    if (f.backend) add('backend_id = ?', f.backend)
    if (f.bucket) add('bucket = ?', f.bucket)
    if (f.status) add('status = ?', f.status)
    if (f.from) add('ts >= ?', Date.parse(f.from))
    if (f.to) add('ts <= ?', Date.parse(f.to))
    return { sql: parts.length ? 'WHERE ' + parts.join(' AND ') : '', args }
  }

  return {
    /** One transaction for the whole batch, a multi-row INSERT per few hundred events. */
    insertMany(events: AuditEvent[]): Promise<void> {
      return db.transaction(async (tx) => {
        for (let i = 0; i < events.length; i += ROWS_PER_STATEMENT) {
          const chunk = events.slice(i, i + ROWS_PER_STATEMENT)
          const rows = chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')
          await tx.run(`INSERT INTO audit_events ${COLUMNS} VALUES ${rows}`, chunk.flatMap(valuesOf))
        }
      })
    },

    async list(f: AuditFilter, limit: number, offset: number): Promise<{ rows: AuditRow[]; total: number }> {
      const w = where(f)
      const rows = await db.all<AuditRow>(`SELECT * FROM audit_events ${w.sql} ORDER BY id DESC LIMIT ? OFFSET ?`, [...w.args, limit, offset])
      const total = (await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM audit_events ${w.sql}`, w.args))!.n
      return { rows, total }
    },

    /** One page of a keyset walk (newest first) so exports never hold the whole log. */
    page(f: AuditFilter, beforeId: number, size: number): Promise<AuditRow[]> {
      const w = where(f)
      const cond = w.sql ? `${w.sql} AND id < ?` : 'WHERE id < ?'
      return db.all<AuditRow>(`SELECT * FROM audit_events ${cond} ORDER BY id DESC LIMIT ?`, [...w.args, beforeId, size])
    },

    deleteOlderThan(ts: number): Promise<number> {
      return db.run('DELETE FROM audit_events WHERE ts < ?', [ts])
    },
  }
}
