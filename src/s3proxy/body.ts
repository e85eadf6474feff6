// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The request body, built once into the `CallBody` a path consumes. First
 * the headers are read (`planBody`: how long, which payload mode; 411 and
 * malformed lengths are refused here, before authorization ends), then, once
 * the request is authorized, the body itself (`readBody`):
 *
 * - UNSIGNED-PAYLOAD: the bytes as received with the client's Content-Length,
 *   read whole up to SMALL_BODY, else streamed (and offered as the node
 *   stream itself, which fetch reads faster).
 * - a signed SHA-256: the same bytes, hashed whole before the path runs up to
 *   SMALL_BODY, else hashed on the way by verifyPayloadSha256 (which holds
 *   back the last piece until the digest matches); the digest travels with
 *   the body, so the upstream checks it again.
 * - STREAMING-* (aws-chunked, signed or unsigned, with or without checksum
 *   trailers): decoded by decodeAwsChunked, every chunk signature and trailer
 *   checksum verified, chunks capped at 16 MiB; the path receives the plain
 *   bytes, exactly x-amz-decoded-content-length of them.
 * - a document (DeleteObjects): read whole whatever the mode, up to a cap.
 *
 * Whatever fails, a stream errors, so a consumer never ends it cleanly.
 */
import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { SlabPool } from '../lib/slab-pool.ts'
import type { CallBody } from './call.ts'
import { S3Error } from './errors.ts'
import { EMPTY_SHA256 } from '../s3/canonical.ts'
import { chunkedOptionsFor, decodeAwsChunked, SigV4StreamError, type ChunkedOptions } from './sigv4/chunked.ts'
import { verifyPayloadSha256 } from './sigv4/payload-hash.ts'
import { s3ErrorStatus, type VerifyOk } from './sigv4/verify.ts'

/**
 * Plain bodies up to this size are read whole and sent as one buffer: under Bun, streaming a
 * request body through fetch costs far more CPU per request than the copy, and the SHA-256 of a
 * signed payload is then checked before the upstream is even contacted. At 16 concurrent 1 MiB
 * uploads that holds 16 MiB; anything larger streams.
 */
const SMALL_BODY = 1024 * 1024

/** Where bodies read whole live; the pipeline gives a slab back once the path is done with it. */
export const bodySlabs = new SlabPool(SMALL_BODY, 16)

/** What the headers say about the body, before any of it is read. `length` is what the path receives. */
export type BodyPlan = { kind: 'empty' } | { kind: 'plain'; length: number; sha256?: string } | { kind: 'chunked'; length: number; options: ChunkedOptions }

const DECIMAL = /^\d{1,16}$/

const mismatch = (): S3Error =>
  new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", 'bad-digest')
const tooBig = (): S3Error => new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.', 'bad-request')

/** The client went away before its request was served (499 is never seen by it; it names the case in metrics). */
export const clientGone = (): S3Error => new S3Error(499, 'RequestAborted', 'The client closed the connection.', 'client-gone')

/** The S3 error for a body that failed on the way (a stream error, a short body). */
export function bodyError(err: unknown): S3Error {
  if (err instanceof S3Error) return err
  if (err instanceof SigV4StreamError)
    return new S3Error(s3ErrorStatus(err.code), err.code, err.message, err.code === 'SignatureDoesNotMatch' ? 'bad-chunk-signature' : 'bad-body')
  return new S3Error(400, 'IncompleteBody', 'The request body terminated unexpectedly.', 'bad-body')
}

/** Content-Length of a plain body; throws 411 when a body comes without one. */
function declaredLength(req: IncomingMessage): number {
  const cl = req.headers['content-length']
  if (cl !== undefined) {
    if (!DECIMAL.test(cl)) throw new S3Error(400, 'InvalidArgument', 'Content-Length is not a number.', 'bad-request')
    return Number(cl)
  }
  if (req.headers['transfer-encoding'] !== undefined)
    throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.', 'bad-request')
  return 0
}

