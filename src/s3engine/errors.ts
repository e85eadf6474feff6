// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Driver failures as S3 errors. A BackendError's kind picks the status and a
 * default code; the S3 code the driver gave, when it gave one, is more
 * precise (EntityTooSmall, InvalidPart, KeyTooLongError…). A request body that
 * failed its own checks (signature, digest, length) carries that failure as
 * the cause of the driver's error and is reported as such. Driver messages
 * are safe to show; anything unexpected is left to the pipeline, which logs
 * it and answers InternalError.
 */
import { BackendError } from '../backends/backend.ts'
import { S3Error } from '../s3proxy/errors.ts'

/** What a `not_found` means for the operation at hand. */
export type Missing = 'key' | 'upload'

/** The S3 codes of client errors a driver or a body may name (all 400 Bad Request). */
const CLIENT_CODES: ReadonlySet<string> = new Set([
  'BadDigest',
  'EntityTooLarge',
  'EntityTooSmall',
  'IncompleteBody',
  'InvalidArgument',
  'InvalidChunkSizeError',
  'InvalidDigest',
  'InvalidPart',
  'InvalidPartOrder',
  'InvalidRequest',
  'InvalidTag',
  'KeyTooLongError',
  'MalformedXML',
  'MetadataTooLarge',
  'SignatureDoesNotMatch',
  'XAmzContentSHA256Mismatch',
])

const MESSAGES: Record<string, string> = {
  NoSuchBucket: 'The specified bucket does not exist.',
  NoSuchKey: 'The specified key does not exist.',
  NoSuchUpload: 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  PreconditionFailed: 'At least one of the pre-conditions you specified did not hold.',
  InvalidRange: 'The requested range is not satisfiable.',
}

export const noSuchBucket = (): S3Error => new S3Error(404, 'NoSuchBucket', MESSAGES.NoSuchBucket!, 'no-such-bucket')
export const malformedXml = (): S3Error =>
  new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.', 'bad-request')
export const invalidRequest = (message: string): S3Error => new S3Error(400, 'InvalidRequest', message, 'bad-request')

/**
 * What a request body stream failed with, as S3 says it: its own S3 error, a
 * SigV4 stream error's code (bad chunk signature, digest, length…), or an
 * incomplete body (the client went away).
 */
export function streamFailure(err: unknown): S3Error {
  if (err instanceof S3Error) return err
  const code = (err as { code?: unknown } | undefined)?.code
  if (typeof code === 'string' && CLIENT_CODES.has(code))
    return new S3Error(code === 'SignatureDoesNotMatch' ? 403 : 400, code, (err as Error).message, 'bad-body')
  return new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.', 'bad-body')
}

/** A body stream's own failure, if that is what stopped the driver. */
function bodyFailure(err: BackendError): S3Error | undefined {
  if (err.cause !== undefined && (err.cause instanceof S3Error || err.message === 'the request body could not be read')) return streamFailure(err.cause)
  return undefined
}

function byKind(err: BackendError, missing: Missing): S3Error {
  const code = err.code
  switch (err.kind) {
    case 'bucket_not_found':
      return noSuchBucket()
    case 'not_found': {
      const c = code === 'NoSuchVersion' || code === 'NoSuchUpload' || code === 'NoSuchKey' ? code : missing === 'upload' ? 'NoSuchUpload' : 'NoSuchKey'
      // A read that met a delete marker says so, as S3 does.
      const headers = err.deleteMarker !== undefined ? { 'x-amz-delete-marker': 'true', 'x-amz-version-id': err.deleteMarker } : undefined
      return new S3Error(404, c, MESSAGES[c] ?? err.message, 'not-found', headers)
    }
    case 'precondition':
      return new S3Error(412, 'PreconditionFailed', MESSAGES.PreconditionFailed!, 'precondition')
    case 'bad_range':
      return code === 'InvalidPartNumber'
        ? new S3Error(416, code, err.message, 'bad-range')
        : new S3Error(416, 'InvalidRange', MESSAGES.InvalidRange!, 'bad-range')
    case 'bad_digest':
      return new S3Error(400, 'BadDigest', err.message, 'bad-digest')
    case 'invalid':
      return new S3Error(400, code && CLIENT_CODES.has(code) ? code : 'InvalidArgument', err.message, 'bad-request')
    case 'exists':
      return new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 'conflict')
    case 'not_empty':
      return new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty.', 'conflict')
    case 'not_supported':
      return new S3Error(501, 'NotImplemented', 'A header or query you provided implies functionality that is not implemented.', 'not-implemented')
    case 'unavailable':
      return new S3Error(503, 'ServiceUnavailable', 'The storage backend is unavailable; please try again.', 'backend-unavailable')
    default:
      return new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.', `backend-${err.kind}`)
  }
}

/** Awaits a driver call, its failure rethrown as the S3 error a client expects (s3Failure). */
export async function fromDriver<T>(work: Promise<T>, missing: Missing = 'key'): Promise<T> {
  try {
    return await work
  } catch (err) {
    throw s3Failure(err, missing)
  }
}

/** Rethrows a driver failure as the S3 error a client expects; anything that is not a BackendError passes through. */
export function s3Failure(err: unknown, missing: Missing = 'key'): unknown {
  if (!(err instanceof BackendError)) return err
  if (err.kind === 'invalid') {
    const body = bodyFailure(err)
    if (body) return body
  }
  return byKind(err, missing)
}
