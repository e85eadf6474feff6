// SPDX-License-Identifier: AGPL-3.0-or-later
import type { TestApp } from '../helpers/app.ts'

export type AuditLine = { action: string; backend_id: string | null; bucket: string | null; user_id: string | null; status: string; detail: unknown }

/** Audit rows for one bucket (flushed first), oldest first. */
export async function auditOf(t: TestApp, bucket: string, action?: string): Promise<AuditLine[]> {
  await t.s.audit.flush()
  const rows = await t.s.db.all<{
    action: string
    backend_id: string | null
    bucket: string | null
    user_id: string | null
    status: string
    detail: string | null
  }>('SELECT action, backend_id, bucket, user_id, status, detail FROM audit_events WHERE bucket = ? ORDER BY id', [bucket])
  return rows.filter((r) => !action || r.action === action).map((r) => ({ ...r, detail: r.detail ? JSON.parse(r.detail) : null }))
}
