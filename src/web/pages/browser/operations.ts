// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Delete, copy and move of a selection, reporting into a progress object the dialog renders.
 * Folders go through the server's streaming prefix jobs (NDJSON, one line per object), plain
 * objects through the bulk-delete and single-copy routes. A move deletes a source only after it
 * was copied without a single failure, so a half-failed move never loses data.
 */
import { api, streamNdjson } from '../../lib/api.ts'
import { apiBucket, baseName } from '../../lib/paths.ts'
import type { BulkDeleteResult, CopyPrefixEvent, DeletePrefixEvent } from '../../lib/storage-types.ts'

const DELETE_BATCH = 1000
/** Errors kept for the report; the counts stay exact beyond it. */
const MAX_ERRORS = 200

export interface Item {
  key: string
  kind: 'folder' | 'object'
}

export interface JobProgress {
  done: number
  failed: number
  bytes: number
  current: string
  errors: { key: string; code: string; message: string }[]
  cancelled: boolean
}

export function newProgress(): JobProgress {
  return { done: 0, failed: 0, bytes: 0, current: '', errors: [], cancelled: false }
}

function fail(progress: JobProgress, key: string, code: string, message: string): void {
  progress.failed += 1
  if (progress.errors.length < MAX_ERRORS) progress.errors.push({ key, code, message })
}

async function deleteFolder(base: string, prefix: string, progress: JobProgress, signal: AbortSignal): Promise<boolean> {
  let clean = true
  for await (const event of streamNdjson<DeletePrefixEvent>(`${base}/objects/delete-prefix`, { method: 'POST', body: { prefix }, signal })) {
    if (event.event === 'object') {
      progress.done += 1
      progress.current = event.key
    } else if (event.event === 'error') {
      clean = false
      fail(progress, event.key ?? prefix, event.code, event.message)
    } else if (event.event === 'done') {
      if (event.cancelled) progress.cancelled = true
      clean = clean && event.failed === 0 && !event.cancelled
    }
  }
  return clean
}

/** Deletes the items; returns the keys that are gone completely (folders only when nothing failed). */
export async function deleteItems(backend: string, bucket: string, items: Item[], progress: JobProgress, signal: AbortSignal): Promise<Set<string>> {
  const base = apiBucket(backend, bucket)
  const removed = new Set<string>()
  const objects = items.filter((item) => item.kind === 'object').map((item) => item.key)
  for (let i = 0; i < objects.length; i += DELETE_BATCH) {
    if (signal.aborted) break
    const batch = objects.slice(i, i + DELETE_BATCH)
    progress.current = batch[0] ?? ''
    const result = await api.post<BulkDeleteResult>(`${base}/objects/delete`, { keys: batch.map((key) => ({ key })) })
    for (const item of result.deleted) {
      removed.add(item.key)
      progress.done += 1
    }
    for (const error of result.errors) fail(progress, error.key, error.code, error.message)
  }
  for (const item of items) {
    if (item.kind !== 'folder' || signal.aborted) continue
    progress.current = item.key
    if (await deleteFolder(base, item.key, progress, signal)) removed.add(item.key)
  }
  return removed
}

export interface Destination {
  backend: string
  bucket: string
  /** "" or ending in "/". */
  prefix: string
}

async function copyFolder(base: string, src: string, dst: string, to: Destination, progress: JobProgress, signal: AbortSignal): Promise<boolean> {
  let clean = true
  const body = { src_prefix: src, dst_prefix: dst, dst_bucket: to.bucket, dst_backend: to.backend }
  for await (const event of streamNdjson<CopyPrefixEvent>(`${base}/objects/copy-prefix`, { method: 'POST', body, signal })) {
    if (event.event === 'object') {
      progress.done += 1
      progress.bytes += event.size
      progress.current = event.src
    } else if (event.event === 'error') {
      clean = false
      fail(progress, event.src ?? src, event.code, event.message)
    } else if (event.event === 'done') {
      if (event.cancelled) progress.cancelled = true
      clean = clean && event.failed === 0 && !event.cancelled
    }
  }
  return clean
}

/**
 * Copies each item into the destination folder under its own name (a folder with everything in
 * it); with `move`, deletes each source once its copy succeeded. Returns the moved-away keys.
 */
export async function transferItems(
  source: { backend: string; bucket: string },
  items: Item[],
  to: Destination,
  /** `names`: a destination name per item key, for items that must not keep their own ("keep both"). */
  options: { move: boolean; rename?: string; names?: Map<string, string> },
  progress: JobProgress,
  signal: AbortSignal,
): Promise<Set<string>> {
  const base = apiBucket(source.backend, source.bucket)
  const moved = new Set<string>()
  for (const item of items) {
    if (signal.aborted) break
    const name = options.rename ?? options.names?.get(item.key) ?? baseName(item.key)
    progress.current = item.key
    if (item.kind === 'object') {
      const dst = to.prefix + name
      try {
        const result = await api.post<{ object: { size: number } }>(`${base}/object/copy`, {
          src_key: item.key,
          dst_key: dst,
          dst_bucket: to.bucket,
          dst_backend: to.backend,
        })
        progress.done += 1
        progress.bytes += result.object.size
        if (options.move) {
          await api.delete(`${base}/object`, { key: item.key })
          moved.add(item.key)
        }
      } catch (err) {
        const e = err as { code?: string; message?: string }
        fail(progress, item.key, e.code || 'copy_failed', e.message ?? '')
      }
    } else {
      const clean = await copyFolder(base, item.key, `${to.prefix}${name}/`, to, progress, signal)
      if (options.move && clean && !signal.aborted) {
        const removed = newProgress()
        if (await deleteFolder(base, item.key, removed, signal)) moved.add(item.key)
        else for (const error of removed.errors) fail(progress, error.key, error.code, error.message)
      }
    }
  }
  return moved
}
