// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Listings: buckets, objects (one ListObjectsV2 page per call), the versions
 * of one key, the deleted keys of a folder, multipart uploads and their parts.
 */
import type { BucketInfo, ListOptions, ListResult, MultipartUpload, ObjectInfo, UploadedPart, VersionInfo } from '../backend.ts'
import type { S3Http } from './client.ts'
import { backendError } from './errors.ts'
import { headObject, parseDate, quoteEtag } from './objects.ts'
import { child, children, parseXml, textOf, type XmlElement } from '../../s3/xml.ts'

/**
 * Keys are requested url-encoded so that characters XML 1.0 cannot carry
 * survive. A server that ignored the request says so by omitting EncodingType.
 * AWS writes a space as '+', RGW as %20; a literal '+' is %2B on both.
 */
function keyDecoder(doc: XmlElement): (s: string) => string {
  return textOf(doc, 'EncodingType') === 'url' ? (s) => decodeURIComponent(s.replace(/\+/g, ' ')) : (s) => s
}

/** Guards paging: a truncated page whose markers do not move would loop forever. */
function advance(previous: Array<string | undefined>, next: Array<string | undefined>): void {
  if (!next[0] || next.join('\0') === previous.join('\0'))
    throw backendError('failed', undefined, 'The storage backend sent a truncated listing without a way to continue.')
}

export async function listBuckets(s3: S3Http, signal?: AbortSignal): Promise<BucketInfo[]> {
  const { body } = await s3.text({ method: 'GET', signal })
  return children(child(parseXml(body), 'Buckets'), 'Bucket').map((b) => ({ name: textOf(b, 'Name') ?? '', createdAt: parseDate(textOf(b, 'CreationDate')) }))
}

/** HEADs per page when metadata is asked for; enough to hide latency, few enough not to flood the upstream. */
const HEAD_CONCURRENCY = 8

async function addMetadata(s3: S3Http, bucket: string, objects: ObjectInfo[]): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < objects.length) {
      const o = objects[next++]!
      try {
        const head = await headObject(s3, bucket, o.key, { bucketKnown: true })
        o.metadata = head.metadata
        o.contentType = head.contentType
      } catch {
        // Deleted since the listing, or unreadable: the listing entry stands without metadata.
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(HEAD_CONCURRENCY, objects.length) }, worker))
}

export async function listObjects(s3: S3Http, bucket: string, opts: ListOptions): Promise<ListResult> {
  const maxKeys = Math.min(1000, Math.max(1, Math.floor(opts.maxKeys ?? 1000)))
  const { body } = await s3.text({
    method: 'GET',
    bucket,
    query: {
      'list-type': 2,
      'continuation-token': opts.token || undefined,
      'start-after': opts.token ? undefined : opts.startAfter || undefined,
      delimiter: opts.delimiter || undefined,
      'encoding-type': 'url',
      'max-keys': maxKeys,
      prefix: opts.prefix || undefined,
    },
  })
  const doc = parseXml(body)
  const decode = keyDecoder(doc)
  const objects: ObjectInfo[] = children(doc, 'Contents').map((c) => ({
    key: decode(textOf(c, 'Key') ?? ''),
    size: Number(textOf(c, 'Size') ?? 0),
    etag: quoteEtag(textOf(c, 'ETag')),
    lastModified: parseDate(textOf(c, 'LastModified')),
    storageClass: textOf(c, 'StorageClass'),
  }))
  if (opts.withMetadata) await addMetadata(s3, bucket, objects)
  const isTruncated = textOf(doc, 'IsTruncated') === 'true'
  return {
    objects,
    commonPrefixes: children(doc, 'CommonPrefixes').map((p) => decode(textOf(p, 'Prefix') ?? '')),
    isTruncated,
    nextToken: isTruncated ? textOf(doc, 'NextContinuationToken') : undefined,
  }
}

/**
 * The pages of a ListObjectVersions walk (url-encoded keys, 1000 a page), following the key and
 * version-id markers until the listing ends or the caller stops reading.
 */
async function* versionPages(
  s3: S3Http,
  bucket: string,
  query: { prefix: string | undefined; delimiter?: string },
): AsyncGenerator<{ doc: XmlElement; decode: (s: string) => string }> {
  let keyMarker: string | undefined
  let versionMarker: string | undefined
  for (;;) {
    const { body } = await s3.text({
      method: 'GET',
      bucket,
      query: { versions: '', 'encoding-type': 'url', 'max-keys': 1000, ...query, 'key-marker': keyMarker, 'version-id-marker': versionMarker },
    })
    const doc = parseXml(body)
    const decode = keyDecoder(doc)
    yield { doc, decode }
    if (textOf(doc, 'IsTruncated') !== 'true') return
    const next = [decode(textOf(doc, 'NextKeyMarker') ?? ''), textOf(doc, 'NextVersionIdMarker')]
    advance([keyMarker, versionMarker], next)
    ;[keyMarker, versionMarker] = next
  }
}

