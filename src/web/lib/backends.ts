// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The backend list, shared for a few seconds: the copy dialog, the settings page and the object
 * browser all need names and capabilities, and one request should serve them.
 */
import { api } from './api.ts'
import type { BackendStatus, Bucket } from './storage-types.ts'
import { apiBackend } from './paths.ts'

const FRESH_MS = 10_000

let cache: { at: number; value: Promise<BackendStatus[]> } | null = null

export function listBackends(options: { fresh?: boolean } = {}): Promise<BackendStatus[]> {
  if (!options.fresh && cache && Date.now() - cache.at < FRESH_MS) return cache.value
  const value = api.get<{ backends: BackendStatus[] }>('/api/backends').then((result) => result.backends)
  cache = { at: Date.now(), value }
  value.catch(() => {
    if (cache?.value === value) cache = null
  })
  return value
}

export function getBackend(id: string, signal?: AbortSignal): Promise<BackendStatus> {
  return api.get<BackendStatus>(apiBackend(id), undefined, signal)
}

export async function listBuckets(backend: string, signal?: AbortSignal): Promise<Bucket[]> {
  return (await api.get<{ buckets: Bucket[] }>(`${apiBackend(backend)}/buckets`, undefined, signal)).buckets
}

/** Capability flags worth showing as badges, in display order. */
export const CAPABILITY_BADGES = ['versioning', 'tagging', 'lifecycle', 'bucket_policy', 'cors', 'object_lock', 'server_side_encrypt', 'presign'] as const
