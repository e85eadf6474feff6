// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Security contract for ID tokens (tests/auth/oidc/*.test.ts exercise each line):
 * 1. The signature is checked against the provider's JWKS (jose); arctic's
 *    `decodeIdToken` does not verify and is not used. Only asymmetric
 *    algorithms are accepted, so `none` and HMAC-with-a-public-key tricks fail.
 * 2. `iss` equals the configured issuer; `aud` contains our client id; when
 *    there are several audiences, or an `azp` at all, `azp` is our client id.
 * 3. `exp` is in the future and `iat` in the past and at most 10 minutes old,
 *    with 60 s of clock tolerance either way.
 * 4. `nonce` equals the one stored for this sign-in attempt.
 * 5. `sub` is a non-empty string of at most 255 characters.
 */
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import { constantTimeEqual } from '../../lib/crypto.ts'

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']
export const CLOCK_TOLERANCE_S = 60
const MAX_AGE_S = 600

/** Which check refused the token; `keys_unavailable` means the JWKS could not be fetched, not that the token is bad. */
export type IdTokenCheck = 'signature' | 'issuer' | 'audience' | 'azp' | 'expired' | 'issued_at' | 'nonce' | 'subject' | 'malformed' | 'keys_unavailable'

export class IdTokenError extends Error {
  constructor(readonly check: IdTokenCheck) {
    super(`ID token refused: ${check}`)
  }
}

function classify(err: unknown): IdTokenCheck {
  if (err instanceof errors.JWTExpired) return err.claim === 'iat' ? 'issued_at' : 'expired'
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'issuer'
    if (err.claim === 'aud') return 'audience'
    if (err.claim === 'iat' || err.claim === 'nbf') return 'issued_at'
    if (err.claim === 'exp') return 'expired'
    return 'malformed'
  }
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
    return 'signature'
  if (err instanceof errors.JOSEAlgNotAllowed) return 'signature'
  if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) return 'keys_unavailable'
  return 'malformed'
}

export async function verifyIdToken(
  token: string,
  o: { keys: JWTVerifyGetKey; issuer: string; clientId: string; nonce: string; now?: () => number },
): Promise<JWTPayload & { sub: string }> {
  let payload: JWTPayload
  try {
    ;({ payload } = await jwtVerify(token, o.keys, {
      issuer: o.issuer,
      audience: o.clientId,
      algorithms: ALGORITHMS,
      clockTolerance: CLOCK_TOLERANCE_S,
      maxTokenAge: MAX_AGE_S,
      requiredClaims: ['exp', 'iat', 'sub'],
      currentDate: o.now ? new Date(o.now()) : undefined,
    }))
  } catch (err) {
    throw new IdTokenError(classify(err))
  }
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
  if ((aud.length > 1 || payload.azp !== undefined) && payload.azp !== o.clientId) throw new IdTokenError('azp')
  if (typeof payload.nonce !== 'string' || !constantTimeEqual(payload.nonce, o.nonce)) throw new IdTokenError('nonce')
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 255) throw new IdTokenError('subject')
  return payload as JWTPayload & { sub: string }
}
