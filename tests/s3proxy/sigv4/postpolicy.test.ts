// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, test } from 'bun:test'
import example from '../../fixtures/sigv4/post-policy-example.json'
import { deriveSigningKey, hmac } from '../../../src/s3/canonical.ts'
import { checkPolicyConditions, contentLengthRange, verifyPostPolicy, type PostPolicy } from '../../../src/s3proxy/sigv4/postpolicy.ts'

const lower = (fields: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.toLowerCase(), v]))
const exampleLookup = (id: string): string | undefined => (id === example.credentials.accessKeyId ? example.credentials.secretAccessKey : undefined)
const exampleFields = lower(example.fields)
const exampleNow = new Date(example.now)

const AKID = 'POSTKEY'
const SECRET = 'post-secret'
const lookup = (id: string): string | undefined => (id === AKID ? SECRET : undefined)
const NOW = new Date('2026-03-01T12:00:00Z')

/** A form signed with our test key around a policy document. */
function form(policy: unknown, extra: Record<string, string> = {}): Record<string, string> {
  const text = Buffer.from(typeof policy === 'string' ? policy : JSON.stringify(policy)).toString('base64')
  const key = deriveSigningKey(SECRET, { date: '20260301', region: 'us-east-1', service: 's3' })
  return {
    policy: text,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': `${AKID}/20260301/us-east-1/s3/aws4_request`,
    'x-amz-date': '20260301T115900Z',
    'x-amz-signature': hmac(key, text).toString('hex'),
    ...extra,
  }
}

