// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Multipart uploads: Create, UploadPart, Complete, Abort, ListParts and
 * ListMultipartUploads. The rules a completion follows (ascending parts,
 * matching ETags and checksums, 5 MiB for all but the last part) are the
 * driver's, with S3's codes; the ETag is S3's `md5(part md5s)-N`. Listings
 * page over the driver's full answer with S3's markers.
 */
import type { ChecksumAlgorithm, CompletedPart, CreateUploadOptions, MultipartUpload } from '../backends/backend.ts'
import { children, textOf } from '../s3/xml.ts'
import type { S3Reply } from '../s3proxy/call.ts'
import { compareKeys } from '../lib/key-order.ts'
import { uriEncode } from '../s3/canonical.ts'
import { bodyStream, parseDocument, readDocument } from './body.ts'
import { emptyReply, encodingType, intParam, keyOf, param, writtenVersion, xmlReply, type OpContext } from './context.ts'
import { expirationHeader } from './expiration.ts'
import { invalidRequest, malformedXml, s3Failure } from './errors.ts'
import {
  algorithmOf,
  checksumOf,
  checksumValue,
  contentHeadersOf,
  invalidArgument,
  md5Of,
  metadataOf,
  refuseUnsupported,
  taggingOf,
  writeCondition,
} from './headers.ts'
import { doc, el, isoTime, keyWriter, owner, wrap } from './xml.ts'

/** A completion names at most 10,000 parts of ~150 bytes each. */
const COMPLETE_DOCUMENT_LIMIT = 4 * 1024 * 1024

const ALGORITHMS: readonly ChecksumAlgorithm[] = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256']

function uploadIdOf(c: OpContext): string {
  const id = param(c, 'uploadId')
  if (!id) throw invalidRequest('uploadId is required.')
  return id
}

function partNumberOf(c: OpContext): number {
  const raw = param(c, 'partNumber') ?? ''
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 10_000) throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive')
  return Number(raw)
}

export async function createMultipartUpload(c: OpContext): Promise<S3Reply> {
  const h = c.call.headers
  refuseUnsupported(h)
  const opts: CreateUploadOptions = { contentType: h.get('content-type') ?? 'binary/octet-stream', metadata: metadataOf(h), headers: contentHeadersOf(h) }
  const tags = taggingOf(h)
  if (tags) opts.tags = tags
  const algorithm = h.get('x-amz-checksum-algorithm')
  const type = h.get('x-amz-checksum-type')?.trim().toUpperCase()
  if (type !== undefined && type !== 'COMPOSITE' && type !== 'FULL_OBJECT') throw invalidRequest('Value for x-amz-checksum-type header is invalid.')
  if (type !== undefined && algorithm === null) throw invalidRequest('x-amz-checksum-type needs x-amz-checksum-algorithm.')
  if (algorithm !== null) {
    const a = algorithmOf(algorithm)
    opts.checksum = { algorithm: a, type: type ?? (a === 'crc64nvme' ? 'FULL_OBJECT' : 'COMPOSITE') }
  }
  let id
  try {
    id = await c.backend.createMultipartUpload(c.bucket, keyOf(c), opts)
  } catch (err) {
    throw s3Failure(err)
  }
  const headers: Record<string, string> = {}
  if (opts.checksum) {
    headers['x-amz-checksum-algorithm'] = opts.checksum.algorithm.toUpperCase()
    headers['x-amz-checksum-type'] = opts.checksum.type
  }
  return xmlReply(doc('InitiateMultipartUploadResult', el('Bucket', c.bucket) + el('Key', keyOf(c)) + el('UploadId', id)), headers)
}

export async function uploadPart(c: OpContext): Promise<S3Reply> {
  const h = c.call.headers
  const partNumber = partNumberOf(c)
  const uploadId = uploadIdOf(c)
  const md5 = md5Of(h)
  const checksum = checksumOf(h)
  const { stream, size } = bodyStream(c.call.body)
  let part
  try {
    part = await c.backend.uploadPart(c.bucket, keyOf(c), uploadId, partNumber, stream, {
      size,
      ...(md5 !== undefined ? { md5 } : {}),
      ...(checksum ? { checksum } : {}),
      signal: c.call.signal,
    })
  } catch (err) {
    throw s3Failure(err, 'upload')
  }
  const headers: Record<string, string> = { etag: part.etag }
  if (part.checksum) headers[`x-amz-checksum-${part.checksum.algorithm}`] = part.checksum.value
  return emptyReply(200, headers)
}

function parseCompletion(bytes: Uint8Array): CompletedPart[] {
  const root = parseDocument(bytes, 'CompleteMultipartUpload')
  return children(root, 'Part').map((p) => {
    const number = (textOf(p, 'PartNumber') ?? '').trim()
    const etag = textOf(p, 'ETag')
    if (!/^\d{1,5}$/.test(number) || etag === undefined) throw malformedXml()
    const part: CompletedPart = { partNumber: Number(number), etag: etag.trim() }
    for (const algorithm of ALGORITHMS) {
      const value = textOf(p, `Checksum${algorithm.toUpperCase()}`)
      if (value !== undefined) part.checksum = { algorithm, value: checksumValue(algorithm, value, `Checksum${algorithm.toUpperCase()}`) }
    }
    return part
  })
}

