// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Writes, streamed: one PUT with an exact Content-Length up to the single-PUT
 * limit, a multipart upload fed part by part from the same stream above it.
 * Nothing is buffered beyond the chunk in flight.
 */
import type { ChecksumRequest, CompletedPart, CopyConditions, CreateUploadOptions, PutOptions, PutResult, UploadedPart, UploadPartOptions } from '../backend.ts'
import type { Answer } from '../../s3/transport.ts'
import { escapeXml, parseXml, tag, textOf } from '../../s3/xml.ts'
import { etagListMatches } from '../conditions.ts'
import { headerValue, type S3Http } from './client.ts'
import { backendError, resultOf } from './errors.ts'
import { contentHeaders, copyConditionHeaders, copySource, headObject, metadataHeaders, parseDate, quoteEtag, taggingHeader } from './objects.ts'
import { BodyCursor } from './streams.ts'

export type UploadLimits = {
  /** Largest object sent as one PUT. */
  singlePutMaxBytes: number
  /** Part size when an object is larger than that; raised if the object would need more than 10000 parts. */
  partBytes: number
}

const MAX_PARTS = 10_000

/** Digests the upstream verifies itself: Content-MD5 always, a flexible checksum where it supports them. */
function digestHeaders(o: { md5?: string; checksum?: ChecksumRequest }): Record<string, string> {
  const out: Record<string, string> = {}
  if (o.md5 !== undefined) out['content-md5'] = o.md5
  if (o.checksum?.value !== undefined) out[`x-amz-checksum-${o.checksum.algorithm}`] = o.checksum.value
  return out
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw backendError('invalid', undefined, 'The body size must be a non-negative integer.')
}

export async function putObject(
  s3: S3Http,
  limits: UploadLimits,
  bucket: string,
  key: string,
  body: ReadableStream<Uint8Array>,
  opts: PutOptions,
): Promise<PutResult> {
  checkSize(opts.size)
  const cursor = new BodyCursor(body)
  try {
    if (opts.size <= limits.singlePutMaxBytes) {
      const res = await s3.call({
        method: 'PUT',
        bucket,
        key,
        headers: {
          'content-type': opts.contentType,
          'if-none-match': opts.ifNoneMatch,
          'if-match': opts.ifMatch,
          ...metadataHeaders(opts.metadata),
          ...contentHeaders(opts.headers),
          ...taggingHeader(opts.tags),
          ...digestHeaders(opts),
        },
        body: cursor.take(opts.size, true),
        size: opts.size,
        signal: opts.signal,
      })
      return written(quoteEtag(headerValue(res, 'etag')) ?? '', res)
    }
    return await putMultipart(s3, limits, bucket, key, cursor, opts)
  } catch (err) {
    cursor.cancel(err)
    throw cursor.failure ?? err
  }
}

async function putMultipart(s3: S3Http, limits: UploadLimits, bucket: string, key: string, cursor: BodyCursor, opts: PutOptions): Promise<PutResult> {
  if (opts.ifNoneMatch !== undefined || opts.ifMatch !== undefined) {
    // RGW 16.2 ignores If-None-Match on CompleteMultipartUpload, so check up
    // front too; AWS also honours If-None-Match: * sent with the completion.
    const exists = await s3.call({ method: 'HEAD', bucket, key, signal: opts.signal, ok: [200, 404] })
    const etag = exists.status === 200 ? (headerValue(exists, 'etag') ?? '') : undefined
    if (opts.ifMatch !== undefined && etag === undefined) throw backendError('not_found')
    if (opts.ifMatch !== undefined && !etagListMatches(opts.ifMatch, etag!)) throw backendError('precondition')
    if (opts.ifNoneMatch !== undefined && etag !== undefined && etagListMatches(opts.ifNoneMatch, etag)) throw backendError('precondition')
  }
  const partBytes = Math.max(limits.partBytes, Math.ceil(opts.size / MAX_PARTS))
  const uploadId = await createMultipartUpload(s3, bucket, key, {
    contentType: opts.contentType,
    metadata: opts.metadata,
    headers: opts.headers,
    tags: opts.tags,
  })
  try {
    const parts: CompletedPart[] = []
    for (let partNumber = 1; cursor.position < opts.size; partNumber++) {
      const size = Math.min(partBytes, opts.size - cursor.position)
      const last = cursor.position + size === opts.size
      const part = await sendPart(s3, bucket, key, uploadId, partNumber, cursor.take(size, last), size, opts.signal)
      parts.push({ partNumber: part.partNumber, etag: part.etag })
    }
    return await completeMultipartUpload(s3, bucket, key, uploadId, parts, opts.ifNoneMatch === '*' ? '*' : undefined)
  } catch (err) {
    await abortMultipartUpload(s3, bucket, key, uploadId).catch(() => {})
    throw err
  }
}

export async function createMultipartUpload(
  s3: S3Http,
  bucket: string,
  key: string,
  opts: CreateUploadOptions & { raw?: Record<string, string | undefined> },
): Promise<string> {
  const headers = {
    'content-type': opts.contentType,
    ...metadataHeaders(opts.metadata),
    ...contentHeaders(opts.headers),
    ...taggingHeader(opts.tags),
    ...(opts.checksum ? { 'x-amz-checksum-algorithm': opts.checksum.algorithm.toUpperCase(), 'x-amz-checksum-type': opts.checksum.type } : {}),
    ...opts.raw,
  }
  const { body } = await s3.text({ method: 'POST', bucket, key, query: { uploads: '' }, headers })
  const uploadId = textOf(parseXml(body), 'UploadId')
  if (!uploadId) throw backendError('failed', undefined, 'The storage backend returned no upload id.')
  return uploadId
}

