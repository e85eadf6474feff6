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
import type { Readable } from 'node:stream'
import type { ResolvedCredential } from '../credentials/service.ts'
import type { Access, Operation } from './classify.ts'
import type { Inbound } from './request.ts'
import type { CopySource } from './scope.ts'

/** The request body, in the one form it has after verification. */
export type CallBody =
  | { kind: 'empty' }
  /**
   * Read whole before the path runs (small bodies); already checked against the signed digest.
   * The bytes live in a reused buffer: a path must not hold on to them once its reply resolved.
   * `sha256` is the digest the client signed, when it signed one.
   */
  | { kind: 'whole'; bytes: Uint8Array; sha256?: string }
  /**
   * Streamed: exactly `length` bytes (the decoded length for aws-chunked).
   * The stream errors when a signature, digest, checksum or length check
   * fails, so a consumer commits nothing before it has ended cleanly.
   * `trailer` resolves, once the stream has ended, to the checksums an
   * aws-chunked trailer carried (lower-case header names, verified).
   * `sha256` is the digest the client signed (checked as the stream ends).
   * `source` is set when nothing checks the bytes on the way (an unsigned
   * plain body): the same bytes as the node stream they arrive on, for a
   * consumer that takes one (fetch reads it faster than a web stream). Read
   * `stream` or `source`, never both; `stream` is only made when asked for.
   */
  | {
      kind: 'stream'
      length: number
      readonly stream: ReadableStream<Uint8Array>
      decoded: boolean
      trailer?: Promise<Record<string, string>>
      sha256?: string
      source?: Readable
    }

export type S3Call = {
  requestId: string
  /** What to do. A POST Object arrives here as the PutObject it amounts to. */
  op: Operation
  access: Access
  /** Method, bucket, key, decoded query parameters and the resource for error documents. */
  inbound: Inbound
  bucket: string
  /** The object key; for a POST Object the form's `key` (the inbound request names none). */
  key?: string
  /**
   * Request headers with lower-case names (for a POST Object, the form's header fields); values
   * are byte strings (one char per received byte).
   */
  headers: Headers
  body: CallBody
  /** CopyObject and UploadPartCopy: `x-amz-copy-source`, parsed and checked against the scope. */
  copySource?: CopySource
  /** Undefined for anonymous requests. */
  cred: ResolvedCredential | undefined
  backendId: string
  signal: AbortSignal
  now: number
}

export type ReplyBody =
  | { kind: 'empty' }
  | { kind: 'bytes'; bytes: Uint8Array }
  /**
   * `length` is the exact byte count; it becomes Content-Length. It is undefined only when the
   * storage itself gave none (an upstream answering chunked); the reply then goes out chunked too.
   * The writer sends `stream` by its source's own pipe when it has one (lib/pipeable.ts).
   */
  | { kind: 'stream'; length: number | undefined; stream: ReadableStream<Uint8Array> }

/**
 * Header names in lower case; values are byte strings. The writer sets Content-Length from the
 * body, except in an answer to HEAD, where a `content-length` given here (the object's size) is kept.
 */
export type S3Reply = { status: number; headers: Record<string, string>; body: ReplyBody }

/** A path that serves verified calls. */
export type S3Path = { serve(call: S3Call): Promise<S3Reply> }
