// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The contract between the S3 listener's pipeline and the two paths that
 * serve a verified request: the forwarder (backends of type `s3`: re-signed
 * and sent upstream) and the engine (backends of type `fs`: turned into calls
 * on the backend seam). The pipeline builds one `S3Call` per request after
 * authentication, classification and scope checks, and never changes it; a
 * path answers with one `S3Reply` (or throws an `S3Error`), and one place
 * writes that reply to the client.
 */
import type { ResolvedCredential } from '../credentials/service.ts'
import type { Access, Operation } from './classify.ts'
import type { Inbound } from './request.ts'

/** The request body, in the one form it has after verification. */
export type CallBody =
  | { kind: 'empty' }
  /** Read whole before the path runs (small bodies); already checked against the signed digest. */
  | { kind: 'whole'; bytes: Uint8Array }
  /**
   * Streamed: exactly `length` bytes (the decoded length for aws-chunked).
   * The stream errors when a signature, digest, checksum or length check
   * fails, so a consumer commits nothing before it has ended cleanly.
   * `trailer` resolves, once the stream has ended, to the checksums an
   * aws-chunked trailer carried (lower-case header names, verified).
   */
  | { kind: 'stream'; length: number; stream: ReadableStream<Uint8Array>; decoded: boolean; trailer?: Promise<Record<string, string>> }

export type S3Call = {
  requestId: string
  op: Operation
  access: Access
  /** Method, bucket, key, decoded query parameters and the resource for error documents. */
  inbound: Inbound
  /** Request headers with lower-case names; values are byte strings (one char per received byte). */
  headers: Headers
  body: CallBody
  /** Undefined for anonymous requests. */
  cred: ResolvedCredential | undefined
  backendId: string
  signal: AbortSignal
  now: number
}

export type ReplyBody =
  | { kind: 'empty' }
  | { kind: 'bytes'; bytes: Uint8Array }
  /** `length` is the exact byte count; it becomes Content-Length. */
  | { kind: 'stream'; length: number; stream: ReadableStream<Uint8Array> }

/** Header names in lower case; values are byte strings. */
export type S3Reply = { status: number; headers: Record<string, string>; body: ReplyBody }

/** A path that serves verified calls. */
export type S3Path = { serve(call: S3Call): Promise<S3Reply> }
