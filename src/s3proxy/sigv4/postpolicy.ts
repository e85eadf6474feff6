// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Browser-based uploads (POST Object with a SigV4-signed policy).
 *
 * The signature is the hex HMAC of the base64 policy text under the usual signing key, so it is
 * checked before the policy is decoded or parsed: an unauthenticated client never gets its JSON
 * parsed. The policy is capped at 64 KiB decoded and 128 conditions.
 *
 * Callers pass the form fields that precede the file part (S3 ignores later ones), with lower-
 * cased names and `${filename}` in `key` already substituted; the file size, once known, goes to
 * checkPolicyConditions for content-length-range.
 */
import { timingSafeEqual } from 'node:crypto'
import { hmac, parseAmzDate, type Scope } from '../../s3/canonical.ts'
import type { AuthFailReason, S3AuthErrorCode } from './errors.ts'
import { isSignatureHex, parseCredential } from './parse.ts'
import { cachedSigningKey } from '../../s3/signing-key.ts'
import type { SecretLookup } from './verify.ts'

export type PolicyCondition =
  | { kind: 'eq'; field: string; value: string }
  | { kind: 'starts-with'; field: string; prefix: string }
  | { kind: 'content-length-range'; min: number; max: number }

export type PostPolicy = { expiration: Date; conditions: PolicyCondition[] }

export type PostPolicyErrorCode = S3AuthErrorCode | 'MalformedPOSTRequest' | 'InvalidPolicyDocument' | 'EntityTooSmall' | 'EntityTooLarge'

export type PostPolicyFail = { ok: false; code: PostPolicyErrorCode; reason: AuthFailReason | 'policy'; message: string }

export type PostPolicyOk = { ok: true; accessKeyId: string; policy: PostPolicy; scope: Scope }

const MAX_POLICY_BYTES = 64 * 1024
const MAX_POLICY_BASE64 = Math.ceil(MAX_POLICY_BYTES / 3) * 4
const MAX_CONDITIONS = 128
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const EXPIRATION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/
const IGNORED_FIELDS: ReadonlySet<string> = new Set(['x-amz-signature', 'file', 'policy'])

function fail(code: PostPolicyErrorCode, reason: PostPolicyFail['reason'], message: string): PostPolicyFail {
  return { ok: false, code, reason, message }
}

/**
 * Authenticates a POST form: algorithm, credential, date and signature fields, then the policy
 * itself (syntax, size, expiry). Conditions are checked separately by checkPolicyConditions.
 */
