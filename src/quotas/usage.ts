// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bucket usage: full counts (coalesced per bucket, so a scan, a recompute and
 * a quota check asking at once share one walk) and deltas from writes and
 * deletes applied at once.
 *
 * A write racing a count may be counted twice but is never missed: growth
 * reported while a count runs is added to its result, shrinkage is not. Usage
 * errs high until the next count, which is the safe side for quotas. With
 * several replicas the growth is read from the row itself (other replicas'
 * writes land there), and the count's result is written in one statement
 * that adds whatever the row grew by meanwhile.
 *
 * Crossing a soft cap (not over → over) records `quota.soft_exceeded` once;
 * dropping back under and crossing again records it again.
 */
import type { AuditRecorder } from '../audit/recorder.ts'
import type { Registry } from '../backends/registry.ts'
import { sumListing } from '../sizes/walk.ts'
import type { QuotaStore, UsageRow } from './store.ts'

type Counting = { promise: Promise<UsageRow>; grew: { bytes: number; objects: number } }

export type UsageTracker = ReturnType<typeof createUsageTracker>

export const bucketKey = (backendId: string, bucket: string): string => `${backendId}\u0000${bucket}`

export function createUsageTracker(d: { store: QuotaStore; registry: Registry; audit: AuditRecorder; now: () => number }) {
  const stop = new AbortController()
  const counting = new Map<string, Counting>()

  async function noteSoft(backendId: string, bucket: string, before: number | undefined, after: number): Promise<void> {
    const q = await d.store.quota(backendId, bucket)
    const soft = q?.soft_bytes
    if (!soft) return
    const wasOver = before !== undefined && before > soft
    if (wasOver || after <= soft) return
    d.audit.record({
      action: 'quota.soft_exceeded',
      backend: backendId,
      bucket,
      status: 'ok',
      detail: { used: after, soft_bytes: soft, hard_bytes: q.hard_bytes ?? 0 },
    })
  }

  return {
    /** Counts the whole bucket now (joining a count already running). Rejects with the backend's error. */
    count(backendId: string, bucket: string): Promise<UsageRow> {
      const key = bucketKey(backendId, bucket)
      const running = counting.get(key)
      if (running) return running.promise
      const grew = { bytes: 0, objects: 0 }
      const promise = (async (): Promise<UsageRow> => {
        const start = await d.store.usage(backendId, bucket)
        const walked = await sumListing(d.registry.get(backendId), bucket, '', { signal: stop.signal })
        const row = start
          ? await d.store.setCounted({ backend_id: backendId, bucket, bytes: walked.bytes, objects: walked.objects, computed_at: d.now() }, start)
          : await d.store.setUsage({
              backend_id: backendId,
              bucket,
              bytes: walked.bytes + grew.bytes,
              objects: walked.objects + grew.objects,
              computed_at: d.now(),
            })
        await noteSoft(backendId, bucket, start?.bytes, row.bytes)
        return row
      })().finally(() => counting.delete(key))
      counting.set(key, { promise, grew })
      return promise
    },
    counting: (backendId: string, bucket: string): boolean => counting.has(bucketKey(backendId, bucket)),
    /** Applies a delta; returns false when the usage is not known yet (nothing to adjust). */
    async adjust(backendId: string, bucket: string, bytes: number, objects: number): Promise<boolean> {
      const running = counting.get(bucketKey(backendId, bucket))
      if (running) {
        running.grew.bytes += Math.max(0, bytes)
        running.grew.objects += Math.max(0, objects)
      }
      const after = await d.store.addUsage(backendId, bucket, bytes, objects)
      if (!after) return false
      await noteSoft(backendId, bucket, after.bytes - bytes, after.bytes)
      return true
    },
    /** Re-evaluates the soft cap after the quota itself changed. */
    async quotaChanged(backendId: string, bucket: string, oldSoft: number | null | undefined): Promise<void> {
      const u = await d.store.usage(backendId, bucket)
      if (!u) return
      const q = await d.store.quota(backendId, bucket)
      if (!q?.soft_bytes) return
      if (oldSoft && u.bytes > oldSoft) return
      await noteSoft(backendId, bucket, undefined, u.bytes)
    },
    /** Aborts running counts (shutdown). */
    close(): void {
      stop.abort()
    },
  }
}