/** Reads the body's framing from the headers (no byte of it is read). */
export function planBody(req: IncomingMessage, verified: VerifyOk | undefined): BodyPlan {
  const chunked = verified ? chunkedOptionsFor(verified) : undefined
  if (chunked) return { kind: 'chunked', length: chunked.decodedLength, options: chunked }
  // GET and HEAD never carry a body upstream, whatever the client sent or signed.
  const bodyless = req.method === 'GET' || req.method === 'HEAD'
  const length = bodyless ? 0 : declaredLength(req)
  const sha256 = !bodyless && verified?.payload.kind === 'signed' ? verified.payload.sha256Hex : undefined
  if (length === 0) {
    if (sha256 !== undefined && sha256 !== EMPTY_SHA256) throw mismatch()
    return { kind: 'empty' }
  }
  return sha256 === undefined ? { kind: 'plain', length } : { kind: 'plain', length, sha256 }
}

/** Reads exactly `length` bytes of a request body into a slab. */
function readWhole(req: IncomingMessage, length: number, sha256: string | undefined): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    const buf = bodySlabs.take(length)
    let at = 0
    let settled = false
    const fail = (err: unknown): void => {
      req.off('data', onData)
      if (settled) return
      settled = true
      bodySlabs.give(buf)
      reject(err)
    }
    const onData = (chunk: Buffer): void => {
      if (at + chunk.length > length) return fail(new SigV4StreamError('IncompleteBody', 'The request body is longer than its Content-Length'))
      buf.set(chunk, at)
      at += chunk.length
    }
    req.on('data', onData)
    req.once('end', () => {
      if (at !== length) return fail(new SigV4StreamError('IncompleteBody', 'The request body terminated unexpectedly'))
      if (sha256 !== undefined && new Bun.CryptoHasher('sha256').update(buf).digest('hex') !== sha256) return fail(mismatch())
      settled = true
      resolve(buf)
    })
    req.once('error', fail)
    req.once('aborted', () => fail(new SigV4StreamError('IncompleteBody', 'The client closed the connection')))
  })
}

/** The body as a verified web stream (and the aws-chunked trailer, when there is one). */
function streamOf(
  req: IncomingMessage,
  plan: Exclude<BodyPlan, { kind: 'empty' }>,
): { stream: ReadableStream<Uint8Array>; trailer?: Promise<Record<string, string>> } {
  const web = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>
  if (plan.kind === 'chunked') {
    const { body, trailers } = decodeAwsChunked(web, plan.options)
    return plan.options.trailerHeader === undefined ? { stream: body } : { stream: body, trailer: trailers }
  }
  return { stream: plan.sha256 === undefined ? web : verifyPayloadSha256(web, plan.sha256) }
}

async function readDocument(stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    if (size > max) throw tooBig()
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/**
 * Reads or wraps the body as the plan says; called once the request is authorized (and 100
 * Continue sent). `document` reads it whole, into memory of its own, up to that many bytes.
 */
export async function readBody(req: IncomingMessage, plan: BodyPlan, o: { signal: AbortSignal; document?: number }): Promise<CallBody> {
  if (plan.kind === 'empty') {
    req.resume()
    return { kind: 'empty' }
  }
  const sha256 = plan.kind === 'plain' ? plan.sha256 : undefined
  try {
    if (o.document !== undefined) {
      if (plan.length > o.document) throw tooBig()
      return { kind: 'whole', bytes: await readDocument(streamOf(req, plan).stream, o.document), ...(sha256 ? { sha256 } : {}) }
    }
    if (plan.kind === 'plain' && plan.length <= SMALL_BODY)
      return { kind: 'whole', bytes: await readWhole(req, plan.length, sha256), ...(sha256 ? { sha256 } : {}) }
  } catch (err) {
    throw o.signal.aborted ? clientGone() : bodyError(err)
  }
  if (plan.kind === 'plain' && sha256 === undefined) {
    // An unsigned body needs no inspection: a consumer may take the node stream itself, which
    // fetch reads faster and leaner than a web stream (≈53 against 32 MiB/s for 256 MiB).
    let web: ReadableStream<Uint8Array> | undefined
    return {
      kind: 'stream',
      length: plan.length,
      decoded: false,
      source: req,
      get stream(): ReadableStream<Uint8Array> {
        return (web ??= Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>)
      },
    }
  }
  const { stream, trailer } = streamOf(req, plan)
  return { kind: 'stream', length: plan.length, stream, decoded: plan.kind === 'chunked', ...(trailer ? { trailer } : {}), ...(sha256 ? { sha256 } : {}) }
}
