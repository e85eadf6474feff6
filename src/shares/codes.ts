// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Share codes: 12 bytes (96 bits) from the CSPRNG as 20 lower-case base32
 * characters. At 10 guesses per minute per IP, finding one live share among a
 * million would take about 10^14 years. Lookups go through the SHA-256 of the
 * code, so the database compares hashes an attacker cannot steer, never the
 * code itself.
 */
import { randomToken, sha256Hex } from '../lib/crypto.ts'

export const CODE_BYTES = 12

export function newCode(): string {
  return randomToken(CODE_BYTES)
}

export function codeHash(code: string): string {
  return sha256Hex(code)
}