export async function listObjectVersions(s3: S3Http, bucket: string, key: string): Promise<VersionInfo[]> {
  const out: VersionInfo[] = []
  for await (const { doc, decode } of versionPages(s3, bucket, { prefix: key })) {
    for (const v of doc.children) {
      if (v.name !== 'Version' && v.name !== 'DeleteMarker') continue
      // The prefix also matches longer keys ("a" → "a/b"); they sort after every version of `key`.
      if (decode(textOf(v, 'Key') ?? '') !== key) return out
      const isDeleteMarker = v.name === 'DeleteMarker'
      out.push({
        key,
        size: isDeleteMarker ? 0 : Number(textOf(v, 'Size') ?? 0),
        etag: quoteEtag(textOf(v, 'ETag')),
        lastModified: parseDate(textOf(v, 'LastModified')),
        storageClass: textOf(v, 'StorageClass'),
        versionId: textOf(v, 'VersionId') ?? 'null',
        isLatest: textOf(v, 'IsLatest') === 'true',
        isDeleteMarker,
      })
    }
  }
  return out
}

/** How many deleted keys one folder view shows; a folder with more is rare and its first ones are enough to find. */
export const MAX_DELETED_KEYS = 1000

/**
 * Keys directly under `prefix` whose latest version is a delete marker (deleted, but their older
 * versions are kept), at most MAX_DELETED_KEYS. Versions of a key come newest first, so a key's
 * delete marker marked IsLatest is the one that hides it.
 */
export async function listDeletedKeys(s3: S3Http, bucket: string, prefix: string): Promise<VersionInfo[]> {
  const out: VersionInfo[] = []
  for await (const { doc, decode } of versionPages(s3, bucket, { prefix: prefix || undefined, delimiter: '/' })) {
    for (const m of children(doc, 'DeleteMarker')) {
      if (textOf(m, 'IsLatest') !== 'true') continue
      out.push({
        key: decode(textOf(m, 'Key') ?? ''),
        size: 0,
        lastModified: parseDate(textOf(m, 'LastModified')),
        versionId: textOf(m, 'VersionId') ?? 'null',
        isLatest: true,
        isDeleteMarker: true,
      })
      if (out.length >= MAX_DELETED_KEYS) return out
    }
  }
  return out
}

export async function listMultipartUploads(s3: S3Http, bucket: string, opts: { prefix?: string }): Promise<MultipartUpload[]> {
  const out: MultipartUpload[] = []
  let keyMarker: string | undefined
  let uploadIdMarker: string | undefined
  for (;;) {
    const { body } = await s3.text({
      method: 'GET',
      bucket,
      // No encoding-type: RGW 16.2 then encodes Key but not NextKeyMarker, and says neither.
      query: { uploads: '', 'key-marker': keyMarker, prefix: opts.prefix || undefined, 'upload-id-marker': uploadIdMarker },
    })
    const doc = parseXml(body)
    for (const u of children(doc, 'Upload'))
      out.push({ key: textOf(u, 'Key') ?? '', uploadId: textOf(u, 'UploadId') ?? '', initiated: parseDate(textOf(u, 'Initiated')) })
    if (textOf(doc, 'IsTruncated') !== 'true') return out
    const next = [textOf(doc, 'NextKeyMarker'), textOf(doc, 'NextUploadIdMarker')]
    advance([keyMarker, uploadIdMarker], next)
    ;[keyMarker, uploadIdMarker] = next
  }
}

export async function listParts(s3: S3Http, bucket: string, key: string, uploadId: string): Promise<UploadedPart[]> {
  const out: UploadedPart[] = []
  let marker: string | undefined
  for (;;) {
    const { body } = await s3.text({ method: 'GET', bucket, key, query: { 'part-number-marker': marker, uploadId } })
    const doc = parseXml(body)
    for (const p of children(doc, 'Part'))
      out.push({ partNumber: Number(textOf(p, 'PartNumber')), etag: quoteEtag(textOf(p, 'ETag')) ?? '', size: Number(textOf(p, 'Size') ?? 0) })
    if (textOf(doc, 'IsTruncated') !== 'true') return out
    const next = textOf(doc, 'NextPartNumberMarker')
    advance([marker], [next])
    marker = next
  }
}
