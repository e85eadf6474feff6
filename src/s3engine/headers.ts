// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Request headers as S3 reads them. Values arrive as byte strings (one
 * character per byte) and are kept that way for everything stored as a header
 * (metadata, content headers), so they come back byte for byte; tags and
 * dates are text and are decoded.
 *
 * Anything that asks for what the engine cannot do (server-side encryption,
 * object lock, website redirects, storage classes other than STANDARD,
 * appends, conditions on a completion other than `If-None-Match: *`) is
 * refused with 501 NotImplemented rather than silently ignored.
 */
import type { ChecksumAlgorithm, ChecksumRequest, ContentHeaders, CopyConditions, Range } from '../backends/backend.ts'
import { S3Error, notImplemented } from '../s3proxy/errors.ts'
import { invalidRequest } from './errors.ts'

/** A header value HTTP can carry back: bytes other than control characters (tab allowed). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

const CONTENT_HEADERS: ReadonlyArray<readonly [keyof ContentHeaders, string]> = [
  ['cacheControl', 'cache-control'],
  ['contentDisposition', 'content-disposition'],
  ['contentEncoding', 'content-encoding'],
  ['contentLanguage', 'content-language'],
  ['expires', 'expires'],
]

export const invalidArgument = (message: string): S3Error => new S3Error(400, 'InvalidArgument', message, 'bad-request')

/** The stored content headers a request sets (Content-Encoding without the `aws-chunked` framing token). */
export function contentHeadersOf(h: Headers): ContentHeaders {
  const out: ContentHeaders = {}
  for (const [field, name] of CONTENT_HEADERS) {
    let value = h.get(name)
    if (value === null) continue
    if (field === 'contentEncoding') {
      value = value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked')
        .join(', ')
      if (value === '') continue
    }
    out[field] = value
  }
  return out
}

/** Each stored content header as the HTTP header it came from. */
export function contentHeaderEntries(headers: ContentHeaders | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const [field, name] of CONTENT_HEADERS) if (headers?.[field] !== undefined) out.push([name, headers[field]!])
  return out
}

/** `x-amz-meta-*`, names lower-case without the prefix, values as sent. */
export function metadataOf(h: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of h) if (name.startsWith('x-amz-meta-') && name.length > 11) out[name.slice(11)] = value
  return out
}

/** Bytes received as a byte string, read as the UTF-8 text they are. */
export function utf8Text(byteString: string): string {
  return Buffer.from(byteString, 'latin1').toString('utf8')
}

/** Text to send as a header value: its UTF-8 bytes as a byte string. */
export function byteString(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1')
}

export function checkHeaderValue(value: string, what: string): string {
  if (!HEADER_VALUE.test(value)) throw invalidArgument(`${what} holds characters a header cannot carry.`)
  return value
}

const invalidTag = (message: string): S3Error => new S3Error(400, 'InvalidTag', message, 'bad-request')

/**
 * Checks a tag set the way S3 does: at most 10 on an object (50 on a bucket, none of whose keys
 * may start with `aws:`), unique keys of 1–128 characters, values up to 256.
 */
export function checkTagSet(pairs: Array<[string, string]>, of: 'object' | 'bucket' = 'object'): Record<string, string> {
  if (of === 'object' && pairs.length > 10) throw invalidTag('Object tags cannot be greater than 10')
  if (of === 'bucket' && pairs.length > 50) throw invalidTag('Bucket tag count cannot be greater than 50')
  const out: Record<string, string> = {}
  for (const [k, v] of pairs) {
    if ([...k].length < 1 || [...k].length > 128) throw invalidTag('The TagKey you have provided is invalid')
    if ([...v].length > 256) throw invalidTag('The TagValue you have provided is invalid')
    if (Object.hasOwn(out, k)) throw invalidTag('Cannot provide multiple Tags with the same key')
    out[k] = v
  }
  if (of === 'bucket' && Object.keys(out).some((k) => k.toLowerCase().startsWith('aws:'))) throw invalidTag('System tags cannot be added/updated by requester')
  return out
}

