// SPDX-License-Identifier: AGPL-3.0-or-later
/** The Authorization-header half of verification: parse, time window and payload mode. */
import { canonicalQuery, formatAmzDate, parseAmzDate, parseQuery } from '../../s3/canonical.ts'
import { MAX_SKEW_MS, checkSignedHeaders, fail, type Checked } from './checks.ts'
import { parseAuthorization, parsePayloadHash } from './parse.ts'
import type { SigV4Request, VerifyFail } from './verify.ts'

export function checkHeaderAuth(req: SigV4Request, authorization: string): Checked | VerifyFail {
  const parsed = parseAuthorization(authorization)
  if (!parsed.ok) {
    return parsed.unsupported
      ? fail('InvalidRequest', 'unsupported', parsed.message)
      : fail('AuthorizationHeaderMalformed', 'malformed', 'The authorization header is malformed; ' + parsed.message)
  }
  const { credential, signedHeaders, signature } = parsed.value
  const headerProblem = checkSignedHeaders(req.headers, signedHeaders)
  if (headerProblem !== undefined) return headerProblem

  const xAmzDate = req.headers.get('x-amz-date')
  const dateHeader = xAmzDate === null ? req.headers.get('date') : null
  const when = xAmzDate !== null ? parseAmzDate(xAmzDate) : dateHeader !== null ? parseHttpDate(dateHeader) : undefined
  if (when === undefined) return fail('AccessDenied', 'malformed', 'AWS authentication requires a valid Date or x-amz-date header')
  const amzDate = xAmzDate ?? formatAmzDate(when)
  if (credential.scope.date !== amzDate.slice(0, 8)) {
    return fail(
      'AuthorizationHeaderMalformed',
      'malformed',
      'The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.',
    )
  }
  if (Math.abs(req.now.getTime() - when.getTime()) > MAX_SKEW_MS) {
    return fail('RequestTimeTooSkewed', 'skew', 'The difference between the request time and the current time is too large.')
  }

  const contentSha = req.headers.get('x-amz-content-sha256')
  if (contentSha === null) return fail('InvalidRequest', 'malformed', 'Missing required header for this request: x-amz-content-sha256')
  const payload = parsePayloadHash(contentSha)
  if (!payload.ok) return fail('InvalidRequest', payload.unsupported ? 'unsupported' : 'malformed', payload.message)

  return {
    authMode: 'header',
    credential,
    signedHeaders,
    signature,
    amzDate,
    payload: payload.value,
    payloadHashLine: contentSha,
    query: canonicalQuery(parseQuery(req.rawQuery)),
  }
}

/** RFC 7231 `Date` header (IMF-fixdate; Date.parse also takes the obsolete forms). */
function parseHttpDate(text: string): Date | undefined {
  const ms = Date.parse(text)
  return Number.isNaN(ms) ? undefined : new Date(ms)
}
