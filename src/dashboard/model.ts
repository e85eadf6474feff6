// SPDX-License-Identifier: AGPL-3.0-or-later
import { t } from 'elysia'

export const DashboardDTO = t.Object({
  requests: t.Object({
    total_24h: t.Integer(),
    errors_24h: t.Integer({ description: 'Server faults: 5xx answers other than refusals by design.' }),
    refusals_24h: t.Integer({
      description: '5xx answers that refuse by design: quota_exceeded (507), not_supported (501), s3_proxy_disabled and secret_key_unset (503).',
    }),
    hourly: t.Array(
      t.Object({
        unix_hour: t.Integer({ description: 'Hours since the Unix epoch (multiply by 3600 for seconds).' }),
        requests: t.Integer(),
        errors: t.Integer(),
        refusals: t.Integer(),
      }),
      { description: 'The last 24 hours, oldest first, the current hour last.' },
    ),
    by_backend: t.Record(t.String(), t.Integer()),
    recent_errors: t.Array(
      t.Object({
        when: t.String({ format: 'date-time' }),
        path: t.String({ description: 'Route template, never the raw path.' }),
        method: t.String(),
        status: t.Integer(),
        kind: t.UnionEnum(['fault', 'refusal']),
        code: t.Optional(t.String({ description: 'The error code of the answer.' })),
        user_id: t.Optional(t.String()),
        backend: t.Optional(t.String()),
      }),
      { description: 'The last 50 5xx answers, faults and refusals, newest first.' },
    ),
  }),
  storage: t.Object({
    by_backend: t.Array(t.Object({ backend_id: t.String(), bytes: t.Number(), objects: t.Number(), buckets: t.Integer() })),
    top_buckets: t.Array(t.Object({ backend_id: t.String(), bucket: t.String(), bytes: t.Number(), objects: t.Number() })),
    scan_interval_seconds: t.Integer({ description: 'How often the background usage scan counts every bucket; 0 when it is off (counts on demand only).' }),
    oldest_count_at: t.Optional(t.String({ format: 'date-time', description: 'When the least recently counted bucket was counted.' })),
  }),
})
export type DashboardDTO = typeof DashboardDTO.static
