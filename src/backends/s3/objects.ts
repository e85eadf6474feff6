// SPDX-License-Identifier: AGPL-3.0-or-later
/** Reading, deleting and tagging single objects. */
import type {
  Checksum,
  ChecksumAlgorithm,
  ContentHeaders,
  CopyConditions,
  DeleteOutcome,
  DeleteResult,
  GetOptions,
  GetResult,
  ObjectInfo,
  Range,
} from '../backend.ts'
import { uriEncode } from '../../s3/canonical.ts'
import type { Answer } from '../../s3/transport.ts'
import { child, children, escapeXml, parseXml, tag, textOf } from '../../s3/xml.ts'
import { contentMd5, headerValue, type S3Http } from './client.ts'
import { backendError, UpstreamError } from './errors.ts'

/** ETags in the quoted form S3 sends them in; some servers and callers leave the quotes off. */
export function quoteEtag(etag: string | undefined): string | undefined {
  const bare = etag?.trim().replace(/^"(.*)"$/, '$1')
  return bare ? `"${bare}"` : undefined
}

export function parseDate(v: string | undefined): Date | undefined {
  if (!v) return undefined
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? undefined : d
}

export function metadataHeaders(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(metadata ?? {})) out[`x-amz-meta-${k.toLowerCase()}`] = v
  return out
}

/** ContentHeaders field ↔ HTTP header. */
export const CONTENT_HEADERS: ReadonlyArray<readonly [keyof ContentHeaders, string]> = [
  ['cacheControl', 'cache-control'],
  ['contentDisposition', 'content-disposition'],
  ['contentEncoding', 'content-encoding'],
  ['contentLanguage', 'content-language'],
  ['expires', 'expires'],
]

export function contentHeaders(headers: ContentHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [field, name] of CONTENT_HEADERS) if (headers?.[field] !== undefined) out[name] = headers[field]!
  return out
}

export function copyConditionHeaders(c: CopyConditions | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (c?.ifMatch !== undefined) out['x-amz-copy-source-if-match'] = c.ifMatch
  if (c?.ifNoneMatch !== undefined) out['x-amz-copy-source-if-none-match'] = c.ifNoneMatch
  if (c?.ifModifiedSince) out['x-amz-copy-source-if-modified-since'] = c.ifModifiedSince.toUTCString()
  if (c?.ifUnmodifiedSince) out['x-amz-copy-source-if-unmodified-since'] = c.ifUnmodifiedSince.toUTCString()
  return out
}

/** `x-amz-tagging`: the tag set as a URL query. */
export function taggingHeader(tags: Record<string, string> | undefined): Record<string, string> {
  if (!tags || Object.keys(tags).length === 0) return {}
  return {
    'x-amz-tagging': Object.entries(tags)
      .map(([k, v]) => `${uriEncode(k, { encodeSlash: true })}=${uriEncode(v, { encodeSlash: true })}`)
      .join('&'),
  }
}

const ALGORITHMS: readonly ChecksumAlgorithm[] = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256']

function checksumFromHeaders(res: Answer): Checksum | undefined {
  for (const algorithm of ALGORITHMS) {
    const value = headerValue(res, `x-amz-checksum-${algorithm}`)
    if (value) return { algorithm, value, type: headerValue(res, 'x-amz-checksum-type') === 'COMPOSITE' || /-\d+$/.test(value) ? 'COMPOSITE' : 'FULL_OBJECT' }
  }
  return undefined
}

export function infoFromHeaders(key: string, res: Answer, size: number): ObjectInfo {
  const metadata: Record<string, string> = {}
  for (const name in res.headers) if (name.startsWith('x-amz-meta-')) metadata[name.slice(11)] = res.headers[name]!
  const headers: ContentHeaders = {}
  for (const [field, name] of CONTENT_HEADERS) {
    const value = headerValue(res, name)
    if (value !== undefined) headers[field] = value
  }
  const info: ObjectInfo = {
    key,
    size,
    etag: quoteEtag(headerValue(res, 'etag')),
    contentType: headerValue(res, 'content-type'),
    lastModified: parseDate(headerValue(res, 'last-modified')),
    storageClass: headerValue(res, 'x-amz-storage-class'),
    versionId: headerValue(res, 'x-amz-version-id'),
    metadata,
    headers,
  }
  const tagCount = headerValue(res, 'x-amz-tagging-count')
  if (tagCount !== undefined) info.tagCount = Number(tagCount)
  const checksum = checksumFromHeaders(res)
  if (checksum) info.checksum = checksum
  return info
}

/** The HEAD response itself, for callers that need headers ObjectInfo leaves out. */
export async function headResponse(
  s3: S3Http,
  bucket: string,
  key: string,
  opts?: { versionId?: string; signal?: AbortSignal; bucketKnown?: boolean },
): Promise<Answer> {
  const res = await s3.call({
    method: 'HEAD',
    bucket,
    key,
    query: { versionId: opts?.versionId },
    headers: { 'x-amz-checksum-mode': 'ENABLED' },
    signal: opts?.signal,
    ok: [200, 404],
  })
  if (res.status === 404) {
    if (opts?.bucketKnown) throw backendError('not_found', new UpstreamError(404, 'NotFound', '', headerValue(res, 'x-amz-request-id')))
    // A HEAD 404 has no body to say whether the key or the bucket is missing.
    const bucketThere = await s3.call({ method: 'HEAD', bucket, signal: opts?.signal, ok: [200, 403, 404] })
    throw backendError(
      bucketThere.status === 404 ? 'bucket_not_found' : 'not_found',
      new UpstreamError(404, 'NotFound', '', headerValue(res, 'x-amz-request-id')),
    )
  }
  return res
}

