// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Browser multipart uploads through the dashboard. Each part's body streams
 * straight to the backend (never buffered) with its exact Content-Length.
 * Parts may be up to the backend's `max_part_size_bytes`, and never more
 * than MAX_PART_BYTES (5 GiB, the S3 limit). On a bucket with a hard cap,
 * each part is checked together with the parts already uploaded, and the
 * complete call checks the whole object before it appears.
 */
import type { AuditOrigin } from '../audit/model.ts'
import { fail } from '../http/errors.ts'
import { storage } from '../storage/errors.ts'
import { validateKey, validateListPrefix } from '../storage/validate.ts'
import { audited } from './audit.ts'
import { objectDTO, type ObjectDTO } from './model.ts'
import { assertWrite, priorSize, recordWrite, type Prior } from './quota.ts'
import { validateMetadata } from './rules.ts'
import { declaredLength, exactLength } from './streams.ts'
import { headOrNull, type ObjectDeps, type Target } from './target.ts'

export const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024
export const MAX_PARTS = 10_000
const NO_SUCH_UPLOAD = 'No such upload.'

function uploadIdOf(id: string): string {
  if (id.length === 0 || id.length > 1024 || /[\u0000-\u001f\u007f]/.test(id))
    throw fail('bad_request', 'The upload id is not valid.', [{ path: '/upload_id' }])
  return id
}

export async function listUploads(
  d: ObjectDeps,
  t: Target,
  prefix?: string,
): Promise<{ uploads: Array<{ key: string; upload_id: string; initiated?: string }> }> {
  const uploads = await storage(t.backend.listMultipartUploads(t.bucket, { prefix: validateListPrefix(prefix ?? '') }), d.logger)
  return { uploads: uploads.map((u) => ({ key: u.key, upload_id: u.uploadId, ...(u.initiated ? { initiated: u.initiated.toISOString() } : {}) })) }
}

export type CreateUpload = { content_type?: string; metadata?: Record<string, string> }

export function createUpload(
  d: ObjectDeps,
  t: Target,
  origin: AuditOrigin,
  key: string,
  body: CreateUpload,
  ifNoneMatch: boolean,
): Promise<{ bucket: string; key: string; upload_id: string }> {
  validateKey(key)
  const metadata = body.metadata ? validateMetadata(body.metadata) : undefined
  const contentType = body.content_type?.trim() || undefined
  if (contentType && !/^[\x21-\x7e]+\/[\x21-\x7e]+(\s*;[\x20-\x7e]*)?$/.test(contentType))
    throw fail('bad_request', 'The content type is not valid.', [{ path: '/content_type' }])
  return audited(
    d.audit,
    origin,
    { action: 'multipart.create', backend: t.bid, bucket: t.bucket, key, detail: contentType ? { content_type: contentType } : {} },
    async (detail) => {
      if (ifNoneMatch && (await headOrNull(t, key, d.logger, { bucketKnown: true }))) throw fail('object_exists')
      const uploadId = await storage(
        t.backend.createMultipartUpload(t.bucket, key, { ...(contentType ? { contentType } : {}), ...(metadata ? { metadata } : {}) }),
        d.logger,
      )
      detail.upload_id = uploadId
      return { bucket: t.bucket, key, upload_id: uploadId }
    },
  )
}

export type PartRequest = { key: string; uploadId: string; partNumber: number; headers: Headers; body: ReadableStream<Uint8Array> | null; signal: AbortSignal }

/** The sum of the parts already uploaded, other than `except`. */
async function uploadedBytes(d: ObjectDeps, t: Target, key: string, uploadId: string, except?: number): Promise<number> {
  const parts = await storage(t.backend.listParts(t.bucket, key, uploadId), d.logger, { notFound: NO_SUCH_UPLOAD })
  return parts.reduce((sum, p) => (p.partNumber === except ? sum : sum + p.size), 0)
}

