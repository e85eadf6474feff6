// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Quota checks and usage updates around every write. The size of an object
 * being replaced is looked up (one HEAD) only when the bucket has a hard cap,
 * so uncapped buckets pay nothing; the scanner corrects the object count of
 * overwrites it could not see.
 */
import type { Logger } from '../lib/log.ts'
import type { StorageAccounting } from '../quotas/gate.ts'
import { headOrNull, type Target } from './target.ts'

/** Size of the object a write replaces: a number, null when known absent, undefined when not looked up. */
export type Prior = number | null | undefined

export async function priorSize(acc: StorageAccounting, t: Target, key: string, logger: Logger): Promise<Prior> {
  if (!(await acc.hasHardCap(t.bid, t.bucket))) return undefined
  const info = await headOrNull(t, key, logger, { bucketKnown: true })
  return info ? info.size : null
}

/** Refuses (507 quota_exceeded) a write of `bytes` that would pass the bucket's hard cap. */
export async function assertWrite(acc: StorageAccounting, t: Target, bytes: number, prior: Prior): Promise<void> {
  await acc.assertCanWrite(t.bid, t.bucket, bytes, typeof prior === 'number' ? { replacing: prior } : undefined)
}

/** Records a finished write of `bytes` that replaced `prior`. */
export async function recordWrite(acc: StorageAccounting, t: Target, bytes: number, prior: Prior): Promise<void> {
  await acc.adjust(t.bid, t.bucket, bytes - (prior ?? 0), typeof prior === 'number' ? 0 : 1)
}

/** Records removed objects. */
export async function recordDelete(acc: StorageAccounting, t: Target, bytes: number, objects: number): Promise<void> {
  if (bytes !== 0 || objects !== 0) await acc.adjust(t.bid, t.bucket, -bytes, -objects)
}