export async function headObject(
  s3: S3Http,
  bucket: string,
  key: string,
  opts?: { versionId?: string; signal?: AbortSignal; bucketKnown?: boolean },
): Promise<ObjectInfo> {
  const res = await headResponse(s3, bucket, key, opts)
  return infoFromHeaders(key, res, Number(headerValue(res, 'content-length') ?? 0))
}

/** The x-amz-copy-source value naming one object (or one version of it). */
export function copySource(bucket: string, key: string, versionId?: string): string {
  return `/${bucket}/${uriEncode(key, { encodeSlash: false })}${versionId ? `?versionId=${uriEncode(versionId, { encodeSlash: true })}` : ''}`
}

function rangeHeader(r: Range | undefined): string | undefined {
  if (!r) return undefined
  if ('suffix' in r) return `bytes=-${r.suffix}`
  return `bytes=${r.start}-${r.end ?? ''}`
}

/** An etag the client sent alone, to stand in for the one RGW leaves off its 304s. */
function singleEtag(ifNoneMatch: string | undefined): string | undefined {
  if (!ifNoneMatch || ifNoneMatch.includes(',') || ifNoneMatch.trim() === '*') return undefined
  return quoteEtag(ifNoneMatch)
}

export async function getObject(s3: S3Http, bucket: string, key: string, opts: GetOptions = {}): Promise<GetResult> {
  const res = await s3.send({
    method: 'GET',
    bucket,
    key,
    query: { versionId: opts.versionId, partNumber: opts.partNumber },
    headers: {
      'x-amz-checksum-mode': 'ENABLED',
      range: rangeHeader(opts.range),
      'if-none-match': opts.ifNoneMatch,
      'if-modified-since': opts.ifModifiedSince?.toUTCString(),
      'if-match': opts.ifMatch,
      'if-unmodified-since': opts.ifUnmodifiedSince?.toUTCString(),
    },
    signal: opts.signal,
    ok: [200, 206, 304],
  })
  const contentLength = Number(headerValue(res, 'content-length') ?? 0)
  if (res.status === 304) {
    await res.discard()
    const info = infoFromHeaders(key, res, 0)
    info.etag ??= singleEtag(opts.ifNoneMatch)
    return { status: 304, info }
  }
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(headerValue(res, 'content-range') ?? '')
    if (!m) {
      res
        .stream()
        .cancel()
        .catch(() => {})
      throw backendError('failed', undefined, 'The storage backend sent a partial response without a valid Content-Range.')
    }
    const range = { start: Number(m[1]), end: Number(m[2]), total: Number(m[3]) }
    return { status: 206, info: infoFromHeaders(key, res, range.total), body: res.stream(), contentLength, range }
  }
  return { status: 200, info: infoFromHeaders(key, res, contentLength), body: res.stream(), contentLength }
}

export async function deleteObject(s3: S3Http, bucket: string, key: string, versionId?: string): Promise<DeleteOutcome> {
  const res = await s3.call({ method: 'DELETE', bucket, key, query: { versionId }, ok: [200, 204] })
  const id = headerValue(res, 'x-amz-version-id')
  const outcome: DeleteOutcome = id !== undefined ? { versionId: id } : {}
  if (headerValue(res, 'x-amz-delete-marker') === 'true') outcome.deleteMarker = true
  return outcome
}

export async function deleteObjects(s3: S3Http, bucket: string, keys: Array<{ key: string; versionId?: string }>): Promise<DeleteResult> {
  if (keys.length === 0) return { deleted: [], errors: [] }
  if (keys.length > 1000) throw backendError('invalid', undefined, 'At most 1000 keys can be deleted in one call.')
  const objects = keys.map((k) => tag('Object', tag('Key', escapeXml(k.key)) + (k.versionId ? tag('VersionId', escapeXml(k.versionId)) : ''))).join('')
  const body = `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${tag('Quiet', 'false')}${objects}</Delete>`
  const { body: xml } = await s3.text({
    method: 'POST',
    bucket,
    query: { delete: '' },
    headers: { 'content-md5': contentMd5(body), 'content-type': 'application/xml' },
    body,
  })
  const doc = parseXml(xml)
  return {
    deleted: children(doc, 'Deleted').map((d) => ({ key: textOf(d, 'Key') ?? '', versionId: textOf(d, 'VersionId') || undefined })),
    errors: children(doc, 'Error').map((e) => ({
      key: textOf(e, 'Key') ?? '',
      versionId: textOf(e, 'VersionId') || undefined,
      code: textOf(e, 'Code') ?? '',
      message: textOf(e, 'Message') ?? '',
    })),
  }
}

export async function getObjectTags(s3: S3Http, bucket: string, key: string, versionId?: string): Promise<Record<string, string>> {
  const { body } = await s3.text({ method: 'GET', bucket, key, query: { tagging: '', versionId } })
  const tags: Record<string, string> = {}
  // RGW 16.2 answers with an empty body for objects whose multipart upload was started with x-amz-tagging.
  if (!body.trim()) return tags
  for (const t of children(child(parseXml(body), 'TagSet'), 'Tag')) tags[textOf(t, 'Key') ?? ''] = textOf(t, 'Value') ?? ''
  return tags
}

export async function putObjectTags(s3: S3Http, bucket: string, key: string, tags: Record<string, string>, versionId?: string): Promise<void> {
  const set = Object.entries(tags)
    .map(([k, v]) => tag('Tag', tag('Key', escapeXml(k)) + tag('Value', escapeXml(v))))
    .join('')
  const body = `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${tag('TagSet', set)}</Tagging>`
  await s3.call({
    method: 'PUT',
    bucket,
    key,
    query: { tagging: '', versionId },
    headers: { 'content-md5': contentMd5(body), 'content-type': 'application/xml' },
    body,
  })
}
