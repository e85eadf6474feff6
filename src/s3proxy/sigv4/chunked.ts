// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Streaming decoder for `Content-Encoding: aws-chunked` bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD,
 * its -TRAILER variant and STREAMING-UNSIGNED-PAYLOAD-TRAILER, the AWS SDKs' default for
 * uploads with flexible checksums).
 *
 * Decoded bytes are passed on as views of the input, without copying, while they are hashed.
 * The price is that a chunk's bytes leave before its signature (or the final checksum) has
 * been checked, so two rules keep a bad body from ever becoming an object upstream:
 *  - the most recent decoded piece is always held back until the next piece arrives or the
 *    whole body, trailers included, has verified; the upstream therefore never sees all
 *    `decodedLength` bytes of a body that fails;
 *  - any failure errors the output stream (SigV4StreamError with an S3 code), and the consumer
 *    must abort its upstream request on a read error rather than end it cleanly.
 */
import { ChunkDecoder, type ChunkedMode } from './chunk-decoder.ts'
import { SigV4StreamError } from './errors.ts'
import type { VerifyOk } from './verify.ts'

export { SigV4StreamError } from './errors.ts'

export type ChunkedOptions = {
  mode: ChunkedMode
  /** x-amz-decoded-content-length: the body must decode to exactly this many bytes. */
  decodedLength: number
  /** Largest accepted chunk; default 16 MiB. Bigger chunk headers fail with InvalidChunkSizeError. */
  maxChunkSize?: number
  /** The request's own signature, which the first chunk signature chains from. */
  seedSignature: string
  signingKey: Uint8Array
  amzDate: string
  scope: { date: string; region: string; service: string }
  /** Value of x-amz-trailer, e.g. 'x-amz-checksum-crc32'. */
  trailerHeader?: string
}

export type ChunkedResult = {
  body: ReadableStream<Uint8Array>
  /** Verified trailers (lower-case names, without the trailer signature); rejects when the body fails. */
  trailers: Promise<Record<string, string>>
}

const DEFAULT_MAX_CHUNK = 16 * 1024 * 1024

/** Options for decodeAwsChunked from a successful verification, or undefined when the payload is not aws-chunked. */
export function chunkedOptionsFor(v: VerifyOk): ChunkedOptions | undefined {
  const kind = v.payload.kind
  if (v.chunked === undefined || (kind !== 'streaming-signed' && kind !== 'streaming-signed-trailer' && kind !== 'streaming-unsigned-trailer')) return undefined
  return {
    mode: kind,
    decodedLength: v.chunked.decodedLength,
    seedSignature: v.signature,
    signingKey: v.signingKey,
    amzDate: v.amzDate,
    scope: v.scope,
    ...(v.chunked.trailerHeader === undefined ? {} : { trailerHeader: v.chunked.trailerHeader }),
  }
}

function asStreamError(err: unknown): SigV4StreamError {
  if (err instanceof SigV4StreamError) return err
  return new SigV4StreamError('IncompleteBody', 'The request body could not be read: ' + (err instanceof Error ? err.message : String(err)))
}

/**
 * Decodes and verifies an aws-chunked body as it streams.
 *
 * @example
 * const opts = chunkedOptionsFor(verified)
 * const { body, trailers } = decodeAwsChunked(request.body!, opts!)
 * await fetch(upstream, { method: 'PUT', body, headers: { 'content-length': String(opts!.decodedLength) } })
 */
export function decodeAwsChunked(input: ReadableStream<Uint8Array>, opts: ChunkedOptions): ChunkedResult {
  let resolveTrailers!: (t: Record<string, string>) => void
  let rejectTrailers!: (e: SigV4StreamError) => void
  const trailers = new Promise<Record<string, string>>((resolve, reject) => {
    resolveTrailers = resolve
    rejectTrailers = reject
  })
  // Callers that only watch the body must not get an unhandled rejection from this promise.
  trailers.catch(() => undefined)

  let decoder: ChunkDecoder | undefined
  let setupError: SigV4StreamError | undefined
  try {
    decoder = new ChunkDecoder({
      mode: opts.mode,
      decodedLength: opts.decodedLength,
      maxChunkSize: opts.maxChunkSize ?? DEFAULT_MAX_CHUNK,
      seedSignature: opts.seedSignature,
      signingKey: opts.signingKey,
      amzDate: opts.amzDate,
      scope: opts.scope,
      trailerHeader: opts.trailerHeader,
    })
  } catch (err) {
    setupError = asStreamError(err)
  }

  const reader = input.getReader()
  const pieces: Uint8Array[] = []
  let held: Uint8Array | undefined

  const body = new ReadableStream<Uint8Array>({
    async pull(controller): Promise<void> {
      try {
        if (setupError !== undefined) throw setupError
        for (;;) {
          const { done, value } = await reader.read()
          if (done) {
            const verified = decoder!.end()
            if (held !== undefined) controller.enqueue(held)
            held = undefined
            controller.close()
            resolveTrailers(verified)
            return
          }
          decoder!.push(value, pieces)
          if (pieces.length === 0) continue
          // A pull that enqueues nothing is not called again, so only return after enqueueing.
          const previous = held
          held = pieces[pieces.length - 1]
          if (previous !== undefined) controller.enqueue(previous)
          for (let i = 0; i < pieces.length - 1; i++) controller.enqueue(pieces[i]!)
          const enqueued = previous !== undefined || pieces.length > 1
          pieces.length = 0
          if (enqueued) return
        }
      } catch (err) {
        const e = asStreamError(err)
        held = undefined
        pieces.length = 0
        rejectTrailers(e)
        controller.error(e)
        reader.cancel(e).catch(() => undefined)
      }
    },
    cancel(reason): Promise<void> {
      rejectTrailers(new SigV4StreamError('IncompleteBody', 'The decoded body was cancelled by its consumer'))
      return reader.cancel(reason)
    },
  })
  return { body, trailers }
}
