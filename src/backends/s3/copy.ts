// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Server-side copies: one CopyObject up to the single-copy limit, a multipart
 * copy above it (AWS refuses CopyObject for sources over 5 GiB, B2 over 5 GB).
 * Either way the bytes never pass through us.
 */
import type { CopyOptions, ObjectInfo } from '../backend.ts'
import { textOf } from '../../s3/xml.ts'
import { checkCopyConditions } from '../conditions.ts'
import { headerValue, type S3Http } from './client.ts'
import { resultOf } from './errors.ts'
import { multipartCopy, sourceTags } from './multipart-copy.ts'
import {
  contentHeaders,
  copyConditionHeaders,
  copySource,
  headObject,
  headResponse,
  infoFromHeaders,
  metadataHeaders,
  parseDate,
  putObjectTags,
  quoteEtag,
  taggingHeader,
} from './objects.ts'

export type CopyLimits = {
  /** Largest source copied with one CopyObject. */
  singleCopyMaxBytes: number
  /** Part size of a multipart copy; kept within 5 MiB–5 GiB and raised if the source would need more than 10000 parts. */
  partBytes: number
}

/** Headers that describe the content and that REPLACE would otherwise drop. */
const CONTENT_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires']

type Ref = { bucket: string; key: string }

export async function copyObject(s3: S3Http, limits: CopyLimits, src: Ref, dst: Ref, opts: CopyOptions = {}): Promise<ObjectInfo> {
  const replacing = opts.metadata !== undefined || opts.contentType !== undefined || opts.headers !== undefined
  if (!replacing && !opts.conditions && opts.source && opts.source.size <= limits.singleCopyMaxBytes) {
    return copied(dst.key, opts.source, opts, await singleCopy(s3, src, dst, undefined, false, opts))
  }
  const head = await headResponse(s3, src.bucket, src.key, { versionId: opts.srcVersionId, signal: opts.signal })
  const source = infoFromHeaders(src.key, head, Number(headerValue(head, 'content-length') ?? 0))
  // What the destination is to carry whenever the server will not copy it:
  // REPLACE resets every content header, and a multipart upload starts bare.
  const content: Record<string, string | undefined> = {
    'content-type': opts.contentType ?? source.contentType,
    ...metadataHeaders(opts.metadata ?? source.metadata),
  }
  if (opts.headers) Object.assign(content, contentHeaders(opts.headers))
  else for (const h of CONTENT_HEADERS) content[h] = headerValue(head, h)
  // Checked on the HEAD as well as sent along: RGW 16.2 ignores x-amz-copy-source-if-*, and part copies carry none.
  checkCopyConditions(source, opts.conditions)
  if (source.size > limits.singleCopyMaxBytes) {
    const versionId = await multipartCopy(
      s3,
      limits.partBytes,
      { ...src, versionId: opts.srcVersionId, etag: source.etag, size: source.size },
      dst,
      content,
      opts.signal,
      opts.tags,
    )
    // A multipart ETag that RGW leaves empty, and the date: the object itself says.
    return headObject(s3, dst.bucket, dst.key, { versionId, signal: opts.signal, bucketKnown: true })
  }
  const done = await singleCopy(s3, src, dst, replacing ? content : undefined, Number(headerValue(head, 'x-amz-tagging-count') ?? 0) > 0, opts)
  return copied(
    dst.key,
    { ...source, ...(content['content-type'] ? { contentType: content['content-type'] } : {}), metadata: opts.metadata ?? source.metadata ?? {} },
    opts,
    done,
  )
}

type CopyResult = { etag?: string; lastModified?: Date; versionId?: string }

/**
 * The copy's info: the source's content (with the headers and tags the copy replaced), and the
 * ETag, date and version CopyObject answered. Left out: the storage class (a copy is STANDARD
 * unless asked otherwise), and the checksum and part layout, which a copy may not keep.
 */
function copied(key: string, source: ObjectInfo, opts: CopyOptions, r: CopyResult): ObjectInfo {
  const info: ObjectInfo = { ...source, key }
  delete info.storageClass
  delete info.versionId
  delete info.checksum
  delete info.parts
  if (opts.headers) info.headers = opts.headers
  if (opts.tags) info.tagCount = Object.keys(opts.tags).length
  if (r.etag) info.etag = r.etag
  if (r.lastModified) info.lastModified = r.lastModified
  if (r.versionId) info.versionId = r.versionId
  return info
}

async function singleCopy(
  s3: S3Http,
  src: Ref,
  dst: Ref,
  replace: Record<string, string | undefined> | undefined,
  tagged: boolean,
  opts: CopyOptions,
): Promise<CopyResult> {
  // RGW drops the tags on a REPLACE copy, even with x-amz-tagging-directive: COPY (AWS keeps them);
  // read them first, since a copy onto itself leaves nothing to read them from afterwards.
  const tags = opts.tags === undefined && replace && tagged ? await sourceTags(s3, { ...src, versionId: opts.srcVersionId }) : {}
  const headers = {
    'x-amz-copy-source': copySource(src.bucket, src.key, opts.srcVersionId),
    'x-amz-metadata-directive': replace ? 'REPLACE' : 'COPY',
    ...replace,
    ...(opts.tags !== undefined ? { 'x-amz-tagging-directive': 'REPLACE', ...taggingHeader(opts.tags) } : {}),
    ...(opts.checksumAlgorithm ? { 'x-amz-checksum-algorithm': opts.checksumAlgorithm.toUpperCase() } : {}),
    ...copyConditionHeaders(opts.conditions),
  }
  const { res, body } = await s3.text({ method: 'PUT', bucket: dst.bucket, key: dst.key, headers, signal: opts.signal })
  const doc = resultOf(body)
  const versionId = headerValue(res, 'x-amz-version-id')
  // RGW also ignores x-amz-tagging on a copy, so replaced tags are put afterwards too.
  if (opts.tags !== undefined) await putObjectTags(s3, dst.bucket, dst.key, opts.tags, versionId)
  else if (Object.keys(tags).length > 0) await putObjectTags(s3, dst.bucket, dst.key, tags, versionId)
  const etag = quoteEtag(textOf(doc, 'ETag'))
  const lastModified = parseDate(textOf(doc, 'LastModified'))
  return { ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}), ...(versionId ? { versionId } : {}) }
}
