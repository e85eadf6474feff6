// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Quotas and usage for proxied writes. Before bytes move, the bucket's hard
 * cap is checked for PutObject, UploadPart, CopyObject and UploadPartCopy
 * (source size from the copy range or a HEAD), CompleteMultipartUpload (the
 * sum of the uploaded parts) and PostObject; a refusal is 507 QuotaExceeded.
 * After a successful write or delete, usage is adjusted at once (when the
 * bucket is capped or size-tracked), so the dashboard and the next quota
 * check see it without waiting for a scan. Only capped or tracked buckets pay
 * for the extra HEAD/ListParts calls this needs.
 */
import { BackendError, type Backend } from '../backends/backend.ts'
import { AppError } from '../http/errors.ts'
import type { QuotaService } from '../quotas/service.ts'
import type { Operation } from './classify.ts'
import { S3Error, serviceUnavailable } from './errors.ts'

/** What a write must report once it succeeded: bytes and objects added (negative for deletes). */
export type Settle = { bytes: number; objects: number }

export type StorageGate = Pick<QuotaService, 'assertCanWrite' | 'hasHardCap' | 'adjust' | 'bucketSize'>

export function quotaError(err: unknown): S3Error {
  if (err instanceof S3Error) return err
  if (err instanceof AppError) {
    if (err.code === 'quota_exceeded') return new S3Error(507, 'QuotaExceeded', err.message, 'quota-exceeded')
    if (err.code === 'not_found') return new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist.', 'upstream-refused')
    return serviceUnavailable(err.message)
  }
  if (err instanceof BackendError) {
    if (err.kind === 'not_found' || err.kind === 'bucket_not_found') return new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', 'upstream-refused')
    if (err.kind === 'unavailable') return serviceUnavailable()
  }
  return new S3Error(502, 'InternalError', 'The storage backend failed to answer the request.', 'upstream-error')
}

export function createQuotaGate(gate: StorageGate) {
  /** Whether usage is worth keeping exact for this bucket. */
  const cares = (bid: string, bucket: string): boolean => gate.hasHardCap(bid, bucket) || gate.bucketSize(bid, bucket).size_tracked

  async function sizeOf(backend: Backend, bucket: string, key: string, versionId?: string): Promise<number | null> {
    try {
      return (await backend.headObject(bucket, key, versionId ? { versionId } : undefined)).size
    } catch (err) {
      if (err instanceof BackendError && err.kind === 'not_found') return null
      throw err
    }
  }

  return {
    cares,

    /** PutObject / PostObject: `bytes` replacing whatever is at `key`. */
    async put(backend: Backend, bid: string, bucket: string, key: string, bytes: number): Promise<Settle | undefined> {
      if (!cares(bid, bucket)) return undefined
      const prior = gate.hasHardCap(bid, bucket) ? await sizeOf(backend, bucket, key) : undefined
      await gate.assertCanWrite(bid, bucket, bytes, typeof prior === 'number' ? { replacing: prior } : undefined)
      return { bytes: bytes - (prior ?? 0), objects: typeof prior === 'number' ? 0 : 1 }
    },

    /** UploadPart: only the cap matters; usage grows when the upload completes. */
    async part(bid: string, bucket: string, bytes: number): Promise<void> {
      if (gate.hasHardCap(bid, bucket)) await gate.assertCanWrite(bid, bucket, bytes)
    },

    /** CopyObject / UploadPartCopy: the source's size (or the copied range) is what is added. */
    async copy(backend: Backend, bid: string, bucket: string, src: { bucket: string; key: string; versionId?: string }, range: number | undefined, whole: boolean): Promise<Settle | undefined> {
      if (!cares(bid, bucket)) return undefined
      const size = range ?? (await sizeOf(backend, src.bucket, src.key, src.versionId))
      if (size === null) throw new S3Error(404, 'NoSuchKey', 'The specified copy source does not exist.', 'upstream-refused')
      if (gate.hasHardCap(bid, bucket)) await gate.assertCanWrite(bid, bucket, size)
      return whole ? { bytes: size, objects: 1 } : undefined
    },

    /** CompleteMultipartUpload: the sum of the parts uploaded so far. */
    async complete(backend: Backend, bid: string, bucket: string, key: string, uploadId: string): Promise<Settle | undefined> {
      if (!cares(bid, bucket)) return undefined
      let sum = 0
      try {
        for (const p of await backend.listParts(bucket, key, uploadId)) sum += p.size
      } catch (err) {
        if (err instanceof BackendError && err.kind === 'not_found') throw new S3Error(404, 'NoSuchUpload', 'The specified multipart upload does not exist.', 'upstream-refused')
        throw err
      }
      if (gate.hasHardCap(bid, bucket)) await gate.assertCanWrite(bid, bucket, sum)
      return { bytes: sum, objects: 1 }
    },

    /** DeleteObject: the size that will be freed, when known. */
    async remove(backend: Backend, bid: string, bucket: string, key: string, versionId: string | undefined): Promise<Settle | undefined> {
      if (!cares(bid, bucket)) return undefined
      const size = await sizeOf(backend, bucket, key, versionId)
      return size === null ? undefined : { bytes: -size, objects: -1 }
    },

    /** DeleteObjects: sizes of the listed keys, looked up 16 at a time. */
    async removeMany(backend: Backend, bid: string, bucket: string, keys: Array<{ key: string; versionId?: string }>): Promise<Map<string, number> | undefined> {
      if (!cares(bid, bucket)) return undefined
      const sizes = new Map<string, number>()
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < keys.length) {
          const k = keys[next++]!
          const size = await sizeOf(backend, bucket, k.key, k.versionId).catch(() => null)
          if (size !== null) sizes.set(`${k.key}\u0000${k.versionId ?? ''}`, size)
        }
      }
      await Promise.all(Array.from({ length: Math.min(16, keys.length) }, worker))
      return sizes
    },

    /** The check (and the later adjustment) for one operation; quota and lookup failures come out as S3 errors. */
    async before(
      op: Operation,
      o: { backend: Backend; bid: string; bucket: string; key?: string; bytes: number; src?: { bucket: string; key: string; versionId?: string }; copyRange?: number; uploadId?: string; versionId?: string },
    ): Promise<Settle | undefined> {
      try {
        switch (op) {
          case 'PutObject':
            return await this.put(o.backend, o.bid, o.bucket, o.key!, o.bytes)
          case 'UploadPart':
            await this.part(o.bid, o.bucket, o.bytes)
            return undefined
          case 'CopyObject':
          case 'UploadPartCopy':
            return await this.copy(o.backend, o.bid, o.bucket, o.src!, o.copyRange, op === 'CopyObject')
          case 'CompleteMultipartUpload':
            return await this.complete(o.backend, o.bid, o.bucket, o.key!, o.uploadId!)
          case 'DeleteObject':
            return await this.remove(o.backend, o.bid, o.bucket, o.key!, o.versionId)
          default:
            return undefined
        }
      } catch (err) {
        throw quotaError(err)
      }
    },

    settle(bid: string, bucket: string, s: Settle | undefined): void {
      if (s && (s.bytes !== 0 || s.objects !== 0)) gate.adjust(bid, bucket, s.bytes, s.objects)
    },
  }
}

export type QuotaGate = ReturnType<typeof createQuotaGate>
