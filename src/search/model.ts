// SPDX-License-Identifier: AGPL-3.0-or-later
import { t } from 'elysia'
import { pageLimit, type PageSize } from '../http/paging.ts'

/** Results per list (buckets, objects). */
export const SEARCH_PAGE: PageSize = { max: 200, fallback: 50 }
export const SearchQuery = t.Object({
  q: t.String({ minLength: 2, maxLength: 1024, description: 'At least 2 characters.' }),
  limit: pageLimit(SEARCH_PAGE),
})

export const PARTIAL_REASONS = ['timeout', 'cancelled', 'unavailable', 'error', 'scan_limit'] as const
export type PartialReason = (typeof PARTIAL_REASONS)[number]

export const SearchDTO = t.Object({
  query: t.String(),
  buckets: t.Array(t.Object({ backend_id: t.String(), bucket: t.String() })),
  objects: t.Array(
    t.Object({
      backend_id: t.String(),
      bucket: t.String(),
      key: t.String(),
      size: t.Number(),
      last_modified: t.Optional(t.String({ format: 'date-time' })),
    }),
  ),
  truncated: t.Boolean({ description: 'More matches may exist: a list hit the limit, or a backend was cut short (see `partial`).' }),
  partial: t.Array(
    t.Object({
      backend_id: t.String(),
      reason: t.UnionEnum([...PARTIAL_REASONS], {
        description:
          '`timeout`: the per-backend time budget ended; `cancelled`: the client went away; `unavailable`/`error`: the backend failed; `scan_limit`: some buckets were only partly scanned for substring matches.',
      }),
    }),
  ),
})
export type SearchDTO = typeof SearchDTO.static