/** `x-amz-tagging`: a URL query of tags (`k1=v1&k2=v2`). */
export function taggingOf(h: Headers): Record<string, string> | undefined {
  const raw = h.get('x-amz-tagging')
  if (raw === null) return undefined
  const text = utf8Text(raw)
  if (text === '') return {}
  const pairs: Array<[string, string]> = []
  try {
    for (const part of text.split('&')) {
      const eq = part.indexOf('=')
      const decode = (s: string): string => decodeURIComponent(s.replaceAll('+', ' '))
      pairs.push(eq < 0 ? [decode(part), ''] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))])
    }
  } catch {
    throw invalidTag('The x-amz-tagging header is not a valid URL query.')
  }
  return checkTagSet(pairs)
}

const ALGORITHMS: ReadonlyMap<string, { algorithm: ChecksumAlgorithm; bytes: number }> = new Map([
  ['crc32', { algorithm: 'crc32', bytes: 4 }],
  ['crc32c', { algorithm: 'crc32c', bytes: 4 }],
  ['crc64nvme', { algorithm: 'crc64nvme', bytes: 8 }],
  ['sha1', { algorithm: 'sha1', bytes: 20 }],
  ['sha256', { algorithm: 'sha256', bytes: 32 }],
])

/** `CRC32` (or `crc32`) → `crc32`; 400 for anything else. */
export function algorithmOf(name: string): ChecksumAlgorithm {
  const a = ALGORITHMS.get(name.trim().toLowerCase())
  if (!a) throw invalidRequest(`Checksum algorithm ${name.slice(0, 32)} is not supported.`)
  return a.algorithm
}

/** A base64 checksum value of the right size for its algorithm. */
export function checksumValue(algorithm: ChecksumAlgorithm, value: string, what: string): string {
  const bytes = ALGORITHMS.get(algorithm)!.bytes
  const trimmed = value.trim()
  if (
    !/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ||
    Buffer.from(trimmed, 'base64').length !== bytes ||
    Buffer.from(trimmed, 'base64').toString('base64') !== trimmed
  ) {
    throw invalidRequest(`Value for ${what} is invalid.`)
  }
  return trimmed
}

const CHECKSUM_META: ReadonlySet<string> = new Set(['x-amz-checksum-algorithm', 'x-amz-checksum-type', 'x-amz-checksum-mode'])

/**
 * The flexible checksum a body carries: a value in an `x-amz-checksum-*`
 * header (verified when stored), or only an algorithm, named by
 * `x-amz-trailer` (the aws-chunked decoder has verified the trailer's value)
 * or by `x-amz-sdk-checksum-algorithm` / `x-amz-checksum-algorithm`.
 */
export function checksumOf(h: Headers): ChecksumRequest | undefined {
  const values: Array<[string, string]> = []
  for (const [name, value] of h) if (name.startsWith('x-amz-checksum-') && !CHECKSUM_META.has(name)) values.push([name, value])
  if (values.length > 1) throw invalidRequest('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.')
  if (values.length === 1) {
    const [name, value] = values[0]!
    const algorithm = algorithmOf(name.slice('x-amz-checksum-'.length))
    return { algorithm, value: checksumValue(algorithm, value, name) }
  }
  const trailer = h.get('x-amz-trailer')
  if (trailer !== null && trailer.trim().toLowerCase().startsWith('x-amz-checksum-'))
    return { algorithm: algorithmOf(trailer.trim().slice('x-amz-checksum-'.length)) }
  const named = h.get('x-amz-sdk-checksum-algorithm') ?? h.get('x-amz-checksum-algorithm')
  return named === null ? undefined : { algorithm: algorithmOf(named) }
}

