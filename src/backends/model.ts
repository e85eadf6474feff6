// SPDX-License-Identifier: AGPL-3.0-or-later
import { t, type Static } from 'elysia'

/** What a backend can do, so the UI hides what it cannot; drivers declare it (backend.ts). */
export const CapabilitiesDTO = t.Object({
  versioning: t.Boolean(),
  object_lock: t.Boolean(),
  lifecycle: t.Boolean(),
  storage_classes: t.Boolean({ description: 'Lifecycle rules may move objects to another storage class (transitions).' }),
  bucket_policy: t.Boolean(),
  cors: t.Boolean({ description: 'CORS rules are stored by Stowage and answered by the S3 proxy, so every backend has them.' }),
  backend_cors: t.Boolean({ description: 'CORS rules are also applied to the backend itself (PutBucketCors), so browsers talking to it directly get them.' }),
  tagging: t.Boolean(),
  server_side_encrypt: t.Boolean(),
  admin_api: t.String({ description: "Native admin API of the upstream ('' when none)." }),
  max_multipart_parts: t.Integer(),
  max_part_size_bytes: t.Number(),
  presign: t.Boolean({ description: 'Upstream presigned URLs (s3 only).' }),
  checksums: t.Boolean({ description: 'Flexible checksums (`x-amz-checksum-*`) are verified, stored and returned.' }),
})
export type Capabilities = Static<typeof CapabilitiesDTO>

export const BackendStatusDTO = t.Object({
  id: t.String(),
  name: t.String(),
  type: t.String(),
  source: t.String(),
  capabilities: CapabilitiesDTO,
  healthy: t.Boolean(),
  last_probe_at: t.Optional(t.String({ format: 'date-time' })),
  last_error: t.Optional(t.String()),
})

export const BackendListDTO = t.Object({ backends: t.Array(BackendStatusDTO) })

export const HealthDTO = t.Object({
  healthy: t.Boolean(),
  last_probe_at: t.Optional(t.String({ format: 'date-time' })),
  last_error: t.Optional(t.String()),
  latency_ms: t.Number(),
})

export const ProbeHistoryDTO = t.Object({
  id: t.String(),
  name: t.String(),
  healthy: t.Boolean(),
  last_probe_at: t.Optional(t.String({ format: 'date-time' })),
  last_error: t.Optional(t.String()),
  latency_ms: t.Number(),
  history: t.Array(t.Object({ at: t.String({ format: 'date-time' }), healthy: t.Boolean(), latency_ms: t.Number(), error: t.Optional(t.String()) })),
})

export const ProbeHistoryListDTO = t.Object({ backends: t.Array(ProbeHistoryDTO) })

export const AdminBackendDTO = t.Object({
  id: t.String(),
  name: t.String(),
  type: t.String(),
  endpoint: t.String(),
  region: t.String(),
  path_style: t.Boolean(),
  access_key: t.Optional(t.String()),
  secret_set: t.Boolean(),
  enabled: t.Boolean(),
  source: t.String(),
  healthy: t.Boolean(),
  last_error: t.Optional(t.String()),
  last_probe_at: t.Optional(t.String({ format: 'date-time' })),
  created_at: t.Optional(t.String({ format: 'date-time' })),
  updated_at: t.Optional(t.String({ format: 'date-time' })),
})

export const AdminBackendListDTO = t.Object({ backends: t.Array(AdminBackendDTO) })

export const BackendTestDTO = t.Object({ healthy: t.Boolean(), latency_ms: t.Number(), error: t.Optional(t.String()) })

const BackendId = t.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$', description: 'Lowercase letters, digits, "-" and "_"; up to 64 characters.' })
const Endpoint = t.String({ minLength: 1, maxLength: 2048, description: 'http(s)://host[:port], no path.' })
const Region = t.String({ maxLength: 64, pattern: '^[A-Za-z0-9-]*$' })

export const CreateBackendBody = t.Object({
  id: BackendId,
  name: t.Optional(t.String({ maxLength: 128 })),
  type: t.Optional(t.UnionEnum(['s3', 's3v4'])),
  endpoint: Endpoint,
  region: t.Optional(Region),
  path_style: t.Optional(t.Boolean()),
  access_key: t.String({ minLength: 1, maxLength: 256 }),
  secret_key: t.String({ minLength: 1, maxLength: 1024 }),
  enabled: t.Optional(t.Boolean()),
})

export const PatchBackendBody = t.Object({
  name: t.Optional(t.String({ maxLength: 128 })),
  endpoint: t.Optional(Endpoint),
  region: t.Optional(Region),
  path_style: t.Optional(t.Boolean()),
  access_key: t.Optional(t.String({ minLength: 1, maxLength: 256 })),
  secret_key: t.Optional(t.String({ minLength: 1, maxLength: 1024 })),
  enabled: t.Optional(t.Boolean()),
})

export const TestBackendBody = t.Object({
  endpoint: Endpoint,
  region: t.Optional(Region),
  path_style: t.Optional(t.Boolean()),
  access_key: t.String({ minLength: 1, maxLength: 256 }),
  secret_key: t.String({ minLength: 1, maxLength: 1024 }),
})
