// SPDX-License-Identifier: AGPL-3.0-or-later
import { fail } from '../http/errors.ts'
import { randomPassword } from '../lib/crypto.ts'

export type HashParams = { memoryCost: number; timeCost: number }
/** Bun's defaults (argon2id, 64 MiB, t=2): ~150 ms per hash on the reference machine. */
export const DEFAULT_HASH_PARAMS: HashParams = { memoryCost: 65536, timeCost: 2 }

/** Longer inputs only burn CPU: argon2 pre-hashes anyway, and nobody types 1 KiB passwords. */
const MAX_PASSWORD_BYTES = 1024
/** A password of fewer different characters (aaaa…, abab…) is refused whatever its length. */
const MIN_DISTINCT = 4

export type Passwords = {
  hash(password: string): Promise<string>
  verify(password: string, hash: string): Promise<boolean>
  /** Spends the same time as a real verify, so unknown users answer as slowly as known ones. */
  verifyDummy(password: string): Promise<void>
  checkPolicy(password: string, opts: { username?: string }): void
}

export function createPasswords(policy: { min_length: number }, params: HashParams = DEFAULT_HASH_PARAMS): Passwords {
  let dummy: Promise<string> | undefined
  const hash = (password: string): Promise<string> => Bun.password.hash(password, { algorithm: 'argon2id', ...params })
  const verify = async (password: string, stored: string): Promise<boolean> => {
    if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return false
    try {
      return await Bun.password.verify(password, stored)
    } catch {
      return false
    }
  }
  return {
    hash,
    verify,
    async verifyDummy(password) {
      dummy ??= hash(randomPassword())
      await verify(password, await dummy)
    },
    checkPolicy(password, opts) {
      const chars = [...password].length
      // `detail.rule` names the rule broken, so a client can say which one in its own words.
      if (chars < policy.min_length)
        throw fail('weak_password', `The password must have at least ${policy.min_length} characters.`, { rule: 'min_length', min_length: policy.min_length })
      if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES)
        throw fail('weak_password', `The password must be at most ${MAX_PASSWORD_BYTES} bytes.`, { rule: 'max_bytes', max_bytes: MAX_PASSWORD_BYTES })
      if (opts.username && password.toLowerCase().includes(opts.username.toLowerCase())) {
        throw fail('weak_password', 'The password must not contain the username.', { rule: 'contains_username' })
      }
      if (new Set(password).size < MIN_DISTINCT)
        throw fail('weak_password', 'The password needs more distinct characters.', { rule: 'distinct_characters', min_distinct: MIN_DISTINCT })
    },
  }
}
