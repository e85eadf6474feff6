// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Verification of inbound AWS Signature Version 4 requests (Authorization header and presigned
 * URLs), written by hand because the verify side must not trust an SDK's idea of canonical form.
 *
 * Security contract (tests/s3proxy/sigv4/verify.test.ts mirrors it item by item):
 *
 *  1. Only AWS4-HMAC-SHA256 is accepted. SigV2, SigV4a/ECDSA and anything else are refused as
 *     unsupported, and so is a request that carries both an Authorization header and a query
 *     signature (which of them would S3 have checked?).
 *  2. A request with no signature material is refused with MissingAuthenticationToken;
 *     `hasSignature` lets the caller route such requests to the anonymous path before calling
 *     us. SigV2 material (an `AWS <key>:<sig>` header, or `AWSAccessKeyId` with `Signature` in
 *     the query, what boto3 presigns by default) counts as a signature: it is refused as
 *     unsupported with InvalidRequest, S3's answer on a SigV4-only region, never served as an
 *     anonymous request.
 *  3. The authentication material is parsed strictly: exactly one Credential, SignedHeaders and
 *     Signature (or each X-Amz-* query parameter), a Credential of the form
 *     `<key>/<yyyymmdd>/<region>/<service>/aws4_request` whose date equals the request date, and
 *     a signature of 64 lower-case hex digits. Anything else is AuthorizationHeaderMalformed or
 *     AuthorizationQueryParametersError.
 *  4. `host` must be signed, and every `x-amz-*` header present on the request must be signed
 *     (AccessDenied otherwise), so nobody on the path can add, say, `x-amz-copy-source` to a
 *     request someone else signed.
 *  5. Header auth: the time comes from `x-amz-date` (else `Date`) and must be within ±15 minutes
 *     of `now`, otherwise RequestTimeTooSkewed.
 *  6. Presigned URLs: `X-Amz-Expires` is an integer in 1..604800; the URL is valid from
 *     `X-Amz-Date` until `X-Amz-Date + X-Amz-Expires` (AccessDenied "Request has expired" after
 *     that). There is no ±15 minute window for URLs signed in the past (the original refused every
 *     URL older than 15 minutes whatever its expiry); only a date more than 15 minutes in the
 *     future is refused.
 *  7. The access key is looked up only once the request is well-formed and in time, so junk
 *     does not reach the credential store; an unknown, disabled or expired key is
 *     InvalidAccessKeyId.
 *  8. The signature is recomputed over the canonical request (path escapes normalised the way
 *     S3 and RGW read them, but no dot-segment or slash normalisation; query sorted, without
 *     X-Amz-Signature; signed headers trimmed) and compared in constant time over equal-length
 *     digests. A mismatch is
 *     SignatureDoesNotMatch, and no error message echoes the expected signature or anything
 *     derived from the secret.
 *  9. The payload mode comes from `x-amz-content-sha256`, which header auth must send
 *     (InvalidRequest otherwise); ECDSA streaming is unsupported; streaming modes must send a
 *     valid `x-amz-decoded-content-length`. Presigned URLs are UNSIGNED-PAYLOAD unless the query
 *     carries X-Amz-Content-Sha256. Verification never reads the body: a `signed` payload must be
 *     piped through `verifyPayloadSha256`, a streaming one through `decodeAwsChunked`.
 * 10. Derived signing keys are cached per (key, date, region, service, SHA-256 of the secret) in
 *     a bounded LRU, so a changed secret never reuses an old key; `clearSigningKeyCache()` empties
 *     it after credential reloads.
 */
import { timingSafeEqual } from 'node:crypto'
import { canonicalHeaders, canonicalRequest, canonicalUri, hmac, stringToSign } from '../../s3/canonical.ts'
import { fail, type Checked } from './checks.ts'
import type { AuthFailReason, S3AuthErrorCode } from './errors.ts'
import { checkHeaderAuth } from './header-auth.ts'
import { parseDecodedLength, UNSUPPORTED_MECHANISM, type PayloadHash } from './parse.ts'
import { checkPresigned } from './presigned.ts'
import { cachedSigningKey } from '../../s3/signing-key.ts'

export { clearSigningKeyCache } from '../../s3/signing-key.ts'
export { s3ErrorStatus } from './errors.ts'
export type { AuthFailReason, S3AuthErrorCode } from './errors.ts'

export type SigV4Request = {
  method: string
  /** The path exactly as on the wire, still percent-encoded, without the query. */
  rawPath: string
  /** The query without the leading '?'. */
  rawQuery: string
  headers: Headers
  now: Date
}

/** Returns the secret for an access key, or undefined for unknown, disabled or expired keys. */
export type SecretLookup = (accessKeyId: string) => string | undefined

