// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Strict parsers for the SigV4 authentication material (Authorization header, Credential scope,
 * SignedHeaders, signatures and the payload-hash header). Each returns a value or a short
 * reason; verify.ts turns reasons into S3 error codes for the auth mode at hand.
 */
import { ALGORITHM, type Scope } from '../../s3/canonical.ts'

/** S3's words for a mechanism other than SigV4, naming what to use instead. */
export const UNSUPPORTED_MECHANISM = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256 (Signature Version 4).'

export type Credential = { accessKeyId: string; scope: Scope }

export type ParsedAuthorization = { credential: Credential; signedHeaders: string[]; signature: string }

export type Parsed<T> = { ok: true; value: T } | { ok: false; unsupported: boolean; message: string }

const SIGNATURE = /^[0-9a-f]{64}$/
const DATE = /^\d{8}$/
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/

function bad<T>(message: string): Parsed<T> {
  return { ok: false, unsupported: false, message }
}

export function isSignatureHex(text: string): boolean {
  return SIGNATURE.test(text)
}

/** `<akid>/<yyyymmdd>/<region>/<service>/aws4_request`. */
export function parseCredential(text: string): Parsed<Credential> {
  const parts = text.split('/')
  if (parts.length !== 5) return bad('the Credential must have the form <key>/<date>/<region>/<service>/aws4_request')
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string]
  if (accessKeyId === '') return bad('the Credential has an empty access key')
  if (!DATE.test(date)) return bad('the Credential date must be yyyymmdd')
  if (region === '' || service === '') return bad('the Credential has an empty region or service')
  if (terminator !== 'aws4_request') return bad('the Credential must end with aws4_request')
  return { ok: true, value: { accessKeyId, scope: { date, region, service } } }
}

/** `a;b;c`, lower-case header names; returned sorted because the canonical request lists them sorted. */
export function parseSignedHeaders(text: string): Parsed<string[]> {
  const names = text.split(';')
  let sorted = true
  for (let i = 0; i < names.length; i++) {
    if (!HEADER_NAME.test(names[i]!)) return bad('SignedHeaders must be lower-case header names separated by ;')
    if (i > 0 && names[i]! <= names[i - 1]!) sorted = false
  }
  // Clients send them sorted already; only sort (and look for repeats) when they are not.
  if (!sorted) {
    names.sort()
    for (let i = 1; i < names.length; i++) if (names[i] === names[i - 1]) return bad('SignedHeaders lists a header twice')
  }
  return { ok: true, value: names }
}

/**
 * `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. Components may be separated
 * by "," or ", " (both occur in the wild); each must appear exactly once and nothing else may.
 */
export function parseAuthorization(header: string): Parsed<ParsedAuthorization> {
  const space = header.indexOf(' ')
  const algorithm = space < 0 ? header : header.slice(0, space)
  if (algorithm !== ALGORITHM) {
    return { ok: false, unsupported: true, message: UNSUPPORTED_MECHANISM }
  }
  let credential: string | undefined
  let signedHeaders: string | undefined
  let signature: string | undefined
  for (const raw of header.slice(space + 1).split(',')) {
    const part = raw.trim()
    const eq = part.indexOf('=')
    const name = eq < 0 ? part : part.slice(0, eq)
    const value = part.slice(eq + 1)
    if (eq < 0) return bad(`the component "${name.slice(0, 32)}" has no value`)
    if (name === 'Credential' && credential === undefined) credential = value
    else if (name === 'SignedHeaders' && signedHeaders === undefined) signedHeaders = value
    else if (name === 'Signature' && signature === undefined) signature = value
    else return bad(`unexpected or repeated component "${name.slice(0, 32)}"`)
  }
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    return bad('the Authorization header needs Credential, SignedHeaders and Signature')
  }
  const cred = parseCredential(credential)
  if (!cred.ok) return cred
  const names = parseSignedHeaders(signedHeaders)
  if (!names.ok) return names
  if (!SIGNATURE.test(signature)) return bad('the Signature must be 64 lower-case hex digits')
  return { ok: true, value: { credential: cred.value, signedHeaders: names.value, signature } }
}

export type PayloadHash =
  | { kind: 'unsigned' }
  | { kind: 'signed'; sha256Hex: string }
  | { kind: 'streaming-signed' }
  | { kind: 'streaming-signed-trailer' }
  | { kind: 'streaming-unsigned-trailer' }

const HEX64 = /^[0-9a-fA-F]{64}$/

/** Interprets an x-amz-content-sha256 value. */
export function parsePayloadHash(value: string): Parsed<PayloadHash> {
  switch (value) {
    case 'UNSIGNED-PAYLOAD':
      return { ok: true, value: { kind: 'unsigned' } }
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return { ok: true, value: { kind: 'streaming-signed' } }
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return { ok: true, value: { kind: 'streaming-signed-trailer' } }
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return { ok: true, value: { kind: 'streaming-unsigned-trailer' } }
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD':
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER':
      return { ok: false, unsupported: true, message: `${value} is not supported; use AWS4-HMAC-SHA256 signing` }
  }
  if (HEX64.test(value)) return { ok: true, value: { kind: 'signed', sha256Hex: value.toLowerCase() } }
  return bad('x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value or a SHA-256 hex digest')
}

const DECIMAL = /^\d{1,16}$/

/** x-amz-decoded-content-length: a non-negative integer that fits a JS number exactly. */
export function parseDecodedLength(value: string | null): number | undefined {
  if (value === null || !DECIMAL.test(value)) return undefined
  const n = Number(value)
  return Number.isSafeInteger(n) ? n : undefined
}

/** The access key a request's Authorization header or presigned query names, for audit rows of refused requests. */
export function claimedAccessKey(authorization: string | undefined, rawQuery: string): string | undefined {
  const m = (authorization && /Credential=([^/,\s]{1,128})\//.exec(authorization)) || /(?:^|&)X-Amz-Credential=([^%/&]{1,128})(?:%2F|\/)/.exec(rawQuery)
  return m ? m[1] : undefined
}
