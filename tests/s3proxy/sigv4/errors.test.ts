// SPDX-License-Identifier: AGPL-3.0-or-later
import { expect, test } from 'bun:test'
import { s3ErrorStatus } from '../../../src/s3proxy/sigv4/verify.ts'

test('S3 statuses: request errors are 400, authentication refusals 403', () => {
  for (const code of [
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
  ]) {
    expect([code, s3ErrorStatus(code)]).toEqual([code, 400])
  }
  for (const code of ['MissingAuthenticationToken', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'RequestTimeTooSkewed', 'AccessDenied']) {
    expect([code, s3ErrorStatus(code)]).toEqual([code, 403])
  }
})