export type PayloadMode = PayloadHash

export type VerifyOk = {
  ok: true
  accessKeyId: string
  authMode: 'header' | 'presigned'
  payload: PayloadMode
  signature: string
  amzDate: string
  scope: { date: string; region: string; service: string }
  signingKey: Uint8Array
  /** Present for the STREAMING-* payload modes: what decodeAwsChunked needs besides the key. */
  chunked?: { decodedLength: number; trailerHeader: string | undefined }
}

export type VerifyFail = { ok: false; code: S3AuthErrorCode; reason: AuthFailReason; message: string }

const SIGV4_QUERY = /(?:^|&)X-Amz-(?:Signature|Credential)(?:[=&]|$)/
const SIGV2_QUERY_KEY = /(?:^|&)AWSAccessKeyId=/
const SIGV2_QUERY_SIGNATURE = /(?:^|&)Signature=/

function hasSigV2Query(rawQuery: string): boolean {
  return SIGV2_QUERY_KEY.test(rawQuery) && SIGV2_QUERY_SIGNATURE.test(rawQuery)
}

/** True when the request carries signature material: an Authorization header, a SigV4 presigned query, or a SigV2 one. */
export function hasSignature(req: { headers: Headers; rawQuery: string }): boolean {
  return req.headers.has('authorization') || SIGV4_QUERY.test(req.rawQuery) || hasSigV2Query(req.rawQuery)
}

/**
 * Verifies a request's SigV4 signature without reading its body.
 *
 * @example
 * const v = verifyRequest({ method, rawPath, rawQuery, headers: req.headers, now: new Date() }, (id) => secrets.get(id))
 * if (!v.ok) return s3Error(403, v.code, v.message)
 */
export function verifyRequest(req: SigV4Request, lookup: SecretLookup): VerifyOk | VerifyFail {
  const authorization = req.headers.get('authorization')
  const hasQueryAuth = SIGV4_QUERY.test(req.rawQuery)
  if (authorization !== null && hasQueryAuth) {
    return fail(
      'InvalidRequest',
      'malformed',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
    )
  }
  const checked = authorization !== null ? checkHeaderAuth(req, authorization) : hasQueryAuth ? checkPresigned(req) : undefined
  if (checked === undefined) {
    if (hasSigV2Query(req.rawQuery)) return fail('InvalidRequest', 'unsupported', UNSUPPORTED_MECHANISM)
    return fail('MissingAuthenticationToken', 'missing-auth', 'Request is missing Authentication Token')
  }
  if ('ok' in checked) return checked
  return checkSignature(req, checked, lookup)
}

function checkSignature(req: SigV4Request, c: Checked, lookup: SecretLookup): VerifyOk | VerifyFail {
  let chunked: VerifyOk['chunked']
  if (c.payload.kind.startsWith('streaming-')) {
    const decodedLength = parseDecodedLength(req.headers.get('x-amz-decoded-content-length'))
    if (decodedLength === undefined) return fail('InvalidRequest', 'malformed', 'Streaming uploads need a valid x-amz-decoded-content-length header')
    const trailer = req.headers.get('x-amz-trailer')
    chunked = { decodedLength, trailerHeader: trailer === null ? undefined : trailer.trim().toLowerCase() }
  }

  const secret = lookup(c.credential.accessKeyId)
  if (secret === undefined) return fail('InvalidAccessKeyId', 'unknown-akid', 'The AWS Access Key Id you provided does not exist in our records.')

  const scope = c.credential.scope
  const canonical = canonicalRequest({
    method: req.method,
    uri: canonicalUri(req.rawPath),
    query: c.query,
    headers: canonicalHeaders(c.signedHeaders, (name) => req.headers.get(name)),
    signedHeaders: c.signedHeaders.join(';'),
    payloadHash: c.payloadHashLine,
  })
  const key = cachedSigningKey(c.credential.accessKeyId, secret, scope)
  const expected = hmac(key, stringToSign(c.amzDate, scope, canonical))
  // Both sides are 32-byte digests (the provided hex was checked to be 64 digits), so the
  // comparison runs over equal lengths and leaks nothing about the content.
  if (!timingSafeEqual(expected, Buffer.from(c.signature, 'hex'))) {
    return fail(
      'SignatureDoesNotMatch',
      'bad-sig',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    )
  }
  const ok: VerifyOk = {
    ok: true,
    accessKeyId: c.credential.accessKeyId,
    authMode: c.authMode,
    payload: c.payload,
    signature: c.signature,
    amzDate: c.amzDate,
    scope,
    // A copy, so a consumer that scribbles on it cannot poison the shared cache.
    signingKey: new Uint8Array(key),
  }
  if (chunked !== undefined) ok.chunked = chunked
  return ok
}
