// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bridges between the web streams of the Backend interface and the Node
 * streams node:http speaks, pull-driven in both directions so at most a
 * chunk or two is in memory, however large the object.
 */
import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { backendError } from './errors.ts'

/**
 * Reads a web stream as consecutive exact-length pieces: the whole object for
 * a single PUT, or one part after another for a multipart upload.
 */
export class BodyCursor {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>
  private leftover: Uint8Array | undefined
  private consumed = 0
  /**
   * Why a taken stream failed. node:http reports its own error (a reset
   * socket) for the request, so the caller asks here for the real cause.
   */
  failure: Error | undefined

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader()
  }

  /** Bytes handed out so far. */
  get position(): number {
    return this.consumed
  }

  private async next(max: number): Promise<Uint8Array | undefined> {
    let chunk = this.leftover
    this.leftover = undefined
    while (!chunk || chunk.length === 0) {
      const r = await this.reader.read()
      if (r.done) return undefined
      chunk = r.value
    }
    if (chunk.length > max) {
      this.leftover = chunk.subarray(max)
      chunk = chunk.subarray(0, max)
    }
    this.consumed += chunk.length
    return chunk
  }

  /** True when the source has nothing after what was taken. */
  private async atEnd(): Promise<boolean> {
    if (this.leftover?.length) return false
    for (;;) {
      const r = await this.reader.read()
      if (r.done) return true
      if (r.value.length) {
        this.leftover = r.value
        return false
      }
    }
  }

  /**
   * The next `n` bytes as a Node stream. It errors if the source ends early
   * or, when `last`, holds more than `n` bytes: then the error comes before
   * the final byte is sent, so the upstream never completes a wrong object.
   */
  take(n: number, last: boolean): Readable {
    let remaining = n
    const source = new Readable({
      highWaterMark: 0,
      read: () => {
        const step = async (): Promise<void> => {
          if (remaining === 0) {
            if (last && !(await this.atEnd())) throw lengthMismatch('longer')
            source.push(null)
            return
          }
          const chunk = await this.next(remaining)
          if (!chunk) throw lengthMismatch('shorter')
          remaining -= chunk.length
          if (remaining === 0 && last && !(await this.atEnd())) throw lengthMismatch('longer')
          source.push(chunk)
          if (remaining === 0) source.push(null)
        }
        step().catch((err: unknown) => {
          this.failure ??= err as Error
          source.destroy(err as Error)
        })
      },
    })
    return source
  }

  /** Stops reading the source; pending reads reject. */
  cancel(reason?: unknown): void {
    this.reader.cancel(reason).catch(() => {})
  }
}

function lengthMismatch(how: 'shorter' | 'longer'): Error {
  return backendError('invalid', undefined, `The request body is ${how} than its declared size.`)
}

/**
 * An upstream response body as a web stream. Cancelling it, or aborting
 * `signal`, destroys the response and with it the socket: a half-read body
 * cannot go back to the keep-alive pool.
 */
export function responseBody(res: IncomingMessage, signal?: AbortSignal): ReadableStream<Uint8Array> {
  const onAbort = (): void => {
    res.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'))
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  const release = (): void => signal?.removeEventListener('abort', onAbort)
  const iterator = (res as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller): Promise<void> {
        try {
          const r = await iterator.next()
          if (r.done) {
            release()
            controller.close()
          } else controller.enqueue(r.value)
        } catch (err) {
          release()
          controller.error(signal?.aborted ? signal.reason : backendError('unavailable', err, 'The storage backend connection broke during the download.'))
        }
      },
      cancel(): void {
        release()
        res.destroy()
      },
    },
    { highWaterMark: 0 },
  )
}
