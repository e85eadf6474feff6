// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Deleting objects and versions. Without a version id, a bucket that was
 * never versioned loses the object; one that keeps versions keeps it as a
 * noncurrent version under a new delete marker (`Enabled`), or replaces its
 * `null` version with a `null` marker (`Suspended`). With a version id, that
 * one version goes for good; when it was the latest, the next newest becomes
 * the bucket's file again unless it is a delete marker. A version id that
 * names nothing succeeds, as on S3.
 */
import { rename, rm } from 'node:fs/promises'
import { BackendError, type DeleteOutcome, type DeleteResult } from '../backend.ts'
import type { VersioningStatus } from '../bucket-rules.ts'
import { versioningOf } from './bucket-rules.ts'
import { requireBucket } from './buckets.ts'
import { tempPath, type FsContext } from './context.ts'
import { trackKey } from './dir-index.ts'
import { fsFailure, isErrno } from './errors.ts'
import { withLock } from './lock.ts'
import { forgetListed } from './listed.ts'
import { checkKey } from './objects.ts'
import { describes, readSidecar, sidecarPath } from './sidecar.ts'
import { locate, prune, removeObject } from './tree.ts'
import { currentOf, findStored, idOf, newVersionId, promote, removeStored, retireCurrent, settleVersions } from './versions.ts'

/**
 * Removes the bucket's file for `key` and its sidecar; the caller holds the
 * bucket's commit lock. The sidecar is moved to staging before the data
 * goes, so a crash in between leaves it for recover.ts to put back beside the
 * data that is still there.
 */
async function removeLocked(ctx: FsContext, bucket: string, key: string): Promise<void> {
  const parked = tempPath(ctx, 'json-deleted')
  try {
    await rename(sidecarPath(ctx, bucket, key), parked).catch((err: unknown) => {
      if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err
    })
    forgetListed(ctx, bucket, key)
    await trackKey(ctx.bucketDir(bucket), key, async () => {
      if (await removeObject(ctx, bucket, key)) await prune(ctx, bucket, key)
    })
    await rm(parked, { force: true })
  } catch (err) {
    throw fsFailure(err, 'delete object')
  }
}

/** A delete without a version id in a bucket that keeps versions: a new delete marker on top. */
async function markDeleted(ctx: FsContext, bucket: string, key: string, status: VersioningStatus): Promise<DeleteOutcome> {
  const versionId = status === 'Enabled' ? newVersionId() : 'null'
  await retireCurrent(ctx, bucket, key, status, { versionId, marker: true, lastModified: Date.now() })
  await removeLocked(ctx, bucket, key)
  return { versionId, deleteMarker: true }
}

/** Removes one version for good; the next newest becomes the latest. */
async function deleteVersion(ctx: FsContext, bucket: string, key: string, versionId: string): Promise<DeleteOutcome> {
  const current = await currentOf(ctx, bucket, key)
  if (current && idOf(current.sc) === versionId) {
    await settleVersions(ctx, bucket, key)
    await removeLocked(ctx, bucket, key)
    await promote(ctx, bucket, key)
    return { versionId }
  }
  const found = await findStored(ctx, bucket, key, versionId, current)
  if (!found) return { versionId }
  await removeStored(ctx, bucket, key, [found])
  if (!current) await promote(ctx, bucket, key)
  return found.marker ? { versionId, deleteMarker: true } : { versionId }
}

/** S3 semantics: deleting a key that does not exist succeeds. */
export async function deleteObject(ctx: FsContext, bucket: string, key: string, versionId?: string): Promise<DeleteOutcome> {
  await requireBucket(ctx, bucket)
  checkKey(key)
  return withLock(ctx.lockName(bucket), async () => {
    if (versionId !== undefined) return deleteVersion(ctx, bucket, key, versionId)
    const status = await versioningOf(ctx, bucket)
    if (status) return markDeleted(ctx, bucket, key, status)
    await removeLocked(ctx, bucket, key)
    return {}
  })
}

export type ExpiryCandidate = { size: number; modifiedMs: number; tags: Record<string, string> }

/**
 * Deletes the object if, under the commit lock, `due` still says it may go
 * (lifecycle expiry): a write that replaced it after it was listed keeps the
 * new object. In a bucket that keeps versions the object becomes noncurrent
 * under a delete marker, as S3 expires it. True when it was deleted.
 */
export async function expireObject(ctx: FsContext, bucket: string, key: string, due: (o: ExpiryCandidate) => boolean): Promise<boolean> {
  await requireBucket(ctx, bucket)
  checkKey(key)
  return withLock(ctx.lockName(bucket), async () => {
    const found = await locate(ctx, bucket, key)
    if (!found) return false
    const sc = await readSidecar(ctx, bucket, key)
    const own = describes(sc, found.st)
    const candidate = {
      size: Number(found.st.size),
      modifiedMs: own ? sc.lastModified : Number(found.st.mtimeNs / 1_000_000n),
      tags: own ? sc.tags : {},
    }
    if (!due(candidate)) return false
    const status = await versioningOf(ctx, bucket)
    if (status) await markDeleted(ctx, bucket, key, status)
    else await removeLocked(ctx, bucket, key)
    return true
  })
}

const S3_CODES: Partial<Record<BackendError['kind'], string>> = { invalid: 'InvalidArgument', not_found: 'NoSuchVersion', denied: 'AccessDenied' }

export async function deleteObjects(ctx: FsContext, bucket: string, keys: Array<{ key: string; versionId?: string }>): Promise<DeleteResult> {
  await requireBucket(ctx, bucket)
  if (keys.length > 1000) throw new BackendError('invalid', 'at most 1000 keys per request')
  const result: DeleteResult = { deleted: [], errors: [] }
  for (const { key, versionId } of keys) {
    try {
      const outcome = await deleteObject(ctx, bucket, key, versionId)
      const entry: DeleteResult['deleted'][number] = versionId === undefined ? { key } : { key, versionId }
      if (outcome.deleteMarker) {
        entry.deleteMarker = true
        entry.deleteMarkerVersionId = outcome.versionId!
      }
      result.deleted.push(entry)
    } catch (err) {
      const e = err instanceof BackendError ? err : undefined
      result.errors.push({ key, versionId, code: e?.code ?? S3_CODES[e?.kind ?? 'failed'] ?? 'InternalError', message: e?.message ?? 'failed' })
    }
  }
  return result
}
