// SPDX-License-Identifier: AGPL-3.0-or-later
import { t } from 'elysia'
import { iso } from '../users/model.ts'
import type { BackendEntry } from './registry.ts'

export const CapabilitiesDTO = t.Object({
  versioning: t.Boolean(),
  object_lock: t.Boolean(),
  lifecycle: t.Boolean(),
  bucket_policy: t.Boolean(),
  cors: t.Boolean(),
  backend_cors: t.Boolean({ description: 'CORS rules are also applied to the backend itself.' }),
  tagging: t.Boolean(),
  server_side_encrypt: t.Boolean(),
  admin_api: t.String(),
  max_multipart_parts: t.Integer(),
  max_part_size_bytes: t.Number(),
  presign: t.Boolean(),
  checksums: t.Boolean(),
})

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

const optIso = (k: string, ms: number | undefined) => (ms ? { [k]: iso(ms)! } : {})

export function statusDTO(e: BackendEntry, caps: typeof CapabilitiesDTO.static): typeof BackendStatusDTO.static {
  return {
    id: e.id,
    name: e.name,
    type: e.type,
    source: e.source,
    capabilities: caps,
    healthy: e.health.healthy,
    ...optIso('last_probe_at', e.health.lastProbeAt),
    ...(e.health.lastError ? { last_error: e.health.lastError } : {}),
  }
}

export function adminDTO(e: BackendEntry): typeof AdminBackendDTO.static {
  return {
    id: e.id,
    name: e.name,
    type: e.type,
    endpoint: e.endpoint,
    region: e.region,
    path_style: e.pathStyle,
    ...(e.accessKey ? { access_key: e.accessKey } : {}),
    secret_set: e.source === 'db' || e.type === 's3',
    enabled: e.enabled,
    source: e.source,
    healthy: e.health.healthy,
    ...(e.health.lastError ? { last_error: e.health.lastError } : {}),
    ...optIso('last_probe_at', e.health.lastProbeAt),
    ...optIso('created_at', e.row?.created_at),
    ...optIso('updated_at', e.row?.updated_at),
  }
}

export function healthDTO(e: BackendEntry): typeof ProbeHistoryDTO.static {
  return {
    id: e.id,
    name: e.name,
    healthy: e.health.healthy,
    ...optIso('last_probe_at', e.health.lastProbeAt),
    ...(e.health.lastError ? { last_error: e.health.lastError } : {}),
    latency_ms: e.health.latencyMs,
    history: e.health.history.map((h) => ({ at: iso(h.at)!, healthy: h.healthy, latency_ms: h.latencyMs, ...(h.error ? { error: h.error } : {}) })),
  }
}
