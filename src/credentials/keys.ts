// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Virtual access keys and secrets, from the OS CSPRNG. The access key id is
 * `STW` + 17 base32 characters (20 in all, inside the 16–128 characters S3
 * clients accept; 85 random bits, so ids are unguessable too). The secret is
 * 40 characters of [A-Za-z0-9] (≈238 bits) — no `/` or `+`, which some client
 * config formats mangle.
 */
import { randomBytes } from 'node:crypto'

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

export const ACCESS_KEY_PREFIX = 'STW'

export function newAccessKeyId(): string {
  let out = ACCESS_KEY_PREFIX
  // 256 is a multiple of 32, so the low five bits of a byte are uniform.
  for (const b of randomBytes(17)) out += BASE32[b & 31]
  return out
}

export function newSecretKey(length = 40): string {
  let out = ''
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      // Rejection sampling: 248 = 4 × 62, so every character stays equally likely.
      if (b < 248 && out.length < length) out += ALNUM[b % 62]
    }
  }
  return out
}
