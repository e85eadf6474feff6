// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Checks a signed payload (x-amz-content-sha256 = hex digest) while it streams through. The
 * original never hashed these bodies at all, so a client could sign one body and send another.
 *
 * Bytes pass through unchanged, except that the latest piece is held back until the next one
 * arrives or the digest has matched: an upstream with a fixed Content-Length therefore never
 * receives a complete body whose hash is wrong. On mismatch the stream errors with
 * XAmzContentSHA256Mismatch and the consumer must abort its upstream request.
 */
import { createHash } from 'node:crypto'
import { SigV4StreamError } from './errors.ts'

/**
 * @example
 * if (v.payload.kind === 'signed') body = verifyPayloadSha256(request.body!, v.payload.sha256Hex)
 */
export function verifyPayloadSha256(input: ReadableStream<Uint8Array>, expectedHex: string): ReadableStream<Uint8Array> {
  const expected = expectedHex.toLowerCase()
  const hash = createHash('sha256')
  const reader = input.getReader()
  let held: Uint8Array | undefined

  return new ReadableStream<Uint8Array>({
    async pull(controller): Promise<void> {
      // Loop until something is enqueued: a pull that enqueues nothing is not called again.
      for (;;) {
        let result: Awaited<ReturnType<typeof reader.read>>
        try {
          result = await reader.read()
        } catch (err) {
          controller.error(new SigV4StreamError('IncompleteBody', 'The request body could not be read: ' + (err instanceof Error ? err.message : String(err))))
          return
        }
        if (result.done) {
          if (hash.digest('hex') !== expected) {
            held = undefined
            controller.error(new SigV4StreamError('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed."))
            return
          }
          if (held !== undefined) controller.enqueue(held)
          held = undefined
          controller.close()
          return
        }
        if (result.value.length === 0) continue
        hash.update(result.value)
        const previous = held
        held = result.value
        if (previous !== undefined) {
          controller.enqueue(previous)
          return
        }
      }
    },
    cancel(reason): Promise<void> {
      return reader.cancel(reason)
    },
  })
}
