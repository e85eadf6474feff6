// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Single-object copy. Within one backend it is the backend's server-side
 * copy; across backends the bytes stream GET → PUT through us with the
 * source's exact size (never buffered). The destination's quota is checked
 * on both paths (the original skipped same-backend copies).
 */
import type { AuditOrigin } from '../audit/model.ts'
import type { ObjectInfo } from '../backends/backend.ts'
import { fail } from '../http/errors.ts'
import { storage } from '../storage/errors.ts'
import { validateKey } from '../storage/validate.ts'
import { audited } from './audit.ts'
import { objectDTO, type ObjectDTO } from './model.ts'
import { assertWrite, priorSize, recordWrite } from './quota.ts'
import { validateMetadata } from './rules.ts'
import { destination, headOrNull, type ObjectDeps, type Target } from './target.ts'

export type CopyOne = {
  versionId?: string
  /** Replaces the user metadata; absent keeps the source's. */
  metadata?: Record<string, string>
  signal: AbortSignal
  /** The source's info when the caller already has it (prefix copies list it). */
  info?: ObjectInfo
}

/** Copies one object, quota-checked; returns what was written (as complete as the source info it started from). */
export async function copyOne(d: ObjectDeps, src: Target, srcKey: string, dst: Target, dstKey: string, o: CopyOne): Promise<ObjectInfo> {
  const version = o.versionId ? { versionId: o.versionId } : {}
  const info =
    o.info ?? (await storage(src.backend.headObject(src.bucket, srcKey, { ...version, signal: o.signal }), d.logger, { notFound: 'No such source object.' }))
  const prior = await priorSize(d.accounting, dst, dstKey, d.logger)
  await assertWrite(d.accounting, dst, info.size, prior)
  if (src.bid === dst.bid) {
    const copied = await storage(
      src.backend.copyObject(
        { bucket: src.bucket, key: srcKey },
        { bucket: dst.bucket, key: dstKey },
        { ...(o.versionId ? { srcVersionId: o.versionId } : {}), ...(o.metadata ? { metadata: o.metadata } : {}), source: info, signal: o.signal },
      ),
      d.logger,
      { notFound: 'No such source object.' },
    )
    await recordWrite(d.accounting, dst, info.size, prior)
    return copied
  }
  const got = await storage(src.backend.getObject(src.bucket, srcKey, { ...version, signal: o.signal }), d.logger, { notFound: 'No such source object.' })
  if (got.status === 304) throw fail('backend_error')
  const metadata = o.metadata ?? got.info.metadata
  let put
  try {
    put = await storage(
      dst.backend.putObject(dst.bucket, dstKey, got.body, {
        size: got.contentLength,
        ...(got.info.contentType ? { contentType: got.info.contentType } : {}),
        ...(metadata ? { metadata } : {}),
        signal: o.signal,
      }),
      d.logger,
    )
  } catch (err) {
    void got.body.cancel().catch(() => {})
    throw err
  }
  await recordWrite(d.accounting, dst, got.contentLength, prior)
  return {
    key: dstKey,
    size: got.contentLength,
    ...(got.info.contentType ? { contentType: got.info.contentType } : {}),
    ...(metadata ? { metadata } : {}),
    ...put,
  }
}

export type CopyRequest = {
  src_key: string
  dst_key: string
  dst_bucket?: string
  dst_backend?: string
  version_id?: string
  metadata?: Record<string, string>
}

export type CopyResult = { backend: string; bucket: string; object: ObjectDTO }

/** POST …/object/copy. */
export function copyObject(d: ObjectDeps, src: Target, origin: AuditOrigin, body: CopyRequest, signal: AbortSignal): Promise<CopyResult> {
  validateKey(body.src_key, 'src_key')
  validateKey(body.dst_key, 'dst_key')
  const metadata = body.metadata ? validateMetadata(body.metadata) : undefined
  const dst = destination(d.registry, src, { backend: body.dst_backend, bucket: body.dst_bucket })
  if (dst.bid === src.bid && dst.bucket === src.bucket && body.dst_key === body.src_key && !metadata && !body.version_id) {
    throw fail('bad_request', 'Copying an object onto itself changes nothing.')
  }
  const cross = dst.bid !== src.bid
  const detail = {
    dst_bucket: dst.bucket,
    dst_key: body.dst_key,
    ...(cross ? { dst_backend: dst.bid } : {}),
    ...(body.version_id ? { version_id: body.version_id } : {}),
  }
  return audited(
    d.audit,
    origin,
    { action: cross ? 'object.transfer' : 'object.copy', backend: src.bid, bucket: src.bucket, key: body.src_key, detail },
    async (detail) => {
      const info = await copyOne(d, src, body.src_key, dst, body.dst_key, {
        ...(body.version_id ? { versionId: body.version_id } : {}),
        ...(metadata ? { metadata } : {}),
        signal,
      })
      detail.size = info.size
      return {
        backend: dst.bid,
        bucket: dst.bucket,
        object: objectDTO(info.lastModified ? info : ((await headOrNull(dst, body.dst_key, d.logger, { bucketKnown: true }).catch(() => null)) ?? info)),
      }
    },
  )
}
