// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A long job reported as NDJSON, one event per line. The job sees one signal
 * that fires when the client disconnects (the request's signal) or stops
 * reading (the stream is cancelled), and is expected to wind down and report
 * `cancelled`. Emitting waits while the client is behind, so a slow reader
 * slows the job instead of filling memory.
 */
import type { Logger } from '../lib/log.ts'

export type Emit<E> = (event: E) => Promise<void>

export function ndjsonResponse<E>(job: (emit: Emit<E>, signal: AbortSignal) => Promise<void>, client: AbortSignal, logger: Logger): Response {
  const stop = new AbortController()
  const signal = AbortSignal.any([client, stop.signal])
  const encoder = new TextEncoder()
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let wake: (() => void) | undefined
  let closed = false

  const emit: Emit<E> = async (event) => {
    if (closed || stop.signal.aborted) return
    controller.enqueue(encoder.encode(JSON.stringify(event) + '\n'))
    if ((controller.desiredSize ?? 1) <= 0) await new Promise<void>((resolve) => (wake = resolve))
  }

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
        void job(emit, signal)
          .catch((err) => logger.error('streamed job failed', { error: (err as Error)?.message }))
          .finally(() => {
            closed = true
            wake?.()
            try {
              c.close()
            } catch {
              // already closed by a cancel
            }
          })
      },
      pull() {
        wake?.()
        wake = undefined
      },
      cancel() {
        stop.abort()
        wake?.()
        wake = undefined
      },
    },
    { highWaterMark: 64 },
  )
  return new Response(body, {
    status: 200,
    headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
  })
}

/** Runs `work` over `items` with at most `limit` in flight, stopping early when `signal` fires. */
export async function eachLimited<T>(items: T[], limit: number, signal: AbortSignal, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length && !signal.aborted) await work(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
