// SPDX-License-Identifier: AGPL-3.0-or-later
import type { AuditRow } from './model.ts'

export const CSV_COLUMNS = [
  'id',
  'timestamp',
  'user_id',
  'username',
  'action',
  'backend',
  'bucket',
  'key',
  'request_id',
  'ip',
  'user_agent',
  'status',
  'detail',
] as const

/**
 * Spreadsheets run cells starting with = + - @ (and tab/CR tricks) as formulas;
 * a leading apostrophe makes them text (OWASP "CSV injection").
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return ''
  let s = String(value)
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export function csvRow(r: AuditRow): string {
  return (
    [
      r.id,
      new Date(r.ts).toISOString(),
      r.user_id,
      r.username,
      r.action,
      r.backend_id,
      r.bucket,
      r.object_key,
      r.request_id,
      r.ip,
      r.user_agent,
      r.status,
      r.detail,
    ]
      .map(csvCell)
      .join(',') + '\r\n'
  )
}
