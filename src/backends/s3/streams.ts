// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Request bodies cut from the Backend interface's web streams, pull-driven so
 * at most a chunk or two is in memory, however large the object.
 */
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
   * The next `n` bytes as a stream. It errors if the source ends early or,
   * when `last`, holds more than `n` bytes: then the error comes before the
   * final byte is sent, so the upstream never completes a wrong object.
   */
  take(n: number, last: boolean): ReadableStream<Uint8Array> {
    let remaining = n
    const step = async (controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> => {
      if (remaining === 0) {
        if (last && !(await this.atEnd())) throw lengthMismatch('longer')
        controller.close()
        return
      }
      const chunk = await this.next(remaining)
      if (!chunk) throw lengthMismatch('shorter')
      remaining -= chunk.length
      if (remaining === 0 && last && !(await this.atEnd())) throw lengthMismatch('longer')
      controller.enqueue(chunk)
      if (remaining === 0) controller.close()
    }
    return new ReadableStream<Uint8Array>(
      {
        pull: (controller) =>
          step(controller).catch((err: unknown) => {
            this.failure ??= err as Error
            throw err
          }),
      },
      { highWaterMark: 0 },
    )
  }

  /** Stops reading the source; pending reads reject. */
  cancel(reason?: unknown): void {
    this.reader.cancel(reason).catch(() => {})
  }
}

function lengthMismatch(how: 'shorter' | 'longer'): Error {
  return backendError('invalid', undefined, `The request body is ${how} than its declared size.`)
}

/** The body of an empty object. */
export function emptyBody(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({ start: (controller) => controller.close() })
}
