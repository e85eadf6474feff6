// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What every object operation starts from: a usable backend and a valid
 * bucket name (checked before any backend call), plus the shared
 * dependencies of the object services.
 */
import type { AuditRecorder } from '../audit/recorder.ts'
import { BackendError, type Backend, type ObjectInfo } from '../backends/backend.ts'
import type { Registry } from '../backends/registry.ts'
import { fail } from '../http/errors.ts'
import type { Logger } from '../lib/log.ts'
import type { StorageAccounting } from '../quotas/gate.ts'
import { storage } from '../storage/errors.ts'
import { validateBucketName } from '../storage/validate.ts'

export type ObjectDeps = {
  registry: Registry
  audit: AuditRecorder
  accounting: StorageAccounting
  logger: Logger
}

export type Target = { bid: string; bucket: string; backend: Backend }

export function target(registry: Registry, bid: string, bucket: string): Target {
  const backend = registry.get(bid)
  return { bid, bucket: validateBucketName(bucket), backend }
}

/** A copy or move destination: another bucket (code `invalid_bucket` when its name is bad) and maybe another backend. */
export function destination(registry: Registry, src: Target, dst: { backend?: string; bucket?: string }): Target {
  const bid = dst.backend || src.bid
  const backend = bid === src.bid ? src.backend : registry.get(bid)
  const bucket = dst.bucket || src.bucket
  try {
    validateBucketName(bucket)
  } catch {
    throw fail('invalid_bucket', undefined, [{ path: '/dst_bucket' }])
  }
  return { bid, bucket, backend }
}

/**
 * The object's info, or null when there is none (any other failure is thrown). `bucketKnown`:
 * a missing bucket counts as a missing object, for callers whose next call fails on it anyway
 * (the s3 driver then makes one call, not two).
 */
export function headOrNull(t: Target, key: string, logger: Logger, o: { versionId?: string; bucketKnown?: boolean } = {}): Promise<ObjectInfo | null> {
  return storage(async () => {
    try {
      return await t.backend.headObject(t.bucket, key, { ...(o.versionId ? { versionId: o.versionId } : {}), ...(o.bucketKnown ? { bucketKnown: true } : {}) })
    } catch (err) {
      if (err instanceof BackendError && err.kind === 'not_found') return null
      throw err
    }
  }, logger)
}
