// SPDX-License-Identifier: AGPL-3.0-or-later
import { t } from 'elysia'

export const DashboardDTO = t.Object({
  requests: t.Object({
    total_24h: t.Integer(),
    errors_24h: t.Integer({ description: 'Responses with a 5xx status.' }),
    hourly: t.Array(
      t.Object({ unix_hour: t.Integer({ description: 'Hours since the Unix epoch (multiply by 3600 for seconds).' }), requests: t.Integer(), errors: t.Integer() }),
      { description: 'The last 24 hours, oldest first, the current hour last.' },
    ),
    by_backend: t.Record(t.String(), t.Integer()),
    recent_errors: t.Array(
      t.Object({
        when: t.String({ format: 'date-time' }),
        path: t.String({ description: 'Route template, never the raw path.' }),
        method: t.String(),
        status: t.Integer(),
        user_id: t.Optional(t.String()),
        backend: t.Optional(t.String()),
      }),
      { description: 'The last 50 server errors, newest first.' },
    ),
  }),
  storage: t.Object({
    by_backend: t.Array(t.Object({ backend_id: t.String(), bytes: t.Number(), objects: t.Number(), buckets: t.Integer() })),
    top_buckets: t.Array(t.Object({ backend_id: t.String(), bucket: t.String(), bytes: t.Number(), objects: t.Number() })),
    cache_note: t.String(),
  }),
})
export type DashboardDTO = typeof DashboardDTO.static
