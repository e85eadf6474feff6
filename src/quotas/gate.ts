// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What the object routes (and the S3 proxy) need from quota and size
 * accounting; src/quotas/service.ts implements it. Every write asks
 * `assertCanWrite` before bytes move and reports what changed via `adjust`.
 */
export type BucketSize = {
  size_tracked: boolean
  size_bytes?: number
  object_count?: number
  /** RFC 3339 time of the last full count. */
  computed_at?: string
  /** The bucket's quota limits, when set, so a listing can say which buckets are over them. */
  quota_soft_bytes?: number
  quota_hard_bytes?: number
}

export type WriteTerms = { hardBytes: number; counted: boolean }

export type StorageAccounting = {
  /**
   * Throws AppError `quota_exceeded` (507) when writing `bytes` more to the
   * bucket would pass its hard cap. `replacing` is the size of an object being
   * overwritten, when known, so an overwrite counts only its growth.
   */
  assertCanWrite(backendId: string, bucket: string, bytes: number, opts?: { replacing?: number }): Promise<void>
  /** Whether the bucket has a hard cap (callers may skip a HEAD when it has none). */
  hasHardCap(backendId: string, bucket: string): Promise<boolean>
  /**
   * What a write to the bucket owes accounting, read once per write: the hard
   * cap (0: none) and whether usage is kept at all (a cap, or size tracking).
   */
  writeTerms(backendId: string, bucket: string): Promise<WriteTerms>
  /** Records a change in usage right away (deletes lower it without waiting for a scan). */
  adjust(backendId: string, bucket: string, bytes: number, objects: number): Promise<void>
  /** Size figures for bucket listings. */
  bucketSize(backendId: string, bucket: string): Promise<BucketSize>
  /** Drops quota, usage, tracking and CORS rows of a deleted bucket. */
  forget(backendId: string, bucket: string): Promise<void>
}
