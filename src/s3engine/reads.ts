// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * GetObject and HeadObject: conditions, a single or suffix Range, one part
 * of a multipart object (`partNumber`), `response-*` overrides (signed
 * requests only, as in S3), and checksums when `x-amz-checksum-mode:
 * ENABLED` asks for them and the whole object (or a whole part) is read.
 * HEAD is a GET whose body is let go at once, so both answer alike.
 */
import type { GetOptions, ObjectInfo } from '../backends/backend.ts'
import type { S3Reply } from '../s3proxy/call.ts'
import { emptyReply, keyOf, param, versionOf, type OpContext } from './context.ts'
import { invalidRequest, s3Failure } from './errors.ts'
import { expirationHeader } from './expiration.ts'
import { byteString, checkHeaderValue, conditionsOf, contentHeaderEntries, invalidArgument, rangeOf } from './headers.ts'

const OVERRIDES: ReadonlyArray<readonly [string, string]> = [
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
  ['response-content-language', 'content-language'],
  ['response-content-type', 'content-type'],
  ['response-expires', 'expires'],
]

/** The headers S3 sends with an object (or one part of it). */
export function objectHeaders(info: ObjectInfo, opts: { checksums: boolean; partNumber?: number; whole: boolean }): Record<string, string> {
  const h: Record<string, string> = {
    'accept-ranges': 'bytes',
    'last-modified': (info.lastModified ?? new Date(0)).toUTCString(),
    'content-type': info.contentType ?? 'binary/octet-stream',
  }
  if (info.etag) h.etag = info.etag
  if (info.versionId !== undefined) h['x-amz-version-id'] = info.versionId
  for (const [name, value] of contentHeaderEntries(info.headers)) h[name] = value
  for (const [name, value] of Object.entries(info.metadata ?? {})) h[`x-amz-meta-${name}`] = value
  if (info.tagCount) h['x-amz-tagging-count'] = String(info.tagCount)
  if (info.storageClass && info.storageClass !== 'STANDARD') h['x-amz-storage-class'] = info.storageClass
  if (opts.partNumber !== undefined && info.parts) h['x-amz-mp-parts-count'] = String(info.parts.length)
  if (opts.checksums && info.checksum) {
    const part = opts.partNumber !== undefined && info.parts ? info.parts[opts.partNumber - 1] : undefined
    if (part?.checksum !== undefined) {
      h[`x-amz-checksum-${info.checksum.algorithm}`] = part.checksum
      h['x-amz-checksum-type'] = 'FULL_OBJECT'
    } else if (opts.whole && opts.partNumber === undefined) {
      h[`x-amz-checksum-${info.checksum.algorithm}`] = info.checksum.value
      h['x-amz-checksum-type'] = info.checksum.type
    }
  }
  return h
}

function partNumberOf(c: OpContext): number | undefined {
  const raw = param(c, 'partNumber')
  if (raw === undefined) return undefined
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 10_000) throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive')
  return Number(raw)
}

/** `response-*` parameters as headers; S3 refuses them on anonymous requests. */
function overridesOf(c: OpContext): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [parameter, header] of OVERRIDES) {
    const value = param(c, parameter)
    if (value === undefined) continue
    if (!c.call.cred) throw invalidRequest('Request specific response headers cannot be used for anonymous GET requests.')
    out[header] = checkHeaderValue(byteString(value), parameter)
  }
  return out
}

async function read(c: OpContext, head: boolean): Promise<S3Reply> {
  const h = c.call.headers
  const partNumber = partNumberOf(c)
  const range = rangeOf(h.get('range'))
  if (partNumber !== undefined && range) throw invalidRequest('Cannot specify both Range header and partNumber query parameter.')
  const overrides = overridesOf(c)
  const checksums = h.get('x-amz-checksum-mode')?.trim().toUpperCase() === 'ENABLED'
  const conditions = conditionsOf(h, '')
  const opts: GetOptions = { ...conditions, signal: c.call.signal }
  const versionId = versionOf(c)
  if (versionId !== undefined) opts.versionId = versionId
  if (range) opts.range = range
  if (partNumber !== undefined) opts.partNumber = partNumber
  let got
  try {
    got = await c.backend.getObject(c.bucket, keyOf(c), opts)
  } catch (err) {
    throw s3Failure(err)
  }
  if (got.status === 304) {
    const h304: Record<string, string> = { 'last-modified': (got.info.lastModified ?? new Date(0)).toUTCString() }
    if (got.info.etag) h304.etag = got.info.etag
    return emptyReply(304, h304)
  }
  const headers: Record<string, string> = {
    ...objectHeaders(got.info, { checksums, ...(partNumber !== undefined ? { partNumber } : {}), whole: got.status === 200 }),
    ...overrides,
    'content-length': String(got.contentLength),
  }
  if (got.range) headers['content-range'] = `bytes ${got.range.start}-${got.range.end}/${got.range.total}`
  if (versionId === undefined) Object.assign(headers, await expirationHeader(c, { ...got.info, tagCount: got.info.tagCount ?? 0 }))
  if (head) {
    await got.body.cancel().catch(() => {})
    return emptyReply(got.status, headers)
  }
  return { status: got.status, headers, body: { kind: 'stream', length: got.contentLength, stream: got.body } }
}

export const getObject = (c: OpContext): Promise<S3Reply> => read(c, false)
export const headObject = (c: OpContext): Promise<S3Reply> => read(c, true)
