// SPDX-License-Identifier: AGPL-3.0-or-later
import { t, type Static } from 'elysia'
import { integerParam, offsetPaging, type PageSize } from '../http/paging.ts'

// Not t.UnionEnum: its built-in default would silently filter every query to 'ok'.
export const AuditStatus = t.Union([t.Literal('ok'), t.Literal('denied'), t.Literal('error')])
export type AuditStatus = Static<typeof AuditStatus>

export type AuditEvent = {
  action: string
  status?: AuditStatus
  userId?: string | null
  username?: string | null
  backend?: string | null
  bucket?: string | null
  key?: string | null
  requestId?: string | null
  ip?: string | null
  userAgent?: string | null
  detail?: Record<string, unknown> | null
  ts?: number
}

/** Who and where, taken once per request and spread into each event. */
export type AuditOrigin = Pick<AuditEvent, 'userId' | 'username' | 'requestId' | 'ip' | 'userAgent'>

export type AuditRow = {
  id: number
  ts: number
  user_id: string | null
  username: string | null
  action: string
  backend_id: string | null
  bucket: string | null
  object_key: string | null
  request_id: string | null
  ip: string | null
  user_agent: string | null
  status: AuditStatus
  detail: string | null
}

export const AUDIT_PAGE: PageSize = { max: 1000, fallback: 200 }
/** An export may be capped with `limit`; without one it has every matching row. */
export const MAX_EXPORT_ROWS = 100_000_000

const AuditFilters = {
  user: t.Optional(t.String({ maxLength: 128, description: 'Exact user id.' })),
  username: t.Optional(t.String({ maxLength: 256, description: 'Username of who acted, in any case (as it was when the event was recorded).' })),
  action: t.Optional(t.String({ maxLength: 128, description: 'Action prefix, e.g. `auth.` or `object.delete`.' })),
  backend: t.Optional(t.String({ maxLength: 128 })),
  bucket: t.Optional(t.String({ maxLength: 255 })),
  status: t.Optional(AuditStatus),
  from: t.Optional(t.String({ format: 'date-time' })),
  to: t.Optional(t.String({ format: 'date-time' })),
}

export const AuditQuery = t.Object({ ...AuditFilters, ...offsetPaging(AUDIT_PAGE) })
export type AuditQuery = Static<typeof AuditQuery>

export const AuditExportQuery = t.Object({ ...AuditFilters, limit: t.Optional(integerParam('limit', 1, MAX_EXPORT_ROWS, 'Rows to export; default all')) })

export const AuditEventDTO = t.Object({
  id: t.Integer(),
  timestamp: t.String({ format: 'date-time' }),
  user_id: t.Optional(t.String()),
  username: t.Optional(t.String()),
  action: t.String(),
  backend: t.Optional(t.String()),
  bucket: t.Optional(t.String()),
  key: t.Optional(t.String()),
  request_id: t.Optional(t.String()),
  ip: t.Optional(t.String()),
  user_agent: t.Optional(t.String()),
  status: AuditStatus,
  detail: t.Optional(t.String({ description: 'JSON object as a string.' })),
})

export const AuditPageDTO = t.Object({ events: t.Array(AuditEventDTO), total: t.Integer() })
