// SPDX-License-Identifier: AGPL-3.0-or-later
import { t } from 'elysia'

export const VersioningDTO = t.Object({ enabled: t.Boolean() })

export const CORS_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'] as const

/** One CORS rule as S3 PutBucketCors carries it. */
export const CorsRule = t.Object({
  allowed_origins: t.Array(t.String({ maxLength: 512 }), {
    maxItems: 100,
    description: '`*`, or `scheme://host[:port]` with at most one `*` wildcard, e.g. `https://*.example.com`.',
  }),
  allowed_methods: t.Array(t.String({ maxLength: 16 }), { maxItems: 5, description: 'Any of GET, PUT, POST, DELETE, HEAD.' }),
  allowed_headers: t.Optional(t.Array(t.String({ maxLength: 256 }), { maxItems: 100 })),
  expose_headers: t.Optional(t.Array(t.String({ maxLength: 256 }), { maxItems: 100 })),
  max_age_seconds: t.Optional(t.Integer({ description: '0..86400' })),
})
export type CorsRule = typeof CorsRule.static

export const CorsDTO = t.Object({ rules: t.Array(CorsRule, { description: 'At most 100 rules; an empty list removes them.' }) })

export const PolicyDTO = t.Object({
  policy: t.String({ maxLength: 256 * 1024, description: 'The bucket policy as a JSON document in a string; "" when the bucket has none.' }),
})

export const LifecycleRule = t.Object({
  id: t.Optional(t.String({ maxLength: 255 })),
  prefix: t.Optional(t.String({ maxLength: 1024 })),
  enabled: t.Boolean(),
  expiration_days: t.Optional(t.Integer()),
  noncurrent_expire_days: t.Optional(t.Integer()),
  abort_incomplete_days: t.Optional(t.Integer()),
  transition_days: t.Optional(t.Integer()),
  transition_storage_class: t.Optional(t.String({ maxLength: 64 })),
})

export type LifecycleRule = typeof LifecycleRule.static

export const LifecycleDTO = t.Object({ rules: t.Array(LifecycleRule, { description: 'At most 1000 rules; an empty list removes them.' }) })
