// SPDX-License-Identifier: AGPL-3.0-or-later
import { t, type Static } from 'elysia'

export const BucketAccess = t.UnionEnum(['read', 'read-write', 'owner'], {
  description:
    '`read` allows reads only; `read-write` also allows writes and deletes of objects; `owner` (granted by admins only) also creates and deletes the buckets it covers and sets their versioning, CORS, lifecycle and tagging.',
})
export type BucketAccess = Static<typeof BucketAccess>

const BucketName = t.String({ minLength: 1, maxLength: 63 })
// Length and characters are checked by credentials/scope.ts, which names the catalogued error.
const Prefix = t.String({
  maxLength: 63,
  description:
    'A bucket-name prefix, e.g. `team-a-` (1–62 characters of a-z, 0-9, "." and "-", starting with a letter or digit): every bucket whose name starts with it, existing or created later.',
})

export const ExactScope = t.Object({ bucket: t.String(), access: BucketAccess })
export const PrefixScope = t.Object({ prefix: t.String(), access: BucketAccess })
export const BucketScope = t.Union([ExactScope, PrefixScope])
export type ExactScope = Static<typeof ExactScope>
export type PrefixScope = Static<typeof PrefixScope>
export type BucketScope = Static<typeof BucketScope>

/** The original took plain bucket names; those still work and mean read-write. */
const BucketScopeInput = t.Union(
  [
    BucketName,
    t.Object({ bucket: BucketName, access: t.Optional(BucketAccess) }, { additionalProperties: false }),
    t.Object({ prefix: Prefix, access: t.Optional(BucketAccess) }, { additionalProperties: false }),
  ],
  {
    description: 'A bucket name (read-write, as in the original API), `{"bucket","access"}`, or (admins only) `{"prefix","access"}`.',
  },
)

const Buckets = t.Array(BucketScopeInput, {
  minItems: 1,
  maxItems: 100,
  description: 'One or more entries: existing buckets of the backend, or (admins only) bucket-name prefixes, each with its access.',
})
const Description = t.String({ maxLength: 256 })
const ExpiresAt = t.String({ format: 'date-time', description: 'RFC 3339 time in the future; after it the key stops working.' })

export const CreateCredentialBody = t.Object({
  backend_id: t.String({ minLength: 1, maxLength: 64 }),
  buckets: Buckets,
  description: t.Optional(Description),
  expires_at: t.Optional(ExpiresAt),
})
export type CreateCredentialBody = Static<typeof CreateCredentialBody>

export const AdminCreateCredentialBody = t.Object({
  backend_id: t.String({ minLength: 1, maxLength: 64 }),
  buckets: Buckets,
  description: t.Optional(Description),
  expires_at: t.Optional(ExpiresAt),
  user_id: t.Optional(
    t.String({ minLength: 1, maxLength: 64, description: 'Owner; the key stops working when the owner is disabled or deleted. Absent: owned by nobody.' }),
  ),
})
export type AdminCreateCredentialBody = Static<typeof AdminCreateCredentialBody>

export const PatchCredentialBody = t.Object({
  buckets: t.Optional(Buckets),
  description: t.Optional(Description),
  enabled: t.Optional(t.Boolean()),
  expires_at: t.Optional(t.Union([ExpiresAt, t.Literal(''), t.Null()], { description: 'A new expiry; "" or null removes it.' })),
})
export type PatchCredentialBody = Static<typeof PatchCredentialBody>

export const CredentialParams = t.Object({ akid: t.String({ minLength: 1, maxLength: 128 }) })

export const CredentialDTO = t.Object({
  access_key: t.String(),
  secret_key: t.Optional(t.String({ description: 'Only in the answer to the create call; never shown again.' })),
  backend_id: t.String(),
  buckets: t.Array(BucketScope, { description: 'Exact buckets `{"bucket","access"}` and bucket-name prefixes `{"prefix","access"}`.' }),
  user_id: t.Optional(t.String()),
  description: t.String(),
  enabled: t.Boolean(),
  expires_at: t.Optional(t.String({ format: 'date-time' })),
  expired: t.Boolean(),
  created_at: t.String({ format: 'date-time' }),
  created_by: t.Optional(t.String()),
  updated_at: t.String({ format: 'date-time' }),
  updated_by: t.Optional(t.String()),
  endpoint_url: t.String({ description: 'The S3 endpoint to configure in clients (path-style).' }),
  bucket_urls: t.Record(t.String(), t.String(), { description: 'Exact bucket name → its path-style URL on the proxy.' }),
})
export type CredentialDTO = Static<typeof CredentialDTO>

export const MergedCredentialDTO = t.Composite([
  CredentialDTO,
  t.Object({ source: t.Literal('sqlite', { description: 'Where the credential is defined; always `sqlite` (no Kubernetes source).' }) }),
])
export type MergedCredentialDTO = Static<typeof MergedCredentialDTO>

export const CredentialList = t.Object({ credentials: t.Array(CredentialDTO) })
export const MergedCredentialList = t.Object({ credentials: t.Array(MergedCredentialDTO) })

export const AnonymousBody = t.Object({
  backend_id: t.String({ minLength: 1, maxLength: 64 }),
  bucket: BucketName,
  mode: t.Optional(t.Literal('ReadOnly', { description: 'Only `ReadOnly`: GetObject, HeadObject, HeadBucket and object listings.' })),
  per_source_ip_rps: t.Optional(
    t.Integer({ minimum: 0, maximum: 100_000, description: 'Requests per second per client IP; 0 uses `s3_proxy.anonymous_rps`.' }),
  ),
})
export type AnonymousBody = Static<typeof AnonymousBody>

export const AnonymousDTO = t.Object({
  backend_id: t.String(),
  bucket: t.String(),
  mode: t.Literal('ReadOnly'),
  per_source_ip_rps: t.Integer(),
  effective_rps: t.Number({ description: 'The per-IP limit in force: per_source_ip_rps, or s3_proxy.anonymous_rps when that is 0.' }),
  url: t.String({ description: 'Path-style URL of the bucket on the proxy.' }),
  created_at: t.String({ format: 'date-time' }),
  created_by: t.Optional(t.String()),
  updated_at: t.String({ format: 'date-time' }),
})
export type AnonymousDTO = Static<typeof AnonymousDTO>

export const MergedAnonymousDTO = t.Composite([AnonymousDTO, t.Object({ source: t.Literal('sqlite') })])
export type MergedAnonymousDTO = Static<typeof MergedAnonymousDTO>

export const AnonymousList = t.Object({ bindings: t.Array(AnonymousDTO) })
export const MergedAnonymousList = t.Object({ bindings: t.Array(MergedAnonymousDTO) })
