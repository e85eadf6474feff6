// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Upstream failures → BackendError kinds. The BackendError message is ours
 * and safe to show; what the upstream said (code, message, request id) is
 * kept only in `cause`, for logs.
 */
import { BackendError, type BackendErrorKind } from '../backend.ts'
import type { ErrorDocument } from '../../s3/error-document.ts'
import { TransportError } from '../../s3/wire.ts'
import { parseXml, textOf, type XmlElement } from '../../s3/xml.ts'

/** What an S3 error response said. */
export class UpstreamError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
    /** The version asked for is a delete marker (S3 answers 405 for it). */
    readonly deleteMarker = false,
  ) {
    super(`${status} ${code}${message ? `: ${message}` : ''}`)
    this.name = 'UpstreamError'
  }
}

const BY_CODE: Record<string, BackendErrorKind> = {
  NoSuchKey: 'not_found',
  NoSuchVersion: 'not_found',
  NoSuchUpload: 'not_found',
  NotFound: 'not_found',
  NoSuchBucket: 'bucket_not_found',
  BucketAlreadyExists: 'exists',
  BucketAlreadyOwnedByYou: 'exists',
  BucketNotEmpty: 'not_empty',
  PreconditionFailed: 'precondition',
  InvalidRange: 'bad_range',
  InvalidPartNumber: 'bad_range',
  BadDigest: 'bad_digest',
  InvalidDigest: 'bad_digest',
  AccessDenied: 'denied',
  AllAccessDisabled: 'denied',
  SignatureDoesNotMatch: 'denied',
  InvalidAccessKeyId: 'denied',
  InvalidToken: 'denied',
  ExpiredToken: 'denied',
  RequestTimeTooSkewed: 'denied',
  AccountProblem: 'denied',
  NotImplemented: 'not_supported',
  MethodNotAllowed: 'not_supported',
  ServiceUnavailable: 'unavailable',
  SlowDown: 'unavailable',
}

const MESSAGES: Record<BackendErrorKind, string> = {
  not_found: 'Not found.',
  bucket_not_found: 'The bucket does not exist.',
  exists: 'The bucket already exists.',
  not_empty: 'The bucket is not empty.',
  precondition: 'A precondition failed.',
  bad_range: 'The requested range cannot be satisfied.',
  bad_digest: 'The body does not match its digest.',
  invalid: 'The storage backend refused the request as invalid.',
  not_supported: 'The storage backend does not support this operation.',
  unavailable: 'The storage backend cannot be reached.',
  denied: "The storage backend's credentials lack permission for this operation.",
  failed: 'The storage backend failed.',
}

function kindOf(e: UpstreamError): BackendErrorKind {
  if (e.deleteMarker) return 'not_found'
  const byCode = BY_CODE[e.code]
  if (byCode) return byCode
  if (e.status === 403) return 'denied'
  if (e.status === 404) return 'not_found'
  if (e.status === 412) return 'precondition'
  if (e.status === 416) return 'bad_range'
  if (e.status === 501) return 'not_supported'
  if (e.status === 502 || e.status === 503 || e.status === 504) return 'unavailable'
  if (e.status >= 400 && e.status < 500) return 'invalid'
  return 'failed'
}

export function backendError(kind: BackendErrorKind, cause?: unknown, message = MESSAGES[kind]): BackendError {
  return new BackendError(kind, message, { cause })
}

export function upstreamError(doc: ErrorDocument, deleteMarker = false): UpstreamError {
  return new UpstreamError(doc.status, doc.code, doc.message, doc.requestId, deleteMarker)
}

/** The upstream's S3 code travels with the error, so the S3 engine and the dashboard can be as precise as the upstream was. */
export function fromUpstream(e: UpstreamError): BackendError {
  const kind = kindOf(e)
  return new BackendError(kind, MESSAGES[kind], { cause: e, ...(/^[A-Za-z]{1,64}$/.test(e.code) ? { code: e.code } : {}) })
}

/**
 * The XML answer of a call that can fail after its 200 has been sent (copies,
 * multipart completion): the error is then the body.
 */
export function resultOf(body: string): XmlElement {
  const doc = parseXml(body)
  if (doc.name === 'Error') throw fromUpstream(new UpstreamError(200, textOf(doc, 'Code') ?? 'InternalError', textOf(doc, 'Message') ?? ''))
  return doc
}

/**
 * Any failure of a request that produced no S3 error document. A caller's
 * abort is not a backend failure: its reason is rethrown as is, the way
 * fetch() does.
 */
export function fromThrown(err: unknown, signal?: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason
  if (err instanceof BackendError) return err
  if (err instanceof TransportError) {
    if (err.kind === 'oversized') return backendError('failed', err, 'The storage backend sent an oversized response.')
    return backendError('unavailable', err)
  }
  return backendError('failed', err)
}
