// SPDX-License-Identifier: AGPL-3.0-or-later

/** No 0/O, 1/l/I: admins read these passwords out or type them from another screen. */
const ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'

/**
 * A random password from the CSPRNG. 20 characters of a 57-symbol alphabet is about 116 bits,
 * well above any minimum length the server enforces.
 */
export function generatePassword(length = 20): string {
  // Rejection sampling: a plain modulo would make the first symbols of the alphabet more likely.
  const limit = 256 - (256 % ALPHABET.length)
  let out = ''
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < limit && out.length < length) out += ALPHABET[byte % ALPHABET.length]
    }
  }
  return out
}