export function verifyPostPolicy(fields: Record<string, string>, lookup: SecretLookup, now: Date): PostPolicyOk | PostPolicyFail {
  const { policy: policyText, 'x-amz-algorithm': algorithm, 'x-amz-credential': credentialText, 'x-amz-date': amzDate, 'x-amz-signature': signature } = fields
  if (policyText === undefined && signature === undefined && credentialText === undefined) {
    return fail('MissingAuthenticationToken', 'missing-auth', 'Request is missing Authentication Token')
  }
  if (algorithm !== 'AWS4-HMAC-SHA256') {
    return fail('InvalidRequest', 'unsupported', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.')
  }
  if (policyText === undefined || credentialText === undefined || amzDate === undefined || signature === undefined) {
    return fail('MalformedPOSTRequest', 'malformed', 'Bucket POST must contain the fields policy, x-amz-credential, x-amz-date and x-amz-signature')
  }
  const credential = parseCredential(credentialText)
  if (!credential.ok) return fail('MalformedPOSTRequest', 'malformed', 'Invalid x-amz-credential: ' + credential.message)
  if (parseAmzDate(amzDate) === undefined || amzDate.slice(0, 8) !== credential.value.scope.date) {
    return fail('MalformedPOSTRequest', 'malformed', 'x-amz-date must be yyyyMMddTHHmmssZ on the day of the credential scope')
  }
  if (!isSignatureHex(signature)) return fail('MalformedPOSTRequest', 'malformed', 'x-amz-signature must be 64 lower-case hex digits')
  if (policyText.length > MAX_POLICY_BASE64 || !BASE64.test(policyText)) {
    return fail('InvalidPolicyDocument', 'malformed', 'Invalid Policy: the policy must be base64 and at most 64 KiB')
  }

  const secret = lookup(credential.value.accessKeyId)
  if (secret === undefined) return fail('InvalidAccessKeyId', 'unknown-akid', 'The AWS Access Key Id you provided does not exist in our records.')
  const key = cachedSigningKey(credential.value.accessKeyId, secret, credential.value.scope)
  if (!timingSafeEqual(hmac(key, policyText), Buffer.from(signature, 'hex'))) {
    return fail(
      'SignatureDoesNotMatch',
      'bad-sig',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    )
  }

  const policy = parsePolicy(Buffer.from(policyText, 'base64').toString('utf8'))
  if (typeof policy === 'string') return fail('InvalidPolicyDocument', 'malformed', 'Invalid Policy: ' + policy)
  if (now.getTime() > policy.expiration.getTime()) return fail('AccessDenied', 'expired', 'Invalid according to Policy: Policy expired.')
  return { ok: true, accessKeyId: credential.value.accessKeyId, policy, scope: credential.value.scope }
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

function bound(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

function parseCondition(raw: unknown, out: PolicyCondition[]): string | undefined {
  if (Array.isArray(raw)) {
    if (raw.length !== 3) return 'a condition array must have three elements'
    const op = typeof raw[0] === 'string' ? raw[0].toLowerCase() : ''
    if (op === 'content-length-range') {
      const min = bound(raw[1])
      const max = bound(raw[2])
      if (min === undefined || max === undefined || min > max) return 'content-length-range needs 0 <= min <= max'
      out.push({ kind: 'content-length-range', min, max })
      return undefined
    }
    const field = raw[1]
    const value = scalar(raw[2])
    if ((op !== 'eq' && op !== 'starts-with') || typeof field !== 'string' || !field.startsWith('$') || value === undefined) {
      return 'conditions must be {"field": "value"}, ["eq", "$field", "value"], ["starts-with", "$field", "prefix"] or ["content-length-range", min, max]'
    }
    const name = field.slice(1).toLowerCase()
    out.push(op === 'eq' ? { kind: 'eq', field: name, value } : { kind: 'starts-with', field: name, prefix: value })
    return undefined
  }
  if (typeof raw === 'object' && raw !== null) {
    for (const [field, v] of Object.entries(raw)) {
      const value = scalar(v)
      if (value === undefined) return `the condition on ${field.slice(0, 64)} must be a string`
      out.push({ kind: 'eq', field: field.toLowerCase(), value })
    }
    return undefined
  }
  return 'a condition must be an object or an array'
}

/** Parses the decoded policy JSON; returns a reason string when it is not a valid policy. */
export function parsePolicy(json: string): PostPolicy | string {
  if (Buffer.byteLength(json) > MAX_POLICY_BYTES) return 'the policy is larger than 64 KiB'
  let doc: unknown
  try {
    doc = JSON.parse(json)
  } catch {
    return 'Invalid JSON.'
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'the policy must be a JSON object'
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown }
  if (typeof expiration !== 'string' || !EXPIRATION.test(expiration) || Number.isNaN(Date.parse(expiration))) {
    return 'expiration must be an ISO 8601 date-time such as 2026-01-01T12:00:00.000Z'
  }
  if (!Array.isArray(conditions)) return 'conditions must be an array'
  const parsed: PolicyCondition[] = []
  for (const raw of conditions) {
    const problem = parseCondition(raw, parsed)
    if (problem !== undefined) return problem
    if (parsed.length > MAX_CONDITIONS) return `at most ${MAX_CONDITIONS} conditions are allowed`
  }
  return { expiration: new Date(expiration), conditions: parsed }
}

/** The allowed file size range, the intersection of every content-length-range condition. */
export function contentLengthRange(policy: PostPolicy): { min: number; max: number } | undefined {
  let range: { min: number; max: number } | undefined
  for (const c of policy.conditions) {
    if (c.kind !== 'content-length-range') continue
    range = range === undefined ? { min: c.min, max: c.max } : { min: Math.max(range.min, c.min), max: Math.min(range.max, c.max) }
  }
  return range
}

function describeCondition(c: PolicyCondition): string {
  if (c.kind === 'content-length-range') return `["content-length-range", ${c.min}, ${c.max}]`
  return JSON.stringify([c.kind, '$' + c.field, c.kind === 'eq' ? c.value : c.prefix])
}

/**
 * Checks the form against the policy the AWS way: every condition must hold, and every form
 * field except x-amz-signature, file, policy and x-ignore-* must be named by some condition.
 * `options.bucket` is the bucket from the URL; the `bucket` condition is checked against it,
 * and a `bucket` form field that names another bucket is refused. `fileSize` is undefined
 * until the file has been read, in which case content-length-range is left to the caller
 * (see contentLengthRange).
 */
export function checkPolicyConditions(
  policy: PostPolicy,
  fields: Record<string, string>,
  fileSize: number | undefined,
  options?: { bucket?: string },
): { ok: true } | PostPolicyFail {
  const bucket = options?.bucket ?? fields.bucket ?? ''
  if (fields.bucket !== undefined && fields.bucket !== bucket) {
    return fail('AccessDenied', 'policy', 'Invalid according to Policy: the bucket field does not match the bucket in the URL')
  }
  const covered = new Set<string>()
  for (const c of policy.conditions) {
    if (c.kind === 'content-length-range') {
      if (fileSize !== undefined && fileSize < c.min) return fail('EntityTooSmall', 'policy', 'Your proposed upload is smaller than the minimum allowed size')
      if (fileSize !== undefined && fileSize > c.max) return fail('EntityTooLarge', 'policy', 'Your proposed upload exceeds the maximum allowed size')
      continue
    }
    covered.add(c.field)
    const value = c.field === 'bucket' ? bucket : (fields[c.field] ?? '')
    const holds = c.kind === 'eq' ? value === c.value : value.startsWith(c.prefix)
    if (!holds) return fail('AccessDenied', 'policy', 'Invalid according to Policy: Policy Condition failed: ' + describeCondition(c))
  }
  for (const name of Object.keys(fields)) {
    if (IGNORED_FIELDS.has(name) || name.startsWith('x-ignore-') || covered.has(name)) continue
    return fail('AccessDenied', 'policy', `Invalid according to Policy: Extra input fields: ${name.slice(0, 64)}`)
  }
  return { ok: true }
}