async function sendPart(
  s3: S3Http,
  bucket: string,
  key: string,
  uploadId: string,
  partNumber: number,
  body: ReadableStream<Uint8Array>,
  size: number,
  signal?: AbortSignal,
  headers: Record<string, string> = {},
): Promise<UploadedPart> {
  const res = await s3.call({ method: 'PUT', bucket, key, query: { partNumber, uploadId }, headers, body, size, signal })
  return { partNumber, etag: quoteEtag(headerValue(res, 'etag')) ?? '', size }
}

function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS)
    throw backendError('invalid', undefined, 'The part number must be between 1 and 10000.')
}

export async function uploadPart(
  s3: S3Http,
  bucket: string,
  key: string,
  uploadId: string,
  partNumber: number,
  body: ReadableStream<Uint8Array>,
  opts: UploadPartOptions,
): Promise<UploadedPart> {
  checkSize(opts.size)
  checkPartNumber(partNumber)
  const cursor = new BodyCursor(body)
  try {
    return await sendPart(s3, bucket, key, uploadId, partNumber, cursor.take(opts.size, true), opts.size, opts.signal, digestHeaders(opts))
  } catch (err) {
    cursor.cancel(err)
    throw cursor.failure ?? err
  }
}

export async function uploadPartCopy(
  s3: S3Http,
  dst: { bucket: string; key: string; uploadId: string; partNumber: number },
  src: { bucket: string; key: string; versionId?: string },
  opts: { range?: { start: number; end: number }; conditions?: CopyConditions; signal?: AbortSignal },
): Promise<UploadedPart> {
  checkPartNumber(dst.partNumber)
  const headers = {
    'x-amz-copy-source': copySource(src.bucket, src.key, src.versionId),
    ...(opts.range ? { 'x-amz-copy-source-range': `bytes=${opts.range.start}-${opts.range.end}` } : {}),
    ...copyConditionHeaders(opts.conditions),
  }
  const { body } = await s3.text({
    method: 'PUT',
    bucket: dst.bucket,
    key: dst.key,
    query: { partNumber: dst.partNumber, uploadId: dst.uploadId },
    headers,
    signal: opts.signal,
  })
  const doc = resultOf(body)
  const etag = quoteEtag(textOf(doc, 'ETag'))
  if (!etag) throw backendError('failed', undefined, 'The storage backend returned no ETag for a copied part.')
  const parts = await listPartsOf(s3, dst)
  const size = parts.get(dst.partNumber)
  return {
    partNumber: dst.partNumber,
    etag,
    size: size ?? (opts.range ? opts.range.end - opts.range.start + 1 : 0),
    lastModified: parseDate(textOf(doc, 'LastModified')),
  }
}

/** Part sizes of an upload, which a CopyPartResult does not carry. */
async function listPartsOf(s3: S3Http, dst: { bucket: string; key: string; uploadId: string; partNumber: number }): Promise<Map<number, number>> {
  const { body } = await s3.text({
    method: 'GET',
    bucket: dst.bucket,
    key: dst.key,
    query: { 'max-parts': 1, 'part-number-marker': dst.partNumber - 1, uploadId: dst.uploadId },
  })
  const out = new Map<number, number>()
  for (const p of parseXml(body).children) if (p.name === 'Part') out.set(Number(textOf(p, 'PartNumber')), Number(textOf(p, 'Size') ?? 0))
  return out
}

export async function completeMultipartUpload(
  s3: S3Http,
  bucket: string,
  key: string,
  uploadId: string,
  parts: CompletedPart[],
  ifNoneMatch?: '*',
): Promise<PutResult> {
  const list = parts.map((p) => tag('Part', tag('PartNumber', p.partNumber) + tag('ETag', escapeXml(quoteEtag(p.etag) ?? '')))).join('')
  const request = `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${list}</CompleteMultipartUpload>`
  const { res, body } = await s3.text({
    method: 'POST',
    bucket,
    key,
    query: { uploadId },
    headers: { 'content-type': 'application/xml', 'if-none-match': ifNoneMatch },
    body: request,
  })
  const doc = resultOf(body)
  const etag = quoteEtag(textOf(doc, 'ETag'))
  if (etag) return written(etag, res)
  // RGW 16.2 answers with an empty <ETag/>; the object itself has the right one.
  const versionId = headerValue(res, 'x-amz-version-id')
  const info = await headObject(s3, bucket, key, { ...(versionId ? { versionId } : {}), bucketKnown: true })
  return { etag: info.etag ?? '', ...(versionId ? { versionId } : {}), ...(info.lastModified ? { lastModified: info.lastModified } : {}), object: info }
}

/** A write's result from its answer's headers. */
function written(etag: string, res: Answer): PutResult {
  const versionId = headerValue(res, 'x-amz-version-id')
  const lastModified = parseDate(headerValue(res, 'date'))
  return { etag, ...(versionId ? { versionId } : {}), ...(lastModified ? { lastModified } : {}) }
}

export async function abortMultipartUpload(s3: S3Http, bucket: string, key: string, uploadId: string): Promise<void> {
  await s3.call({ method: 'DELETE', bucket, key, query: { uploadId }, ok: [200, 204] })
}
