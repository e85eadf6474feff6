// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * CopyObject and UploadPartCopy, within a bucket or across buckets of the
 * backend (the pipeline has checked that the credential may read the source).
 *
 * CopyObject keeps the source's content type, content headers and metadata
 * (`x-amz-metadata-directive: COPY`, the default) or takes the request's
 * (`REPLACE`), and keeps its tags or takes `x-amz-tagging`
 * (`x-amz-tagging-directive`). A copy onto itself must change something, as
 * in S3. `x-amz-copy-source-if-*` are checked against the very bytes copied.
 */
import type { CopyOptions } from '../backends/backend.ts'
import type { S3Reply } from '../s3proxy/call.ts'
import { checkVersionId, keyOf, param, writtenVersion, xmlReply, type OpContext } from './context.ts'
import { invalidRequest, s3Failure } from './errors.ts'
import { expirationHeader } from './expiration.ts'
import { algorithmOf, conditionsOf, contentHeadersOf, invalidArgument, metadataOf, refuseUnsupported, taggingOf } from './headers.ts'
import { doc, el, isoTime } from './xml.ts'

function directive(c: OpContext, header: string): 'COPY' | 'REPLACE' {
  const value = c.call.headers.get(header)
  if (value === null) return 'COPY'
  const v = value.trim().toUpperCase()
  if (v !== 'COPY' && v !== 'REPLACE') throw invalidArgument(`Unknown ${header} value.`)
  return v
}

/** The copy source, as the pipeline parsed `x-amz-copy-source` and checked it against the scope. */
function sourceOf(c: OpContext): { bucket: string; key: string; versionId?: string } {
  const src = c.call.copySource
  if (!src) throw invalidArgument('x-amz-copy-source is required.')
  if (src.versionId !== undefined) checkVersionId(src.versionId)
  return src
}

function checksumElement(checksum: { algorithm: string; value: string } | undefined): string {
  return checksum ? el(`Checksum${checksum.algorithm.toUpperCase()}`, checksum.value) : ''
}

export async function copyObject(c: OpContext): Promise<S3Reply> {
  const h = c.call.headers
  refuseUnsupported(h)
  const src = sourceOf(c)
  const opts: CopyOptions = { conditions: conditionsOf(h, 'x-amz-copy-source-'), signal: c.call.signal }
  if (src.versionId !== undefined) opts.srcVersionId = src.versionId
  if (directive(c, 'x-amz-metadata-directive') === 'REPLACE') {
    opts.contentType = h.get('content-type') ?? 'binary/octet-stream'
    opts.metadata = metadataOf(h)
    opts.headers = contentHeadersOf(h)
  }
  if (directive(c, 'x-amz-tagging-directive') === 'REPLACE') opts.tags = taggingOf(h) ?? {}
  const algorithm = h.get('x-amz-checksum-algorithm')
  if (algorithm !== null) opts.checksumAlgorithm = algorithmOf(algorithm)
  let info
  try {
    info = await c.backend.copyObject({ bucket: src.bucket, key: src.key }, { bucket: c.bucket, key: keyOf(c) }, opts)
  } catch (err) {
    throw s3Failure(err)
  }
  const headers = { ...writtenVersion(info.versionId), ...(await expirationHeader(c, info)) }
  if (src.versionId !== undefined) headers['x-amz-copy-source-version-id'] = src.versionId
  return xmlReply(
    doc('CopyObjectResult', el('LastModified', isoTime(info.lastModified)) + el('ETag', info.etag ?? '') + checksumElement(info.checksum)),
    headers,
  )
}

/** `bytes=first-last`, both present, as S3 requires for part copies. */
function copyRange(value: string | null): { start: number; end: number } | undefined {
  if (value === null) return undefined
  const m = /^bytes=(\d{1,15})-(\d{1,15})$/.exec(value.trim())
  if (!m || Number(m[2]) < Number(m[1]))
    throw invalidArgument(
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
    )
  return { start: Number(m[1]), end: Number(m[2]) }
}

export async function uploadPartCopy(c: OpContext): Promise<S3Reply> {
  const h = c.call.headers
  refuseUnsupported(h)
  const src = sourceOf(c)
  const partNumber = Number(param(c, 'partNumber'))
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000)
    throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive')
  const uploadId = param(c, 'uploadId')
  if (!uploadId) throw invalidRequest('uploadId is required.')
  const range = copyRange(h.get('x-amz-copy-source-range'))
  let part
  try {
    part = await c.backend.uploadPartCopy({ bucket: c.bucket, key: keyOf(c), uploadId, partNumber }, src, {
      ...(range ? { range } : {}),
      conditions: conditionsOf(h, 'x-amz-copy-source-'),
      signal: c.call.signal,
    })
  } catch (err) {
    throw s3Failure(err, 'upload')
  }
  return xmlReply(doc('CopyPartResult', el('LastModified', isoTime(part.lastModified ?? new Date())) + el('ETag', part.etag) + checksumElement(part.checksum)))
}