export async function uploadPart(d: ObjectDeps, t: Target, r: PartRequest): Promise<{ part_number: number; etag: string; size: number }> {
  validateKey(r.key)
  uploadIdOf(r.uploadId)
  const caps = t.backend.capabilities
  const maxParts = Math.min(MAX_PARTS, caps.max_multipart_parts || MAX_PARTS)
  if (!Number.isInteger(r.partNumber) || r.partNumber < 1 || r.partNumber > maxParts)
    throw fail('bad_request', `Part numbers are 1..${maxParts}.`, [{ path: '/part' }])
  const size = declaredLength(r.headers)
  if (size === undefined) throw fail('length_required')
  const maxPart = Math.min(MAX_PART_BYTES, caps.max_part_size_bytes || MAX_PART_BYTES)
  if (size > maxPart) throw fail('too_large', `A part may be at most ${maxPart} bytes on this backend.`, { limit: maxPart })
  if (await d.accounting.hasHardCap(t.bid, t.bucket)) {
    const [before, prior] = await Promise.all([uploadedBytes(d, t, r.key, r.uploadId, r.partNumber), priorSize(d.accounting, t, r.key, d.logger)])
    await assertWrite(d.accounting, t, before + size, prior)
  } else {
    await assertWrite(d.accounting, t, size, undefined)
  }
  const body = exactLength(r.body, size)
  try {
    const part = await storage(t.backend.uploadPart(t.bucket, r.key, r.uploadId, r.partNumber, body.stream, { size, signal: r.signal }), d.logger, {
      notFound: NO_SUCH_UPLOAD,
      clientFault: () => body.problem() !== undefined || r.signal.aborted,
    })
    return { part_number: part.partNumber, etag: part.etag, size: part.size }
  } catch (err) {
    const problem = body.problem()
    if (problem) throw problem
    if (r.signal.aborted) throw fail('bad_request', 'The upload was interrupted.')
    throw err
  }
}

export async function listParts(
  d: ObjectDeps,
  t: Target,
  key: string,
  uploadId: string,
): Promise<{ parts: Array<{ part_number: number; etag: string; size: number }> }> {
  validateKey(key)
  const parts = await storage(t.backend.listParts(t.bucket, key, uploadIdOf(uploadId)), d.logger, { notFound: NO_SUCH_UPLOAD })
  return { parts: parts.map((p) => ({ part_number: p.partNumber, etag: p.etag, size: p.size })) }
}

export type CompletePart = { PartNumber: number; ETag: string }

export function completeUpload(
  d: ObjectDeps,
  t: Target,
  origin: AuditOrigin,
  key: string,
  uploadId: string,
  parts: CompletePart[],
  ifNoneMatch: boolean,
): Promise<ObjectDTO> {
  validateKey(key)
  uploadIdOf(uploadId)
  const sorted = [...parts].sort((a, b) => a.PartNumber - b.PartNumber)
  if (sorted.some((p, i) => i > 0 && p.PartNumber === sorted[i - 1]!.PartNumber))
    throw fail('bad_request', 'A part number appears twice.', [{ path: '/parts' }])
  return audited(
    d.audit,
    origin,
    { action: 'multipart.complete', backend: t.bid, bucket: t.bucket, key, detail: { upload_id: uploadId, parts: sorted.length } },
    async (detail) => {
      let prior: Prior
      if (ifNoneMatch) {
        if (await headOrNull(t, key, d.logger, { bucketKnown: true })) throw fail('object_exists')
        prior = null
      } else {
        prior = await priorSize(d.accounting, t, key, d.logger)
      }
      // Listing the parts first gives a clean 404 for an unknown upload (RGW answers a 500 to
      // completing one) and the object's size for the quota check.
      const uploaded = new Map(
        (await storage(t.backend.listParts(t.bucket, key, uploadId), d.logger, { notFound: NO_SUCH_UPLOAD })).map((p) => [p.partNumber, p.size]),
      )
      const missing = sorted.find((p) => !uploaded.has(p.PartNumber))
      if (missing) throw fail('bad_request', `Part ${missing.PartNumber} was not uploaded.`, [{ path: '/parts' }])
      const size = sorted.reduce((sum, p) => sum + uploaded.get(p.PartNumber)!, 0)
      await assertWrite(d.accounting, t, size, prior)
      const put = await storage(
        t.backend.completeMultipartUpload(
          t.bucket,
          key,
          uploadId,
          sorted.map((p) => ({ partNumber: p.PartNumber, etag: p.ETag })),
        ),
        d.logger,
        { notFound: NO_SUCH_UPLOAD, invalid: 'bad_request' },
      )
      await recordWrite(d.accounting, t, size, prior)
      detail.size = size
      // The answer names the content type and metadata given at creation, which the completion
      // does not echo: the object is read back, unless the driver already did.
      return objectDTO(put.object ?? (await storage(t.backend.headObject(t.bucket, key), d.logger)))
    },
  )
}

export function abortUpload(d: ObjectDeps, t: Target, origin: AuditOrigin, key: string, uploadId: string): Promise<void> {
  validateKey(key)
  uploadIdOf(uploadId)
  return audited(d.audit, origin, { action: 'multipart.abort', backend: t.bid, bucket: t.bucket, key, detail: { upload_id: uploadId } }, () =>
    storage(t.backend.abortMultipartUpload(t.bucket, key, uploadId), d.logger, { notFound: NO_SUCH_UPLOAD }),
  )
}