export async function completeMultipartUpload(c: OpContext): Promise<S3Reply> {
  const uploadId = uploadIdOf(c)
  const ifNoneMatch = writeCondition(c.call.headers)
  const parts = parseCompletion(await readDocument(c.call.body, COMPLETE_DOCUMENT_LIMIT, md5Of(c.call.headers)))
  let done
  try {
    done = await c.backend.completeMultipartUpload(c.bucket, keyOf(c), uploadId, parts, ifNoneMatch ? { ifNoneMatch } : {})
  } catch (err) {
    throw s3Failure(err, 'upload')
  }
  const inb = c.call.inbound
  const path = inb.style === 'virtual' ? `/${uriEncode(keyOf(c), { encodeSlash: false })}` : `/${c.bucket}/${uriEncode(keyOf(c), { encodeSlash: false })}`
  let inner = el('Location', `http://${inb.host}${path}`) + el('Bucket', c.bucket) + el('Key', keyOf(c)) + el('ETag', done.etag)
  if (done.checksum) inner += el(`Checksum${done.checksum.algorithm.toUpperCase()}`, done.checksum.value) + el('ChecksumType', done.checksum.type)
  const expiration = await expirationHeader(c, { size: done.size ?? 0, lastModified: done.lastModified })
  return xmlReply(doc('CompleteMultipartUploadResult', inner), { ...writtenVersion(done.versionId), ...expiration })
}

export async function abortMultipartUpload(c: OpContext): Promise<S3Reply> {
  try {
    await c.backend.abortMultipartUpload(c.bucket, keyOf(c), uploadIdOf(c))
  } catch (err) {
    throw s3Failure(err, 'upload')
  }
  return emptyReply(204)
}

export async function listParts(c: OpContext): Promise<S3Reply> {
  const uploadId = uploadIdOf(c)
  const max = intParam(c, 'max-parts', 1000, 1000)
  const marker = intParam(c, 'part-number-marker', 0, 10_000)
  let all
  try {
    all = await c.backend.listParts(c.bucket, keyOf(c), uploadId)
  } catch (err) {
    throw s3Failure(err, 'upload')
  }
  const after = all.filter((p) => p.partNumber > marker)
  const page = after.slice(0, max)
  const truncated = after.length > page.length
  let inner =
    el('Bucket', c.bucket) + el('Key', keyOf(c)) + el('UploadId', uploadId) + owner(c.owner, 'Initiator') + owner(c.owner) + el('StorageClass', 'STANDARD')
  inner += el('PartNumberMarker', marker) + el('NextPartNumberMarker', page.at(-1)?.partNumber ?? marker) + el('MaxParts', max) + el('IsTruncated', truncated)
  const algorithm = all.find((p) => p.checksum)?.checksum?.algorithm
  if (algorithm) inner += el('ChecksumAlgorithm', algorithm.toUpperCase())
  for (const p of page) {
    inner += wrap(
      'Part',
      el('PartNumber', p.partNumber) +
        el('LastModified', isoTime(p.lastModified)) +
        el('ETag', p.etag) +
        el('Size', p.size) +
        (p.checksum ? el(`Checksum${p.checksum.algorithm.toUpperCase()}`, p.checksum.value) : ''),
    )
  }
  return xmlReply(doc('ListPartsResult', inner))
}

/** Uploads after the markers: later keys, or the same key with a later upload id (ids sort by initiation). */
function afterMarkers(uploads: MultipartUpload[], keyMarker: string, idMarker: string): MultipartUpload[] {
  if (keyMarker === '') return uploads
  return uploads.filter((u) => compareKeys(u.key, keyMarker) > 0 || (u.key === keyMarker && idMarker !== '' && u.uploadId > idMarker))
}

export async function listMultipartUploads(c: OpContext): Promise<S3Reply> {
  const write = keyWriter(encodingType(c))
  const prefix = param(c, 'prefix') ?? ''
  const delimiter = param(c, 'delimiter') ?? ''
  const keyMarker = param(c, 'key-marker') ?? ''
  const idMarker = param(c, 'upload-id-marker') ?? ''
  const max = intParam(c, 'max-uploads', 1000, 1000)
  let all
  try {
    all = await c.backend.listMultipartUploads(c.bucket, { prefix })
  } catch (err) {
    throw s3Failure(err)
  }
  const uploads: MultipartUpload[] = []
  const prefixes: string[] = []
  let truncated = false
  let last: { key: string; id: string } | undefined
  for (const u of afterMarkers(all, keyMarker, idMarker)) {
    const at = delimiter === '' ? -1 : u.key.indexOf(delimiter, prefix.length)
    const common = at < 0 ? undefined : u.key.slice(0, at + delimiter.length)
    if (common !== undefined && prefixes.at(-1) === common) continue
    if (common !== undefined && compareKeys(common, keyMarker) <= 0) continue
    if (uploads.length + prefixes.length === max) {
      truncated = true
      break
    }
    if (common !== undefined) {
      prefixes.push(common)
      last = { key: common, id: '' }
    } else {
      uploads.push(u)
      last = { key: u.key, id: u.uploadId }
    }
  }
  let inner = el('Bucket', c.bucket) + el('KeyMarker', write(keyMarker)) + el('UploadIdMarker', idMarker)
  if (truncated && last) inner += el('NextKeyMarker', write(last.key)) + el('NextUploadIdMarker', last.id)
  inner += el('MaxUploads', max) + el('IsTruncated', truncated)
  if (prefix !== '') inner += el('Prefix', write(prefix))
  if (delimiter !== '') inner += el('Delimiter', write(delimiter))
  if (param(c, 'encoding-type')) inner += el('EncodingType', 'url')
  for (const u of uploads) {
    inner += wrap(
      'Upload',
      el('Key', write(u.key)) +
        el('UploadId', u.uploadId) +
        owner(c.owner, 'Initiator') +
        owner(c.owner) +
        el('StorageClass', 'STANDARD') +
        el('Initiated', isoTime(u.initiated)),
    )
  }
  for (const p of prefixes) inner += wrap('CommonPrefixes', el('Prefix', write(p)))
  return xmlReply(doc('ListMultipartUploadsResult', inner))
}
