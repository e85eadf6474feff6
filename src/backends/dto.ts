// SPDX-License-Identifier: AGPL-3.0-or-later
/** Registry entries as the backend routes send them; apart from model.ts so the schemas stay free of the registry (the web UI type-checks against them). */
import { iso } from '../users/model.ts'
import type { AdminBackendDTO, BackendStatusDTO, Capabilities, ProbeHistoryDTO } from './model.ts'
import type { BackendEntry } from './registry.ts'

const optIso = (k: string, ms: number | undefined) => (ms ? { [k]: iso(ms)! } : {})

export function statusDTO(e: BackendEntry, caps: Capabilities): typeof BackendStatusDTO.static {
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
