// SPDX-License-Identifier: AGPL-3.0-or-later
/** Web-stream helpers for bodies that must never be held whole in memory. */
import { fail, type AppError } from '../http/errors.ts'

/**
 * Reads up to `n` bytes from the start of a stream and returns them with a
 * stream that replays them followed by the rest, so a caller can look at the
 * first bytes and still send everything.
 */
export async function peek(stream: ReadableStream<Uint8Array>, n: number): Promise<{ head: Uint8Array; stream: ReadableStream<Uint8Array> }> {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  let done = false
  while (size < n) {
    const r = await reader.read()
    if (r.done) {
      done = true
      break
    }
    chunks.push(r.value)
    size += r.value.byteLength
  }
  const buffered = Buffer.concat(chunks)
  let replayed = false
  const out = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!replayed) {
        replayed = true
        if (buffered.byteLength) return controller.enqueue(new Uint8Array(buffered))
      }
      if (done) return controller.close()
      const r = await reader.read()
      if (r.done) controller.close()
      else controller.enqueue(r.value)
    },
    cancel(reason) {
      return reader.cancel(reason)
    },
  })
  return { head: buffered.subarray(0, n), stream: out }
}

/**
 * Passes a body through while checking it is exactly `size` bytes. A short,
 * long or broken-off body errors the stream (so the driver abandons the write)
 * and the reason is kept in `problem`, which callers report instead of the
 * driver's generic failure.
 */
export function exactLength(body: ReadableStream<Uint8Array> | null, size: number): { stream: ReadableStream<Uint8Array>; problem(): AppError | undefined } {
  let seen = 0
  let problem: AppError | undefined
  const source = body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() })
  const check = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength
      if (seen > size) {
        problem = fail('bad_request', 'The body is longer than its Content-Length.')
        controller.error(problem)
        return
      }
      controller.enqueue(chunk)
    },
    flush(controller) {
      if (seen < size) {
        problem = fail('bad_request', 'The body ended before its Content-Length.')
        controller.error(problem)
      }
    },
  })
  // A body that breaks off (the client paused, reloaded or lost its connection) is the client's
  // doing, not the backend's: it is recorded as the problem too.
  const reader = source.getReader()
  const watched = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = await reader.read()
        if (r.done) controller.close()
        else controller.enqueue(r.value)
      } catch (err) {
        problem ??= fail('bad_request', 'The upload was interrupted.')
        controller.error(err)
      }
    },
    cancel: (reason) => reader.cancel(reason),
  })
  return { stream: watched.pipeThrough(check), problem: () => problem }
}

/** An empty body (folders, zero-byte objects). */
export function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({ start: (c) => c.close() })
}

/** Reads the declared Content-Length: a non-negative integer, or undefined when absent or malformed. */
export function declaredLength(headers: Headers): number | undefined {
  const v = headers.get('content-length')
  if (v === null || !/^\d{1,16}$/.test(v.trim())) return undefined
  const n = Number(v)
  return Number.isSafeInteger(n) ? n : undefined
}
