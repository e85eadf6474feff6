// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The HTTP side of uploads: one-request uploads and the multipart routes, with the retry policy.
 * Framework-free; the queue drives it and keeps the reactive state.
 */
import { ApiError, api, isAbort, request, upload } from '../api.ts'
import type { ObjectInfo, MultipartCreated, UploadedPart } from '../storage-types.ts'

const MiB = 1024 * 1024

/** Parts of 16 MiB: big enough to keep requests few, small enough that a retry loses little. */
export const PART_SIZE = 16 * MiB
export const PART_CONCURRENCY = 3
/** Files up to one part go in one request; anything bigger is a multipart upload. */
export const MULTIPART_THRESHOLD = PART_SIZE
const MAX_PARTS = 10_000
const MAX_ATTEMPTS = 5

/** 16 MiB, or more for files so large that 10 000 parts of 16 MiB would not hold them. */
export function partSizeFor(size: number): number {
  return Math.max(PART_SIZE, Math.ceil(size / MAX_PARTS / MiB) * MiB)
}

export function partCount(size: number, partSize: number): number {
  return Math.max(1, Math.ceil(size / partSize))
}

/** Worth another try: the network dropped, the server was busy or briefly failing. */
function retryable(err: unknown): boolean {
  return (
    err instanceof ApiError && (err.status === 0 || err.status === 408 || err.status === 429 || err.status >= 500) && err.status !== 501 && err.status !== 507
  )
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new DOMException('aborted', 'AbortError'))
    const timer = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(new DOMException('aborted', 'AbortError'))
      },
      { once: true },
    )
  })
}

/** Runs `attempt` up to MAX_ATTEMPTS times with exponential backoff (or the server's Retry-After). */
export async function withRetry<T>(attempt: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt()
    } catch (err) {
      if (isAbort(err) || signal.aborted || !retryable(err) || tries >= MAX_ATTEMPTS) throw err
      const wait = err instanceof ApiError && err.retryAfter ? err.retryAfter * 1000 : 1000 * 2 ** (tries - 1) + Math.random() * 250
      await sleep(wait, signal)
    }
  }
}

const noOverwrite = (overwrite: boolean): Record<string, string> => (overwrite ? {} : { 'If-None-Match': '*' })

export interface Destination {
  /** API path of the bucket, e.g. /api/backends/local/buckets/photos. */
  base: string
  key: string
}

/** One request: the raw file as the body (streamed to the backend by the server, no size cap). */
export async function putSmall(
  to: Destination,
  file: File,
  overwrite: boolean,
  signal: AbortSignal,
  onProgress: (loaded: number) => void,
): Promise<ObjectInfo> {
  const result = await withRetry(
    () =>
      upload<ObjectInfo>(`${to.base}/object`, {
        method: 'POST',
        query: { key: to.key },
        headers: { 'Content-Type': file.type || 'application/octet-stream', ...noOverwrite(overwrite) },
        body: file,
        signal,
        onProgress: (loaded) => onProgress(loaded),
      }),
    signal,
  )
  return result.data
}

export async function startMultipart(to: Destination, contentType: string, overwrite: boolean): Promise<string> {
  const created = await request<MultipartCreated>(`${to.base}/multipart`, {
    method: 'POST',
    query: { key: to.key },
    body: { content_type: contentType },
    headers: noOverwrite(overwrite),
  })
  return created.upload_id
}

/** The parts the server already holds, or null when the upload no longer exists (completed, aborted, expired). */
export async function uploadedParts(to: Destination, uploadId: string, signal: AbortSignal): Promise<UploadedPart[] | null> {
  try {
    const result = await withRetry(() => api.get<{ parts: UploadedPart[] }>(`${to.base}/multipart/parts`, { key: to.key, upload_id: uploadId }, signal), signal)
    return result.parts
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null
    throw err
  }
}

export async function putPart(
  to: Destination,
  uploadId: string,
  partNumber: number,
  body: Blob,
  signal: AbortSignal,
  onProgress: (loaded: number) => void,
): Promise<UploadedPart> {
  const result = await withRetry(() => {
    onProgress(0)
    return upload<UploadedPart>(`${to.base}/multipart/parts/${partNumber}`, {
      method: 'PUT',
      query: { key: to.key, upload_id: uploadId },
      body,
      signal,
      onProgress: (loaded) => onProgress(loaded),
    })
  }, signal)
  return result.data
}

export function completeMultipart(to: Destination, uploadId: string, parts: UploadedPart[], overwrite: boolean): Promise<ObjectInfo> {
  const sorted = [...parts].sort((a, b) => a.part_number - b.part_number)
  return request<ObjectInfo>(`${to.base}/multipart/complete`, {
    method: 'POST',
    query: { key: to.key, upload_id: uploadId },
    body: { parts: sorted.map((part) => ({ PartNumber: part.part_number, ETag: part.etag })) },
    headers: noOverwrite(overwrite),
  })
}

export async function abortMultipart(to: Destination, uploadId: string): Promise<void> {
  try {
    await request(`${to.base}/multipart`, { method: 'DELETE', query: { key: to.key, upload_id: uploadId } })
  } catch (err) {
    // Already gone is what we wanted.
    if (!(err instanceof ApiError && err.status === 404)) throw err
  }
}