const AUTH_CONDITIONS = [
  { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
  { 'x-amz-credential': `${AKID}/20260301/us-east-1/s3/aws4_request` },
  { 'x-amz-date': '20260301T115900Z' },
]

function policyOf(conditions: unknown[], expiration = '2026-03-01T13:00:00.000Z'): { expiration: string; conditions: unknown[] } {
  return { expiration, conditions: [...AUTH_CONDITIONS, ...conditions] }
}

function verified(fields: Record<string, string>, now = NOW): PostPolicy {
  const v = verifyPostPolicy(fields, lookup, now)
  if (!v.ok) throw new Error(`${v.code}: ${v.message}`)
  return v.policy
}

describe('the S3 documentation example', () => {
  test('verifies, parses and satisfies its own policy', () => {
    const v = verifyPostPolicy(exampleFields, exampleLookup, exampleNow)
    if (!v.ok) throw new Error(v.message)
    expect(v.accessKeyId).toBe('AKIAIOSFODNN7EXAMPLE')
    expect(v.policy.expiration.toISOString()).toBe('2015-12-30T12:00:00.000Z')
    expect(v.policy.conditions).toHaveLength(11)
    const fields = { ...exampleFields, key: 'user/user1/photo.jpg' }
    expect(checkPolicyConditions(v.policy, fields, 4, { bucket: example.bucket })).toEqual({ ok: true })
  })
  test('is refused after its expiration, for another bucket, or with a changed field', () => {
    expect(verifyPostPolicy(exampleFields, exampleLookup, new Date('2015-12-30T12:00:01Z'))).toMatchObject({
      ok: false,
      code: 'AccessDenied',
      message: 'Invalid according to Policy: Policy expired.',
    })
    const v = verifyPostPolicy(exampleFields, exampleLookup, exampleNow)
    if (!v.ok) throw new Error(v.message)
    expect(checkPolicyConditions(v.policy, exampleFields, 4, { bucket: 'otherbucket' })).toMatchObject({ ok: false, code: 'AccessDenied' })
    expect(checkPolicyConditions(v.policy, { ...exampleFields, key: 'user/user2/x' }, 4, { bucket: example.bucket })).toMatchObject({
      ok: false,
      code: 'AccessDenied',
    })
    expect(checkPolicyConditions(v.policy, { ...exampleFields, 'content-type': 'text/html' }, 4, { bucket: example.bucket })).toMatchObject({ ok: false })
    expect(checkPolicyConditions(v.policy, { ...exampleFields, 'x-amz-meta-extra': '1' }, 4, { bucket: example.bucket })).toMatchObject({
      ok: false,
      message: 'Invalid according to Policy: Extra input fields: x-amz-meta-extra',
    })
  })
  test('a tampered policy or signature, or another secret, does not verify', () => {
    const tampered = { ...exampleFields, policy: exampleFields.policy!.replace('eyAi', 'eyBi') }
    expect(verifyPostPolicy(tampered, exampleLookup, exampleNow)).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' })
    expect(verifyPostPolicy(exampleFields, () => 'other', exampleNow)).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' })
    expect(verifyPostPolicy(exampleFields, () => undefined, exampleNow)).toMatchObject({ ok: false, code: 'InvalidAccessKeyId' })
  })
})

describe('authentication fields', () => {
  test('no policy, signature or credential at all is MissingAuthenticationToken', () => {
    expect(verifyPostPolicy({ key: 'a' }, lookup, NOW)).toMatchObject({ ok: false, code: 'MissingAuthenticationToken' })
  })
  test('SigV2 forms and other algorithms are unsupported', () => {
    expect(verifyPostPolicy({ policy: 'e30=', awsaccesskeyid: AKID, signature: 'x' }, lookup, NOW)).toMatchObject({ ok: false, reason: 'unsupported' })
  })
  test('missing or malformed fields are MalformedPOSTRequest', () => {
    const good = form(policyOf([]))
    for (const edit of [
      { 'x-amz-signature': undefined },
      { 'x-amz-credential': 'POSTKEY/20260301/us-east-1/s3' },
      { 'x-amz-date': '20260302T000000Z' },
      { 'x-amz-date': 'yesterday' },
      { 'x-amz-signature': 'ABC' },
    ]) {
      const fields = Object.fromEntries(Object.entries({ ...good, ...edit }).filter(([, v]) => v !== undefined)) as Record<string, string>
      expect(verifyPostPolicy(fields, lookup, NOW)).toMatchObject({ ok: false, code: 'MalformedPOSTRequest' })
    }
  })
  test('policies over 64 KiB or not base64 are refused before the lookup', () => {
    let calls = 0
    const counting = (id: string): string | undefined => {
      calls++
      return lookup(id)
    }
    const big = form(policyOf([{ 'x-amz-meta-pad': 'x'.repeat(70 * 1024) }]))
    expect(verifyPostPolicy(big, counting, NOW)).toMatchObject({ ok: false, code: 'InvalidPolicyDocument' })
    expect(verifyPostPolicy({ ...form(policyOf([])), policy: 'not base64!' }, counting, NOW)).toMatchObject({ ok: false, code: 'InvalidPolicyDocument' })
    expect(calls).toBe(0)
  })
})

describe('policy document', () => {
  test('invalid JSON, a missing expiration or conditions, bad condition shapes', () => {
    for (const doc of [
      '{"expiration": ',
      { conditions: [] },
      { expiration: 'tomorrow', conditions: [] },
      { expiration: '2026-03-01T13:00:00.000Z' },
      policyOf([['eq', 'key', 'a']]),
      policyOf([['starts-with', '$key']]),
      policyOf([['content-length-range', 10, 1]]),
      policyOf([['content-length-range', -1, 1]]),
      policyOf([['matches', '$key', 'a']]),
      policyOf([{ key: { nested: true } }]),
      policyOf(['key']),
    ]) {
      expect(verifyPostPolicy(form(doc), lookup, NOW)).toMatchObject({ ok: false, code: 'InvalidPolicyDocument' })
    }
  })
  test('at most 128 conditions', () => {
    const many = Array.from({ length: 126 }, (_, i) => ({ [`x-amz-meta-f${i}`]: 'v' }))
    expect(verifyPostPolicy(form(policyOf(many)), lookup, NOW).ok).toBe(false)
    expect(verifyPostPolicy(form(policyOf(many.slice(0, 125))), lookup, NOW).ok).toBe(true)
  })
  test('expired policies are AccessDenied', () => {
    expect(verifyPostPolicy(form(policyOf([], '2026-03-01T11:59:59Z')), lookup, NOW)).toMatchObject({ ok: false, code: 'AccessDenied', reason: 'expired' })
  })
})

describe('checkPolicyConditions', () => {
  const conditions = [
    { bucket: 'photos' },
    ['starts-with', '$key', 'uploads/alice/'],
    ['starts-with', '$Content-Type', ''],
    ['eq', '$x-amz-meta-owner', 'alice'],
    ['content-length-range', 1, 1048576],
  ]
  const fields = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...form(policyOf(conditions)),
    key: 'uploads/alice/cat.jpg',
    'content-type': 'image/jpeg',
    'x-amz-meta-owner': 'alice',
    ...extra,
  })
  const policy = verified(fields())

  test('a form that meets every condition passes', () => {
    expect(checkPolicyConditions(policy, fields(), 1000, { bucket: 'photos' })).toEqual({ ok: true })
  })
  test('eq, starts-with, and an empty starts-with prefix meaning "anything"', () => {
    expect(checkPolicyConditions(policy, fields({ 'x-amz-meta-owner': 'bob' }), 10, { bucket: 'photos' })).toMatchObject({
      ok: false,
      message: 'Invalid according to Policy: Policy Condition failed: ["eq","$x-amz-meta-owner","alice"]',
    })
    expect(checkPolicyConditions(policy, fields({ key: 'uploads/bob/cat.jpg' }), 10, { bucket: 'photos' })).toMatchObject({ ok: false, code: 'AccessDenied' })
    expect(checkPolicyConditions(policy, fields({ 'content-type': 'text/html' }), 10, { bucket: 'photos' })).toEqual({ ok: true })
  })
  test('the bucket condition is checked against the URL bucket, and a conflicting bucket field is refused', () => {
    expect(checkPolicyConditions(policy, fields(), 10, { bucket: 'other' })).toMatchObject({ ok: false, code: 'AccessDenied' })
    expect(checkPolicyConditions(policy, fields({ bucket: 'other' }), 10, { bucket: 'photos' })).toMatchObject({ ok: false, code: 'AccessDenied' })
    expect(checkPolicyConditions(policy, fields({ bucket: 'photos' }), 10, { bucket: 'photos' })).toEqual({ ok: true })
  })
  test('content-length-range', () => {
    expect(checkPolicyConditions(policy, fields(), 0, { bucket: 'photos' })).toMatchObject({ ok: false, code: 'EntityTooSmall' })
    expect(checkPolicyConditions(policy, fields(), 1048577, { bucket: 'photos' })).toMatchObject({ ok: false, code: 'EntityTooLarge' })
    expect(checkPolicyConditions(policy, fields(), undefined, { bucket: 'photos' })).toEqual({ ok: true })
    expect(contentLengthRange(policy)).toEqual({ min: 1, max: 1048576 })
  })
  test('every field but x-amz-signature, file, policy and x-ignore-* must be covered', () => {
    expect(checkPolicyConditions(policy, fields({ acl: 'public-read' }), 10, { bucket: 'photos' })).toMatchObject({
      ok: false,
      message: expect.stringContaining('Extra input fields: acl'),
    })
    expect(checkPolicyConditions(policy, fields({ 'x-ignore-submit': 'Upload', file: 'x' }), 10, { bucket: 'photos' })).toEqual({ ok: true })
  })
})
