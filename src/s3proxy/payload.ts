// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The request body as it goes upstream, per payload mode:
 *
 * - UNSIGNED-PAYLOAD: the bytes as received, with the client's Content-Length.
 * - a signed SHA-256: the same bytes, hashed on the way through by
 *   verifyPayloadSha256 (which holds back the last piece until the digest
 *   matches), and the digest is also sent upstream as x-amz-content-sha256,
 *   so a mismatched body is refused twice and can never become an object.
 * - STREAMING-* (aws-chunked, signed or unsigned, with or without checksum
 *   trailers): decoded by decodeAwsChunked, every chunk signature and trailer
 *   checksum verified, chunks capped at 16 MiB; the plain bytes go upstream
 *   with Content-Length = x-amz-decoded-content-length. Verified trailer
 *   checksums cannot be forwarded (they arrive after the headers, and the
 *   upstream needs a fixed length, so no HTTP trailers) and are dropped.
 *
 * Whatever fails, the body stream errors; the forwarder then aborts the
 * upstream request instead of finishing it.
 */
import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { S3Error } from './errors.ts'
import { chunkedOptionsFor, decodeAwsChunked } from './sigv4/chunked.ts'
import { verifyPayloadSha256 } from './sigv4/payload-hash.ts'
import type { VerifyOk } from './sigv4/verify.ts'
import { EMPTY_SHA256, UNSIGNED_PAYLOAD } from './sigv4/canonical.ts'

export type Payload = {
  body?: ReadableStream<Uint8Array>
  /** Bytes the upstream will receive. */
  length: number
  payloadHash: string
  /** True when the body was aws-chunked (checksum headers describing the trailer are dropped). */
  decoded: boolean
}

const DECIMAL = /^\d{1,16}$/

/** Content-Length of a plain body; throws 411 when a body comes without one. */
function declaredLength(req: IncomingMessage): number {
  const cl = req.headers['content-length']
  if (cl !== undefined) {
    if (!DECIMAL.test(cl)) throw new S3Error(400, 'InvalidArgument', 'Content-Length is not a number.', 'bad-request')
    return Number(cl)
  }
  if (req.headers['transfer-encoding'] !== undefined) throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.', 'bad-request')
  return 0
}

export function preparePayload(req: IncomingMessage, verified: VerifyOk | undefined): Payload {
  const chunked = verified ? chunkedOptionsFor(verified) : undefined
  if (chunked) {
    const { body } = decodeAwsChunked(Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>, chunked)
    return { body, length: chunked.decodedLength, payloadHash: UNSIGNED_PAYLOAD, decoded: true }
  }
  const length = declaredLength(req)
  const signed = verified?.payload.kind === 'signed' ? verified.payload.sha256Hex : undefined
  if (length === 0) {
    if (signed !== undefined && signed !== EMPTY_SHA256) throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", 'bad-digest')
    req.resume()
    return { length: 0, payloadHash: signed ?? UNSIGNED_PAYLOAD, decoded: false }
  }
  const raw = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>
  return { body: signed ? verifyPayloadSha256(raw, signed) : raw, length, payloadHash: signed ?? UNSIGNED_PAYLOAD, decoded: false }
}
