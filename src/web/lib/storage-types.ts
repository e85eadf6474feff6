// SPDX-License-Identifier: AGPL-3.0-or-later
/** JSON shapes of the backend, bucket and object routes (anchor.md §4.3), names exactly as on the wire. */

export interface Capabilities {
  versioning: boolean
  object_lock: boolean
  lifecycle: boolean
  bucket_policy: boolean
  cors: boolean
  backend_cors: boolean
  tagging: boolean
  server_side_encrypt: boolean
  admin_api: string
  max_multipart_parts: number
  max_part_size_bytes: number
  presign: boolean
  checksums: boolean
}

/** An entry of GET /api/backends. */
export interface BackendStatus {
  id: string
  name: string
  type: string
  source: string
  capabilities: Capabilities
  healthy: boolean
  last_probe_at?: string
  last_error?: string
}

export interface BackendHealth {
  healthy: boolean
  last_probe_at?: string
  last_error?: string
  latency_ms: number
}

export interface Bucket {
  name: string
  created_at?: string
  size_tracked: boolean
  size_bytes?: number
  object_count?: number
  computed_at?: string
  quota_soft_bytes?: number
  quota_hard_bytes?: number
}

export interface ObjectInfo {
  key: string
  size: number
  etag?: string
  content_type?: string
  storage_class?: string
  version_id?: string
  last_modified?: string
  metadata?: Record<string, string>
}

export interface ObjectList {
  prefix: string
  delimiter: string
  common_prefixes: string[]
  is_truncated: boolean
  next_continuation_token?: string
  objects: ObjectInfo[]
}

export interface ObjectVersion {
  key: string
  version_id: string
  is_latest: boolean
  is_delete_marker?: boolean
  size: number
  etag?: string
  storage_class?: string
  last_modified?: string
}

export interface BulkDeleteResult {
  deleted: { key: string; version_id?: string }[]
  errors: { key: string; version_id?: string; code: string; message: string }[]
}

/** NDJSON events of POST …/objects/delete-prefix. */
export type DeletePrefixEvent =
  | { event: 'start'; prefix: string }
  | { event: 'object'; key: string }
  | { event: 'error'; key?: string; code: string; message: string }
  | { event: 'done'; deleted: number; failed: number; cancelled?: boolean }

/** NDJSON events of POST …/objects/copy-prefix. */
export type CopyPrefixEvent =
  | { event: 'start'; src_prefix: string; dst_prefix: string }
  | { event: 'object'; src: string; dst: string; size: number }
  | { event: 'error'; src?: string; dst?: string; code: string; message: string }
  | { event: 'done'; copied: number; failed: number; bytes: number; cancelled?: boolean }

export interface Quota {
  configured: boolean
  soft_bytes?: number
  hard_bytes?: number
  updated_at?: string
  updated_by?: string
  usage_bytes?: number
  object_count?: number
  computed_at?: string
  has_usage: boolean
}

export interface SizeTracking {
  enabled: boolean
  updated_at?: string
  updated_by?: string
}

export interface PrefixSize {
  bytes: number
  count: number
  prefix: string
  computed_at: string
  truncated: boolean
}

export interface Pin {
  backend_id: string
  bucket: string
  created_at: string
}

export interface CorsRule {
  allowed_origins: string[]
  allowed_methods: string[]
  allowed_headers?: string[]
  expose_headers?: string[]
  max_age_seconds?: number
}

export interface LifecycleRule {
  id?: string
  prefix?: string
  enabled: boolean
  expiration_days?: number
  noncurrent_expire_days?: number
  abort_incomplete_days?: number
  transition_days?: number
  transition_storage_class?: string
}

export type SearchPartialReason = 'timeout' | 'cancelled' | 'unavailable' | 'error' | 'scan_limit'

export interface SearchResult {
  query: string
  buckets: { backend_id: string; bucket: string }[]
  objects: { backend_id: string; bucket: string; key: string; size: number; last_modified?: string }[]
  truncated: boolean
  partial: { backend_id: string; reason: SearchPartialReason }[]
}

export interface MultipartCreated {
  bucket: string
  key: string
  upload_id: string
}

export interface UploadedPart {
  part_number: number
  etag: string
  size: number
}
