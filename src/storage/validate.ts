// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Input rules for bucket names, object keys and prefixes (anchor.md §4.4),
 * enforced on every route before any backend call.
 */
import { fail } from '../http/errors.ts'

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/

/** S3's rules, including the DNS one RGW and AWS still apply: no dash next to a dot. */
export function isBucketName(name: string): boolean {
  return BUCKET.test(name) && !/\.\.|\.-|-\./.test(name) && !IPV4.test(name) && !name.startsWith('xn--') && !name.endsWith('-s3alias')
}

export function validateBucketName(name: string): string {
  if (!isBucketName(name)) throw fail('invalid_bucket_name')
  return name
}

// C0 controls except TAB, DEL, and the bidi overrides that make a key display as something else.
const FORBIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f\u202a-\u202e\u2066-\u2069]/

export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'the key is empty'
  // A lone surrogate (a JSON "\ud800" escape) has no UTF-8 encoding: backends would store something else.
  if (!key.isWellFormed()) return 'the key is not valid UTF-8'
  if (Buffer.byteLength(key) > 1024) return 'the key is longer than 1024 bytes'
  if (FORBIDDEN.test(key)) return 'the key contains control or bidirectional-override characters'
  if (key.split('/').includes('..')) return 'the key contains a ".." segment'
  return undefined
}

export function validateKey(key: string, field = 'key'): string {
  const problem = keyProblem(key)
  if (problem) throw fail('invalid_key', `The object key is not valid: ${problem}.`, [{ path: `/${field}`, message: problem }])
  return key
}

/** A prefix is empty or a folder path ending in "/", and otherwise follows the key rules. */
export function validatePrefix(prefix: string, field = 'prefix'): string {
  if (prefix === '') return prefix
  if (!prefix.endsWith('/')) throw fail('invalid_prefix', undefined, [{ path: `/${field}` }])
  const problem = keyProblem(prefix)
  if (problem) throw fail('invalid_prefix', `The prefix is not valid: ${problem}.`, [{ path: `/${field}`, message: problem }])
  return prefix
}

/** Listing prefixes may end anywhere ("photos/2024-"), so only the key rules apply. */
export function validateListPrefix(prefix: string): string {
  if (prefix === '') return prefix
  const problem = keyProblem(prefix)
  if (problem) throw fail('invalid_prefix', `The prefix is not valid: ${problem}.`, [{ path: '/prefix', message: problem }])
  return prefix
}
