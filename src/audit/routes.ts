// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia, t } from 'elysia'
import type { Guard } from '../auth/guard.ts'
import { fail } from '../http/errors.ts'
import { iso } from '../users/model.ts'
import { CSV_COLUMNS, csvRow } from './csv.ts'
import { AUDIT_PAGE, AuditEventDTO, AuditExportQuery, AuditPageDTO, AuditQuery, type AuditRow } from './model.ts'
import type { AuditRecorder } from './recorder.ts'
import type { AuditFilter, AuditStore } from './store.ts'

const tags = ['admin: audit']
const PAGE = 500

function toDTO(r: AuditRow): typeof AuditEventDTO.static {
  const opt = (k: string, v: string | null) => (v ? { [k]: v } : {})
  return {
    id: r.id,
    timestamp: iso(r.ts)!,
    ...opt('user_id', r.user_id),
    ...opt('username', r.username),
    action: r.action,
    ...opt('backend', r.backend_id),
    ...opt('bucket', r.bucket),
    ...opt('key', r.object_key),
    ...opt('request_id', r.request_id),
    ...opt('ip', r.ip),
    ...opt('user_agent', r.user_agent),
    status: r.status,
    ...opt('detail', r.detail),
  }
}

function filterOf(q: AuditQuery | typeof AuditExportQuery.static): AuditFilter {
  for (const k of ['from', 'to'] as const)
    if (q[k] && Number.isNaN(Date.parse(q[k]!))) throw fail('bad_request', `${k} must be an RFC 3339 time`, [{ path: `/${k}` }])
  const { user, username, action, backend, bucket, status, from, to } = q
  return { user, username, action, backend, bucket, status, from, to }
}

/** Streams the export a page at a time, yielding between pages so a large log never blocks other requests. */
function csvStream(store: AuditStore, filter: AuditFilter, limit: number | undefined, signal: AbortSignal): ReadableStream<Uint8Array> {
  const enc = new TextEncoder()
  let before = Number.MAX_SAFE_INTEGER
  let sent = 0
  let header = true
  return new ReadableStream({
    async pull(controller) {
      if (header) {
        header = false
        controller.enqueue(enc.encode(CSV_COLUMNS.join(',') + '\r\n'))
        return
      }
      if (signal.aborted) return controller.close()
      const size = limit ? Math.min(PAGE, limit - sent) : PAGE
      const rows = size > 0 ? await store.page(filter, before, size) : []
      if (rows.length === 0) return controller.close()
      before = rows.at(-1)!.id
      sent += rows.length
      controller.enqueue(enc.encode(rows.map(csvRow).join('')))
      await Bun.sleep(0)
    },
  })
}

export function auditRoutes(d: { guard: Guard; store: AuditStore; recorder: AuditRecorder }) {
  return new Elysia({ prefix: '/api/admin' })
    .use(d.guard)
    .get(
      '/audit',
      async ({ query }) => {
        await d.recorder.flush()
        const { rows, total } = await d.store.list(filterOf(query), query.limit ?? AUDIT_PAGE.fallback, query.offset ?? 0)
        return { events: rows.map(toDTO), total }
      },
      { access: 'admin', query: AuditQuery, response: { 200: AuditPageDTO }, detail: { tags, summary: 'Query the audit log (newest first)' } },
    )
    .get(
      '/audit.csv',
      async ({ query, request }) => {
        await d.recorder.flush()
        const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
        return new Response(csvStream(d.store, filterOf(query), query.limit, request.signal), {
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': `attachment; filename="audit-${stamp}.csv"`,
            'cache-control': 'no-store',
          },
        })
      },
      {
        access: 'admin',
        query: AuditExportQuery,
        detail: { tags, summary: 'Export the audit log as CSV, streamed (no row limit unless `limit` is given)' },
      },
    )
}
