// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A bucket's versioning state, lifecycle rules and tags on a directory: one record per bucket
 * (`.stowage/buckets/<bucket>.json`), written like a sidecar (staged, synced,
 * renamed) under the bucket's commit lock. The record names the directory it
 * belongs to (inode and birth time), so a bucket removed by hand and made
 * again does not inherit the rules of the one before; creating or deleting a
 * bucket through Stowage removes the record outright.
 */
import { lstatSync } from 'node:fs'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { BackendError } from '../backend.ts'
import type { BucketLifecycleRule, BucketRules, VersioningStatus } from '../bucket-rules.ts'
import { requireBucket, isValidBucketName } from './buckets.ts'
import type { FsContext } from './context.ts'
import { fsFailure, isErrno } from './errors.ts'
import { readJson, writeJson } from './json.ts'
import { withLock } from './lock.ts'

type RulesRecord = { dir: string; versioning?: VersioningStatus; lifecycle?: BucketLifecycleRule[]; tags?: Array<[string, string]> }

/** A bucket directory gone between the check and the read is a missing bucket. */
function missingBucket(err: unknown): BackendError | null {
  return isErrno(err, 'ENOENT', 'ENOTDIR') ? new BackendError('bucket_not_found', 'no such bucket') : null
}

function dirIdentity(ctx: FsContext, bucket: string): string {
  const st = lstatSync(ctx.bucketDir(bucket), { bigint: true })
  return `${st.ino}:${st.birthtimeNs}`
}

/** The bucket's record, or null when there is none, it is another directory's, or it is not one of ours. */
async function readRecord(ctx: FsContext, bucket: string, dir = dirIdentity(ctx, bucket)): Promise<RulesRecord | null> {
  const record = await readJson<RulesRecord>(ctx.rulesPath(bucket))
  if (!record || typeof record !== 'object' || record.dir !== dir) return null
  const listOrNone = (v: unknown): boolean => v === undefined || Array.isArray(v)
  const status = record.versioning === undefined || record.versioning === 'Enabled' || record.versioning === 'Suspended'
  return status && listOrNone(record.lifecycle) && listOrNone(record.tags) ? record : null
}

async function update(ctx: FsContext, bucket: string, change: (r: RulesRecord) => void): Promise<void> {
  await withLock(ctx.lockName(bucket), async () => {
    await requireBucket(ctx, bucket)
    const record = (await readRecord(ctx, bucket)) ?? { dir: dirIdentity(ctx, bucket) }
    change(record)
    if (record.versioning === undefined && record.lifecycle === undefined && record.tags === undefined) await rm(ctx.rulesPath(bucket), { force: true })
    else await writeJson(ctx, ctx.rulesPath(bucket), record)
  })
}

/** The buckets that have a record, whether or not it is still theirs, in name order. */
export async function bucketsWithRules(ctx: FsContext): Promise<string[]> {
  try {
    return (await readdir(join(ctx.sys, 'buckets')))
      .filter((name) => name.endsWith('.json'))
      .map((name) => name.slice(0, -'.json'.length))
      .filter(isValidBucketName)
      .sort()
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return []
    throw err
  }
}

/** The bucket's versioning state; read under its commit lock, it holds until the lock is let go. */
export function versioningOf(ctx: FsContext, bucket: string): Promise<VersioningStatus | null> {
  return readRecord(ctx, bucket).then((r) => r?.versioning ?? null)
}

export function lifecycleOf(ctx: FsContext, bucket: string): Promise<BucketLifecycleRule[] | null> {
  return readRecord(ctx, bucket).then((r) => r?.lifecycle ?? null)
}

export function fsBucketRules(open: () => Promise<FsContext>): BucketRules {
  /**
   * The record last read per bucket, with the directory it was read for. The S3 engine asks for
   * the lifecycle rules on every object read and write (`x-amz-expiration`), and records change
   * only through `change` below (one process per root); a read that a change overlapped is not kept.
   */
  const cache = new Map<string, { dir: string; record: RulesRecord | null }>()
  let changes = 0
  const read = async <T>(bucket: string, pick: (r: RulesRecord) => T | undefined): Promise<T | null> => {
    const ctx = await open()
    try {
      await requireBucket(ctx, bucket)
      const dir = dirIdentity(ctx, bucket)
      let known = cache.get(bucket)
      if (known?.dir !== dir) {
        const seen = changes
        known = { dir, record: await readRecord(ctx, bucket, dir) }
        if (seen === changes) cache.set(bucket, known)
      }
      return (known.record && pick(known.record)) ?? null
    } catch (err) {
      throw missingBucket(err) ?? fsFailure(err, 'read bucket rules')
    }
  }
  const change = async (bucket: string, fn: (r: RulesRecord) => void): Promise<void> => {
    const ctx = await open()
    changes++
    cache.delete(bucket)
    try {
      await update(ctx, bucket, fn)
    } catch (err) {
      throw missingBucket(err) ?? fsFailure(err, 'write bucket rules')
    } finally {
      changes++
      cache.delete(bucket)
    }
  }
  return {
    getVersioning: (bucket) => read(bucket, (r) => r.versioning),
    setVersioning: (bucket, status) => change(bucket, (r) => void (r.versioning = status)),
    getLifecycle: (bucket) => read(bucket, (r) => r.lifecycle),
    setLifecycle: (bucket, rules) => change(bucket, (r) => void (r.lifecycle = rules)),
    deleteLifecycle: (bucket) => change(bucket, (r) => void delete r.lifecycle),
    getTags: (bucket) => read(bucket, (r) => r.tags),
    setTags: (bucket, tags) => change(bucket, (r) => void (r.tags = tags)),
    deleteTags: (bucket) => change(bucket, (r) => void delete r.tags),
  }
}
