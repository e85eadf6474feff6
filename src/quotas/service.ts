// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Quotas and storage accounting. Implements `StorageAccounting` for every
 * write path and owns the usage table, the background scanner and the quota
 * settings.
 *
 * When a capped bucket's usage is not known yet, the first write counts it
 * synchronously within COUNT_BUDGET_MS; if the count fails or runs out of time
 * the write is refused with 503 `backend_unavailable` (fail closed — the
 * original let the write through, so a down listing could blow a hard cap).
 * A count that ran out of time keeps going in the background; the next write
 * joins it.
 *
 * Checks are not reservations: concurrent writes to one bucket can overshoot
 * the hard cap by at most the bytes they write at once.
 */
import type { Database } from '../db/database.ts'
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { Actor } from '../auth/actor.ts'
import { BackendError } from '../backends/backend.ts'
import type { Registry } from '../backends/registry.ts'
import { AppError, fail } from '../http/errors.ts'
import type { Logger } from '../lib/log.ts'
import { createTrackingStore, type TrackingStore } from '../sizes/store.ts'
import { within } from '../sizes/walk.ts'
import { storage } from '../storage/errors.ts'
import { validateBucketName } from '../storage/validate.ts'
import { iso } from '../users/model.ts'
import type { BucketSize, StorageAccounting } from './gate.ts'
import type { QuotaBody, QuotaDTO } from './model.ts'
import type { Leases } from '../db/lease.ts'
import { createScanner, type Scanner } from './scanner.ts'
import { createQuotaStore, type QuotaStore, type UsageRow } from './store.ts'
import { createUsageTracker, type UsageTracker } from './usage.ts'

/** How long a write waits for the first count of a capped bucket before failing closed. */
export const COUNT_BUDGET_MS = 10_000
/** How long an admin's recompute waits before answering 503 (the count carries on). */
export const RECOMPUTE_BUDGET_MS = 30_000

export type BucketListener = (backendId: string, bucket: string) => void | Promise<void>

export type QuotaService = StorageAccounting & {
  store: QuotaStore
  tracking: TrackingStore
  usage: UsageTracker
  scanner: Scanner
  /** `usage: false` leaves out the usage figures (for callers who may not read the whole bucket). */
  get(backendId: string, bucket: string, opts?: { usage: boolean }): Promise<QuotaDTO>
  set(actor: Actor, backendId: string, bucket: string, body: QuotaBody, origin: AuditOrigin): Promise<QuotaDTO>
  remove(backendId: string, bucket: string, origin: AuditOrigin): Promise<void>
  recompute(backendId: string, bucket: string): Promise<QuotaDTO>
  /** Counts the bucket again in the background, when its usage is kept, after it changed other than through a request. */
  recountLater(backendId: string, bucket: string): void
  /** Called whenever a bucket's usage changes through Stowage (cache invalidation). */
  onChange(fn: BucketListener): void
  /** Called when a bucket is deleted, after its rows are gone. */
  onForget(fn: BucketListener): void
  start(): void
  close(): void
}

