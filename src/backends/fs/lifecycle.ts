// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Applies the buckets' lifecycle rules on a directory, as S3 does in its
 * daily pass: an object whose rule's expiration is due is deleted (under
 * versioning, it gets a delete marker), a noncurrent version whose
 * NoncurrentVersionExpiration is due goes (keeping the
 * NewerNoncurrentVersions newest), a delete marker left alone with no
 * versions under it goes with ExpiredObjectDeleteMarker, and an upload older
 * than a rule's AbortIncompleteMultipartUpload is aborted. Disabled rules
 * apply to nothing.
 *
 * The walk lists what the rules' prefixes cover; each object it picks is
 * decided again under the bucket's commit lock with its tags
 * (delete.ts, expireObject), so an object written after the walk saw the old
 * one is kept.
 */
import { rulePrefix, ruleMatches, expiresAt, expiryOf, dueAfterDays, type BucketLifecycleRule } from '../bucket-rules.ts'
import { bucketExists } from './buckets.ts'
import { bucketsWithRules, lifecycleOf } from './bucket-rules.ts'
import type { FsContext } from './context.ts'
import type { ListOptions, ListResult } from '../backend.ts'
import { listPage } from './list.ts'
import { listedView } from './listed.ts'
import { expireUploads } from './uploads.ts'
import { expireObject } from './delete.ts'
import { expireStored, indexPage } from './versions.ts'

export type LifecycleOutcome = { bucket: string; expired: number; aborted: number }

function commonPrefix(prefixes: string[]): string {
  let common = prefixes[0] ?? ''
  for (const p of prefixes) while (!p.startsWith(common)) common = common.slice(0, -1)
  return common
}

function isDue(rules: BucketLifecycleRule[], now: number, key: string, size: number, modifiedMs: number, tags: (() => Record<string, string>) | null): boolean {
  const due = expiryOf(rules, key, size, modifiedMs, tags)
  return due !== null && now >= due.at
}

/** Every page of a walk of `prefix` by `list`, one after the other. */
async function* pages(list: (opts: ListOptions) => Promise<ListResult>, prefix: string): AsyncGenerator<ListResult> {
  let token: string | undefined
  do {
    const page = await list({ prefix, maxKeys: 1000, ...(token ? { token } : {}) })
    yield page
    token = page.isTruncated ? page.nextToken : undefined
  } while (token)
}

async function expireObjects(ctx: FsContext, bucket: string, rules: BucketLifecycleRule[], now: number, outcome: LifecycleOutcome): Promise<void> {
  const expiring = rules.filter((r) => expiresAt(r, 0) !== null)
  if (expiring.length === 0) return
  const prefix = commonPrefix(expiring.map(rulePrefix))
  for await (const page of pages((o) => listPage(ctx.bucketDir(bucket), o, listedView(ctx, bucket)), prefix))
    for (const o of page.objects) {
      if (!o.lastModified || !isDue(expiring, now, o.key, o.size, o.lastModified.getTime(), null)) continue
      const gone = await expireObject(ctx, bucket, o.key, (c) => isDue(expiring, now, o.key, c.size, c.modifiedMs, () => c.tags))
      if (gone) outcome.expired++
    }
}

/** Noncurrent versions and lone delete markers, walked through the keys that have entries. */
async function expireVersions(ctx: FsContext, bucket: string, rules: BucketLifecycleRule[], now: number, outcome: LifecycleOutcome): Promise<void> {
  const noncurrent = rules.filter((r) => r.noncurrentDays !== undefined)
  const markers = rules.filter((r) => r.expiration !== undefined && 'expiredObjectDeleteMarker' in r.expiration && r.expiration.expiredObjectDeleteMarker)
  if (noncurrent.length + markers.length === 0) return
  const prefix = commonPrefix([...noncurrent, ...markers].map(rulePrefix))
  for await (const page of pages((o) => indexPage(ctx, bucket, o), prefix))
    for (const { key } of page.objects) {
      outcome.expired += await expireStored(
        ctx,
        bucket,
        key,
        ({ version, sinceMs, newer }) =>
          noncurrent.some(
            (r) =>
              newer >= (r.newerNoncurrentVersions ?? 0) &&
              now >= dueAfterDays(sinceMs, r.noncurrentDays!) &&
              ruleMatches(r, key, version.sc.size, () => version.sc.tags),
          ),
        () => markers.some((r) => key.startsWith(rulePrefix(r))),
      )
    }
}

function abortUploads(ctx: FsContext, bucket: string, rules: BucketLifecycleRule[], now: number): Promise<number> {
  const aborting = rules.filter((r) => r.abortIncompleteDays !== undefined)
  if (aborting.length === 0) return Promise.resolve(0)
  return expireUploads(
    ctx,
    (u) => u.key !== undefined && aborting.some((r) => u.key!.startsWith(rulePrefix(r)) && now >= dueAfterDays(u.initiated, r.abortIncompleteDays!)),
    [bucket],
  )
}

async function applyToBucket(ctx: FsContext, bucket: string, now: number, outcome: LifecycleOutcome): Promise<void> {
  if (!(await bucketExists(ctx, bucket))) return
  const rules = (await lifecycleOf(ctx, bucket))?.filter((r) => r.enabled) ?? []
  if (rules.length === 0) return
  await expireObjects(ctx, bucket, rules, now, outcome)
  await expireVersions(ctx, bucket, rules, now, outcome)
  outcome.aborted = await abortUploads(ctx, bucket, rules, now)
}

/**
 * One pass over every bucket with rules, as of `now` (ms), telling `done` what it did in each
 * bucket where it did anything, also when the bucket failed partway. A bucket that fails does not
 * stop the others; the first failure is thrown after the pass.
 */
export async function applyLifecycle(ctx: FsContext, now: number, done: (o: LifecycleOutcome) => void): Promise<void> {
  let failure: { err: unknown } | undefined
  for (const bucket of await bucketsWithRules(ctx)) {
    const outcome: LifecycleOutcome = { bucket, expired: 0, aborted: 0 }
    try {
      await applyToBucket(ctx, bucket, now, outcome)
    } catch (err) {
      failure ??= { err }
    }
    if (outcome.expired + outcome.aborted > 0) done(outcome)
  }
  if (failure) throw failure.err
}
