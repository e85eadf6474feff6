// SPDX-License-Identifier: AGPL-3.0-or-later
/** GET semantics on an opened file: conditional headers, byte ranges, a bounded body stream. */
import type { FileHandle } from 'node:fs/promises'
import { BackendError, type GetOptions, type ObjectInfo, type Range } from '../backend.ts'
import { etagListMatches, seconds } from '../conditions.ts'

/** Bytes per read; also the most a body holds in memory at once (it pulls one chunk at a time). */
const READ_CHUNK = 256 * 1024

/**
 * RFC 9110 order, which S3 follows: If-Match, else If-Unmodified-Since, can
 * fail the request (kind `precondition`); then If-None-Match, else
 * If-Modified-Since, can turn it into a 304.
 */
export function notModified(info: ObjectInfo, opts: GetOptions): boolean {
  const etag = info.etag ?? ''
  const modified = info.lastModified ?? new Date(0)
  if (opts.ifMatch !== undefined) {
    if (!etagListMatches(opts.ifMatch, etag)) throw new BackendError('precondition', 'If-Match failed')
  } else if (opts.ifUnmodifiedSince && seconds(modified) > seconds(opts.ifUnmodifiedSince)) {
    throw new BackendError('precondition', 'If-Unmodified-Since failed')
  }
  if (opts.ifNoneMatch !== undefined) return etagListMatches(opts.ifNoneMatch, etag)
  return opts.ifModifiedSince !== undefined && seconds(modified) <= seconds(opts.ifModifiedSince)
}

/** The inclusive byte span a range selects; kind `bad_range` when it selects nothing. */
export function resolveRange(range: Range, size: number): { start: number; end: number } {
  if ('suffix' in range) {
    if (!Number.isSafeInteger(range.suffix) || range.suffix <= 0 || size === 0) throw new BackendError('bad_range', 'range not satisfiable')
    return { start: Math.max(0, size - range.suffix), end: size - 1 }
  }
  const { start, end } = range
  const valid = Number.isSafeInteger(start) && start >= 0 && (end === undefined || (Number.isSafeInteger(end) && end >= start))
  if (!valid || start >= size) throw new BackendError('bad_range', 'range not satisfiable')
  return { start, end: Math.min(end ?? size - 1, size - 1) }
}

/**
 * Streams bytes `start..end` (inclusive) of an open file, one chunk per pull,
 * and closes the file when done, cancelled, failed or aborted.
 */
export function fileBody(fh: FileHandle, start: number, end: number, signal?: AbortSignal): ReadableStream<Uint8Array> {
  let pos = start
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    signal?.removeEventListener('abort', onAbort)
    await fh.close()
  }
  let controller: ReadableStreamDefaultController<Uint8Array>
  const onAbort = (): void => {
    controller.error(signal?.reason)
    void close()
  }
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
        if (signal?.aborted) onAbort()
        else signal?.addEventListener('abort', onAbort, { once: true })
      },
      async pull(c) {
        try {
          const want = Math.min(READ_CHUNK, end + 1 - pos)
          if (want <= 0) {
            await close()
            c.close()
            return
          }
          const buf = new Uint8Array(want)
          const { bytesRead } = await fh.read(buf, 0, want, pos)
          if (bytesRead === 0) throw new Error('the file shrank while being read')
          pos += bytesRead
          c.enqueue(bytesRead === want ? buf : buf.subarray(0, bytesRead))
          if (pos > end) {
            await close()
            c.close()
          }
        } catch (err) {
          await close()
          c.error(err)
        }
      },
      cancel: close,
    },
    { highWaterMark: 0 },
  )
}
