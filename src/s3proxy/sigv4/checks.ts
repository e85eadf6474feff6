// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What the header and presigned paths share once they have parsed their own material: the
 * normalised result handed to the signature check, the failure constructor and the rule about
 * which headers must be signed.
 */
import type { Credential } from './parse.ts'
import type { AuthFailReason, S3AuthErrorCode } from './errors.ts'
import type { PayloadMode, VerifyFail } from './verify.ts'

/** ±15 minutes, S3's allowed clock skew. */
export const MAX_SKEW_MS = 15 * 60 * 1000

/** A request whose auth material is well-formed and in time, ready for the signature check. */
export type Checked = {
  authMode: 'header' | 'presigned'
  credential: Credential
  signedHeaders: string[]
  signature: string
  amzDate: string
  payload: PayloadMode
  /** The last line of the canonical request, exactly as the client supplied it. */
  payloadHashLine: string
  query: string
}

export function fail(code: S3AuthErrorCode, reason: AuthFailReason, message: string): VerifyFail {
  return { ok: false, code, reason, message }
}

/**
 * `host` must be signed, and so must every `x-amz-*` header the request carries: those change
 * what S3 does (copy source, ACL, storage class, metadata), so an unsigned one could have been
 * added by anyone on the path.
 */
export function checkSignedHeaders(headers: Headers, signed: readonly string[]): VerifyFail | undefined {
  if (!signed.includes('host')) return fail('AccessDenied', 'malformed', 'Host must be one of the signed headers')
  for (const name of headers.keys()) {
    if (name.startsWith('x-amz-') && !signed.includes(name)) {
      return fail('AccessDenied', 'malformed', 'There were headers present in the request which were not signed: ' + name)
    }
  }
  return undefined
}