export function createQuotaService(d: {
  db: Database
  registry: Registry
  audit: AuditRecorder
  logger: Logger
  now: () => number
  scanIntervalMs: number
  /** The fleet's leases: one replica runs each scanner pass (see scanner.ts). */
  leases?: Pick<Leases, 'run' | 'renew'>
  countBudgetMs?: number
}): QuotaService {
  const store = createQuotaStore(d.db)
  const tracking = createTrackingStore(d.db)
  const usage = createUsageTracker({ store, registry: d.registry, audit: d.audit, now: d.now })
  const wanted = async (backendId: string, bucket: string): Promise<boolean> =>
    (await tracking.enabled(backendId, bucket)) || (await store.quota(backendId, bucket)) !== null
  const scanner = createScanner({ intervalMs: d.scanIntervalMs, registry: d.registry, store, usage, wanted, logger: d.logger, now: d.now, leases: d.leases })
  const changed: BucketListener[] = []
  const forgotten: BucketListener[] = []
  const budget = d.countBudgetMs ?? COUNT_BUDGET_MS

  function bucketOf(backendId: string, bucket: string): void {
    d.registry.get(backendId)
    validateBucketName(bucket)
  }

  async function mustExist(backendId: string, bucket: string): Promise<void> {
    const backend = d.registry.get(backendId)
    validateBucketName(bucket)
    if (!(await storage(backend.bucketExists(bucket), d.logger))) throw fail('not_found', 'No such bucket.')
  }

  async function dto(backendId: string, bucket: string, withUsage = true): Promise<QuotaDTO> {
    const q = await store.quota(backendId, bucket)
    const u = withUsage ? await store.usage(backendId, bucket) : null
    return {
      configured: q !== null,
      ...(q
        ? {
            soft_bytes: q.soft_bytes ?? 0,
            hard_bytes: q.hard_bytes ?? 0,
            updated_at: iso(q.updated_at)!,
            ...(q.updated_by ? { updated_by: q.updated_by } : {}),
          }
        : {}),
      ...(u ? { usage_bytes: u.bytes, object_count: u.objects, computed_at: iso(u.computed_at)! } : {}),
      has_usage: u !== null,
    }
  }

  /** Waits for a count, mapping a failure or a timeout to a safe error. */
  async function counted(backendId: string, bucket: string, ms: number): Promise<UsageRow> {
    try {
      return await within(usage.count(backendId, bucket), ms)
    } catch (err) {
      if (err instanceof AppError) throw err
      if (err instanceof BackendError && (err.kind === 'bucket_not_found' || err.kind === 'not_found')) throw fail('not_found', 'No such bucket.')
      if (err instanceof DOMException && err.name === 'TimeoutError') {
        throw fail(
          'backend_unavailable',
          `Counting the bucket's usage is taking longer than ${ms / 1000} s; it continues in the background, so try again shortly.`,
          undefined,
          { 'retry-after': '10' },
        )
      }
      d.logger.warn('bucket count failed', { backend: backendId, bucket, error: err instanceof BackendError ? err.kind : (err as Error).message })
      throw fail('backend_unavailable', "The bucket's usage could not be counted; try again later.")
    }
  }

  const svc: QuotaService = {
    store,
    tracking,
    usage,
    scanner,

    async assertCanWrite(backendId, bucket, bytes, opts) {
      const q = await store.quota(backendId, bucket)
      const hard = q?.hard_bytes
      if (!hard) return
      const adding = bytes - (opts?.replacing ?? 0)
      if (adding <= 0) return
      const used = (await store.usage(backendId, bucket))?.bytes ?? (await counted(backendId, bucket, budget)).bytes
      if (used + adding > hard) {
        throw fail('quota_exceeded', `The bucket's hard quota would be exceeded: ${used} + ${adding} > ${hard} bytes.`, { used, adding, hard })
      }
    },

    hasHardCap: async (backendId, bucket) => Boolean((await store.quota(backendId, bucket))?.hard_bytes),

    async writeTerms(backendId, bucket) {
      const hardBytes = (await store.quota(backendId, bucket))?.hard_bytes ?? 0
      return { hardBytes, counted: hardBytes > 0 || (await tracking.enabled(backendId, bucket)) }
    },

    async adjust(backendId, bucket, bytes, objects) {
      if (!(await usage.adjust(backendId, bucket, bytes, objects))) scanner.enqueue(backendId, bucket)
      for (const fn of changed) await fn(backendId, bucket)
    },

    async bucketSize(backendId, bucket): Promise<BucketSize> {
      const q = await store.quota(backendId, bucket)
      const limits = { ...(q?.soft_bytes ? { quota_soft_bytes: q.soft_bytes } : {}), ...(q?.hard_bytes ? { quota_hard_bytes: q.hard_bytes } : {}) }
      if (!(await tracking.enabled(backendId, bucket))) return { size_tracked: false, ...limits }
      const u = await store.usage(backendId, bucket)
      if (!u) {
        scanner.enqueue(backendId, bucket)
        return { size_tracked: true, ...limits }
      }
      return { size_tracked: true, size_bytes: u.bytes, object_count: u.objects, computed_at: iso(u.computed_at)!, ...limits }
    },

    async forget(backendId, bucket) {
      await store.deleteQuota(backendId, bucket)
      await store.deleteUsage(backendId, bucket)
      await tracking.reset(backendId, bucket)
      for (const fn of forgotten) await fn(backendId, bucket)
    },

    async get(backendId, bucket, opts) {
      bucketOf(backendId, bucket)
      return dto(backendId, bucket, opts?.usage ?? true)
    },

    async set(actor, backendId, bucket, body, origin) {
      const soft = body.soft_bytes ?? 0
      const hard = body.hard_bytes ?? 0
      if (soft < 0 || hard < 0) throw fail('invalid_quota', 'Quota sizes cannot be negative.')
      if (soft === 0 && hard === 0) throw fail('invalid_quota', 'Set soft_bytes, hard_bytes or both; to remove the quota, delete it.')
      if (hard > 0 && soft > hard) throw fail('invalid_quota', 'The soft cap cannot be above the hard cap.')
      if (soft > Number.MAX_SAFE_INTEGER || hard > Number.MAX_SAFE_INTEGER) throw fail('invalid_quota', 'The quota is too large.')
      await mustExist(backendId, bucket)
      const old = await store.quota(backendId, bucket)
      await store.setQuota({ backend_id: backendId, bucket, soft_bytes: soft || null, hard_bytes: hard || null, updated_at: d.now(), updated_by: actor.id })
      d.audit.record({ ...origin, action: 'quota.set', backend: backendId, bucket, status: 'ok', detail: { soft_bytes: soft, hard_bytes: hard } })
      await usage.quotaChanged(backendId, bucket, old?.soft_bytes)
      if (!(await store.usage(backendId, bucket))) scanner.enqueue(backendId, bucket)
      return dto(backendId, bucket)
    },

    async remove(backendId, bucket, origin) {
      bucketOf(backendId, bucket)
      if (await store.deleteQuota(backendId, bucket)) {
        d.audit.record({ ...origin, action: 'quota.delete', backend: backendId, bucket, status: 'ok' })
        if (!(await tracking.enabled(backendId, bucket))) await store.deleteUsage(backendId, bucket)
      }
    },

    async recompute(backendId, bucket) {
      bucketOf(backendId, bucket)
      await counted(backendId, bucket, RECOMPUTE_BUDGET_MS)
      for (const fn of changed) await fn(backendId, bucket)
      return dto(backendId, bucket)
    },

    recountLater(backendId, bucket) {
      void (async () => {
        if (!(await wanted(backendId, bucket))) return
        await usage.count(backendId, bucket)
        for (const fn of changed) await fn(backendId, bucket)
      })().catch((err: unknown) => d.logger.warn('usage count failed', { backend: backendId, bucket, error: (err as Error)?.message }))
    },

    onChange: (fn) => void changed.push(fn),
    onForget: (fn) => void forgotten.push(fn),
    start: () => scanner.start(),
    close() {
      scanner.stop()
      usage.close()
    },
  }
  return svc
}
