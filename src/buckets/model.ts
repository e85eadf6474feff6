// SPDX-License-Identifier: AGPL-3.0-or-later
import { t } from 'elysia'

export const BackendParams = t.Object({ bid: t.String({ maxLength: 64 }) })
/** The path parameters of every route under a bucket (objects, settings, quotas, pins, anonymous bindings). */
export const BucketParams = t.Object({ bid: t.String({ maxLength: 64 }), bucket: t.String({ maxLength: 255 }) })

export const BucketDTO = t.Object({
  name: t.String(),
  created_at: t.Optional(t.String({ format: 'date-time' })),
  size_tracked: t.Boolean(),
  size_bytes: t.Optional(t.Number()),
  object_count: t.Optional(t.Number()),
  computed_at: t.Optional(t.String({ format: 'date-time' })),
  quota_soft_bytes: t.Optional(t.Number({ description: 'The soft quota, when one is set: above it the bucket is flagged.' })),
  quota_hard_bytes: t.Optional(t.Number({ description: 'The hard quota, when one is set: writes beyond it are refused (507).' })),
})
export type BucketDTO = typeof BucketDTO.static
export const BucketListDTO = t.Object({ buckets: t.Array(BucketDTO) })

export const CreateBucketBody = t.Object({
  name: t.String({ maxLength: 255, description: '3–63 characters of a-z, 0-9, "." and "-", starting and ending with a letter or digit.' }),
  region: t.Optional(t.String({ maxLength: 64, pattern: '^[A-Za-z0-9-]*$' })),
})
