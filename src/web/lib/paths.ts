// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * URLs of the storage API and of the storage pages, built in one place so every path segment is
 * encoded the same way. Object keys and prefixes travel as query parameters on the API (keys may
 * hold any character); in page URLs a prefix is the tail of the path, one encoded segment per folder.
 */
import { buildUrl } from './api.ts'

const seg = encodeURIComponent

export function apiBackend(backend: string): string {
  return `/api/backends/${seg(backend)}`
}

export function apiBucket(backend: string, bucket: string): string {
  return `${apiBackend(backend)}/buckets/${seg(bucket)}`
}

/** GET URL of an object's bytes; `inline` asks the server to let the browser show it (it decides what is safe). */
export function objectUrl(backend: string, bucket: string, key: string, options: { inline?: boolean; versionId?: string } = {}): string {
  return buildUrl(`${apiBucket(backend, bucket)}/object`, { key, version_id: options.versionId, disposition: options.inline ? 'inline' : undefined })
}

/** A streamed zip of several keys; a key ending in "/" adds the whole folder. */
export function zipUrl(backend: string, bucket: string, keys: string[]): string {
  const params = new URLSearchParams()
  for (const key of keys) params.append('key', key)
  return `${apiBucket(backend, bucket)}/objects/zip?${params.toString()}`
}

export function backendPage(backend: string): string {
  return `/b/${seg(backend)}`
}

/**
 * The object browser at a folder. A segment made only of dots would be removed by the browser's
 * URL normalisation, so such prefixes go in the query instead.
 */
export function browserPage(backend: string, bucket: string, prefix = '', query: Record<string, string> = {}): string {
  const base = `/b/${seg(backend)}/${seg(bucket)}/`
  const segments = prefix.split('/')
  if (segments.some((part) => /^\.+$/.test(part))) return buildUrl(base, { ...query, prefix })
  return buildUrl(base + segments.map(seg).join('/'), query)
}

export function settingsPage(backend: string, bucket: string): string {
  return `/b/${seg(backend)}/${seg(bucket)}/settings`
}

/** The folder part of a key or prefix: `a/b/c.txt` → `a/b/`, `a/b/` → `a/`. */
export function parentOf(key: string): string {
  const trimmed = key.endsWith('/') ? key.slice(0, -1) : key
  const cut = trimmed.lastIndexOf('/')
  return cut < 0 ? '' : trimmed.slice(0, cut + 1)
}

/** The last segment of a key or prefix, without the trailing slash of a folder. */
export function baseName(key: string): string {
  const trimmed = key.endsWith('/') ? key.slice(0, -1) : key
  return trimmed.slice(trimmed.lastIndexOf('/') + 1)
}
