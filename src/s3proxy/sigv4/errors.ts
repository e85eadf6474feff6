// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The S3 wire codes the SigV4 layer can produce, and the bounded reason labels used for
 * metrics. Reasons are deliberately coarse so a metric label set stays small no matter what
 * a hostile client sends.
 */

export type S3AuthErrorCode =
  | 'MissingAuthenticationToken'
  | 'InvalidAccessKeyId'
  | 'SignatureDoesNotMatch'
  | 'RequestTimeTooSkewed'
  | 'AccessDenied'
  | 'AuthorizationHeaderMalformed'
  | 'AuthorizationQueryParametersError'
  | 'InvalidRequest'
  | 'XAmzContentSHA256Mismatch'
  | 'IncompleteBody'

export type AuthFailReason = 'missing-auth' | 'malformed' | 'unknown-akid' | 'bad-sig' | 'expired' | 'skew' | 'unsupported'

/** Codes a body stream can fail with. */
export type SigV4StreamErrorCode =
  'SignatureDoesNotMatch' | 'InvalidChunkSizeError' | 'IncompleteBody' | 'BadDigest' | 'InvalidRequest' | 'XAmzContentSHA256Mismatch'

const BAD_REQUEST: ReadonlySet<string> = new Set([
  'AuthorizationHeaderMalformed',
  'AuthorizationQueryParametersError',
  'InvalidRequest',
  'XAmzContentSHA256Mismatch',
  'IncompleteBody',
  'InvalidChunkSizeError',
  'BadDigest',
  'MalformedPOSTRequest',
  'InvalidPolicyDocument',
  'EntityTooSmall',
  'EntityTooLarge',
])

/** The HTTP status S3 answers a SigV4-layer error code with: 400 for request errors, 403 for auth refusals. */
export function s3ErrorStatus(code: string): 400 | 403 {
  return BAD_REQUEST.has(code) ? 400 : 403
}

/**
 * Raised through a body stream (never thrown at the caller directly) so the consumer sees it as
 * a read error and aborts its upstream request instead of completing it.
 */
export class SigV4StreamError extends Error {
  readonly code: SigV4StreamErrorCode

  constructor(code: SigV4StreamErrorCode, message: string) {
    super(message)
    this.name = 'SigV4StreamError'
    this.code = code
  }
}
