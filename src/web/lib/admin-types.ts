// SPDX-License-Identifier: AGPL-3.0-or-later
/** JSON shapes of the admin routes (backends, health, audit, dashboard), names exactly as on the wire. */

/** An entry of GET /api/admin/backends; the secret itself is never sent back. */
export interface AdminBackend {
  id: string
  name: string
  type: string
  endpoint: string
  region: string
  path_style: boolean
  access_key?: string
  secret_set: boolean
  enabled: boolean
  /** `config` rows come from the config file and cannot be changed here; `db` rows can. */
  source: string
  healthy: boolean
  last_error?: string
  last_probe_at?: string
  created_at?: string
  updated_at?: string
}

export interface BackendInput {
  id?: string
  name?: string
  endpoint?: string
  region?: string
  path_style?: boolean
  access_key?: string
  secret_key?: string
  enabled?: boolean
}

export interface BackendTestResult {
  healthy: boolean
  latency_ms: number
  error?: string
}

export interface ProbeHistory {
  id: string
  name: string
  healthy: boolean
  last_probe_at?: string
  last_error?: string
  latency_ms: number
  history: { at: string; healthy: boolean; latency_ms: number; error?: string }[]
}

export type AuditStatus = 'ok' | 'denied' | 'error'

export interface AuditEvent {
  id: number
  timestamp: string
  user_id?: string
  username?: string
  action: string
  backend?: string
  bucket?: string
  key?: string
  request_id?: string
  ip?: string
  user_agent?: string
  status: string
  /** A JSON object as a string. */
  detail?: string
}

export interface AuditPage {
  events: AuditEvent[]
  total: number
}

export interface Dashboard {
  requests: {
    total_24h: number
    errors_24h: number
    refusals_24h: number
    hourly: { unix_hour: number; requests: number; errors: number; refusals: number }[]
    by_backend: Record<string, number>
    recent_errors: { when: string; path: string; method: string; status: number; kind: 'fault' | 'refusal'; code?: string; user_id?: string; backend?: string }[]
  }
  storage: {
    by_backend: { backend_id: string; bytes: number; objects: number; buckets: number }[]
    top_buckets: { backend_id: string; bucket: string; bytes: number; objects: number }[]
    scan_interval_seconds: number
    oldest_count_at?: string
  }
}
