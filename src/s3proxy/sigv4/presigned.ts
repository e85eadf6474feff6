// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The presigned-URL half of verification. Unlike header auth there is no ±15 minute window
 * for URLs signed in the past: a URL is valid from X-Amz-Date for X-Amz-Expires seconds, which
 * is the whole point of presigning (the original checked skew first and so killed every URL
 * after 15 minutes).
 */
import { UNSIGNED_PAYLOAD, canonicalQuery, parseAmzDate, parseQuery, type QueryPair } from '../../s3/canonical.ts'
import { MAX_SKEW_MS, checkSignedHeaders, fail, type Checked } from './checks.ts'
import { isSignatureHex, parseCredential, parsePayloadHash, parseSignedHeaders } from './parse.ts'
import type { SigV4Request, VerifyFail } from './verify.ts'

const MAX_EXPIRES_S = 604800
const EXPIRES = /^\d{1,6}$/

const PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-SignedHeaders', 'X-Amz-Date', 'X-Amz-Signature', 'X-Amz-Expires', 'X-Amz-Content-Sha256'] as const
type Param = (typeof PARAMS)[number]
const PARAM_SET: ReadonlySet<string> = new Set(PARAMS)

/** The auth parameters, decoded; each may appear at most once. */
function readParams(pairs: readonly QueryPair[]): Partial<Record<Param, string>> | string {
  const params: Partial<Record<Param, string>> = {}
  for (const { key, value } of pairs) {
    if (!PARAM_SET.has(key)) continue
    const name = key as Param
    if (params[name] !== undefined) return `${name} appears more than once`
    try {
      params[name] = decodeURIComponent(value)
    } catch {
      return `${name} is not valid UTF-8`
    }
  }
  return params
}

export function checkPresigned(req: SigV4Request): Checked | VerifyFail {
  const malformed = (message: string): VerifyFail => fail('AuthorizationQueryParametersError', 'malformed', message)
  const pairs = parseQuery(req.rawQuery)
  const params = readParams(pairs)
  if (typeof params === 'string') return malformed(params)
  const { 'X-Amz-Algorithm': algorithm, 'X-Amz-Credential': credentialText, 'X-Amz-SignedHeaders': signedHeadersText } = params
  const { 'X-Amz-Date': amzDate, 'X-Amz-Signature': signature, 'X-Amz-Expires': expiresText } = params
  if (
    algorithm === undefined ||
    credentialText === undefined ||
    signedHeadersText === undefined ||
    amzDate === undefined ||
    signature === undefined ||
    expiresText === undefined
  ) {
    return malformed(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    )
  }
  if (algorithm !== 'AWS4-HMAC-SHA256') return fail('AuthorizationQueryParametersError', 'unsupported', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
  const credential = parseCredential(credentialText)
  if (!credential.ok) return malformed('Error parsing the X-Amz-Credential parameter; ' + credential.message)
  const signedHeaders = parseSignedHeaders(signedHeadersText)
  if (!signedHeaders.ok) return malformed('Error parsing the X-Amz-SignedHeaders parameter; ' + signedHeaders.message)
  if (!isSignatureHex(signature)) return malformed('X-Amz-Signature must be 64 lower-case hex digits')
  const when = parseAmzDate(amzDate)
  if (when === undefined) return malformed("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
  if (credential.value.scope.date !== amzDate.slice(0, 8)) return malformed('Invalid credential date. Date is not the same as X-Amz-Date.')
  const expires = EXPIRES.test(expiresText) ? Number(expiresText) : 0
  if (expires < 1 || expires > MAX_EXPIRES_S) return malformed('X-Amz-Expires must be an integer from 1 to 604800 (seven days)')
  const headerProblem = checkSignedHeaders(req.headers, signedHeaders.value)
  if (headerProblem !== undefined) return headerProblem

  const now = req.now.getTime()
  if (when.getTime() - now > MAX_SKEW_MS) return fail('AccessDenied', 'skew', 'Request is not valid yet')
  if (now > when.getTime() + expires * 1000) return fail('AccessDenied', 'expired', 'Request has expired')

  const contentSha = params['X-Amz-Content-Sha256'] ?? UNSIGNED_PAYLOAD
  const payload = parsePayloadHash(contentSha)
  if (!payload.ok) return fail('AuthorizationQueryParametersError', payload.unsupported ? 'unsupported' : 'malformed', payload.message)
  if (payload.value.kind !== 'unsigned' && payload.value.kind !== 'signed') {
    return fail('AuthorizationQueryParametersError', 'unsupported', 'Streaming payloads cannot be used with presigned URLs')
  }

  return {
    authMode: 'presigned',
    credential: credential.value,
    signedHeaders: signedHeaders.value,
    signature,
    amzDate,
    payload: payload.value,
    payloadHashLine: contentSha,
    query: canonicalQuery(pairs, 'X-Amz-Signature'),
  }
}