/** Content-MD5, checked to be the base64 of 16 bytes. */
export function md5Of(h: Headers): string | undefined {
  const value = h.get('content-md5')
  if (value === null) return undefined
  const trimmed = value.trim()
  if (Buffer.from(trimmed, 'base64').length !== 16 || Buffer.from(trimmed, 'base64').toString('base64') !== trimmed) {
    throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.', 'bad-request')
  }
  return trimmed
}

const UNSUPPORTED_PREFIXES = ['x-amz-server-side-encryption', 'x-amz-object-lock-', 'x-amz-copy-source-server-side-encryption']

/** 501 for what a write asks of storage the engine does not have. */
export function refuseUnsupported(h: Headers): void {
  for (const [name] of h) {
    if (UNSUPPORTED_PREFIXES.some((p) => name.startsWith(p))) throw notImplemented(`${name} is not supported by this storage.`)
  }
  if (h.has('x-amz-website-redirect-location')) throw notImplemented('Website redirects are not supported by this storage.')
  if (h.has('x-amz-write-offset-bytes')) throw notImplemented('Appends are not supported by this storage.')
  const storageClass = h.get('x-amz-storage-class')
  if (storageClass !== null && storageClass.trim() !== 'STANDARD') throw notImplemented('Only the STANDARD storage class is available on this storage.')
}

/**
 * A PUT's conditions, checked by the driver atomically with the write:
 * If-Match (an ETag list, or `*` for any object; NoSuchKey when there is
 * none, as on AWS) and If-None-Match (`*`, or an ETag list, as RGW takes).
 */
export function putConditions(h: Headers): { ifMatch?: string; ifNoneMatch?: string } {
  const ifMatch = h.get('if-match')
  const ifNoneMatch = h.get('if-none-match')
  return { ...(ifMatch !== null ? { ifMatch } : {}), ...(ifNoneMatch !== null ? { ifNoneMatch } : {}) }
}

/** A completion's condition: `If-None-Match: *` only; anything else is refused rather than ignored. */
export function writeCondition(h: Headers): '*' | undefined {
  if (h.has('if-match')) throw notImplemented('Conditional writes with If-Match are not supported by this storage.')
  const none = h.get('if-none-match')
  if (none === null) return undefined
  if (none.trim() !== '*') throw notImplemented('If-None-Match on a write accepts only *.')
  return '*'
}

/** An HTTP date; undefined when absent or not a date (S3, like HTTP, then ignores the condition). */
function httpDate(value: string | null): Date | undefined {
  if (value === null) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : new Date(ms)
}

/** If-Match and friends, or their `x-amz-copy-source-if-*` forms. */
export function conditionsOf(h: Headers, prefix: '' | 'x-amz-copy-source-'): CopyConditions {
  const out: CopyConditions = {}
  const ifMatch = h.get(`${prefix}if-match`)
  const ifNoneMatch = h.get(`${prefix}if-none-match`)
  const ifModifiedSince = httpDate(h.get(`${prefix}if-modified-since`))
  const ifUnmodifiedSince = httpDate(h.get(`${prefix}if-unmodified-since`))
  if (ifMatch !== null) out.ifMatch = ifMatch
  if (ifNoneMatch !== null) out.ifNoneMatch = ifNoneMatch
  if (ifModifiedSince) out.ifModifiedSince = ifModifiedSince
  if (ifUnmodifiedSince) out.ifUnmodifiedSince = ifUnmodifiedSince
  return out
}

/**
 * A Range header. S3 (RGW as the reference) serves the first of several
 * ranges, ignores one it cannot parse, and refuses `first > last` and a
 * range past the end (416, by the driver).
 */
export function rangeOf(value: string | null): Range | undefined {
  if (value === null) return undefined
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*(?:,.*)?$/i.exec(value)
  if (!m || (m[1] === '' && m[2] === '') || m[1]!.length > 15 || m[2]!.length > 15) return undefined
  if (m[1] === '') return { suffix: Number(m[2]) }
  const start = Number(m[1])
  if (m[2] === '') return { start }
  const end = Number(m[2])
  if (end < start) throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable.', 'bad-range')
  return { start, end }
}
