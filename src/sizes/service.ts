// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bucket size tracking (on by default, switched off per bucket) and folder
 * sizes on demand.
 *
 * A prefix size walks the listing under the prefix within a budget
 * (PREFIX_BUDGET_MS, PREFIX_MAX_OBJECTS); past it the answer says
 * `truncated: true` and covers only what was walked. Answers are cached for
 * CACHE_MS and concurrent requests for the same prefix share one walk. A write
 * through Stowage drops the bucket's cached answers. The whole bucket ("")
 * comes straight from the usage table when it is known.
 */
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { Actor } from '../auth/actor.ts'
import type { Registry } from '../backends/registry.ts'
import { fail } from '../http/errors.ts'
import type { Logger } from '../lib/log.ts'
import type { QuotaService } from '../quotas/service.ts'
import { bucketKey } from '../quotas/usage.ts'
import { storage } from '../storage/errors.ts'
import { validateBucketName, validateListPrefix } from '../storage/validate.ts'
import { iso } from '../users/model.ts'
import type { PrefixSizeDTO, TrackingDTO } from './model.ts'
import { sumListing } from './walk.ts'

export const CACHE_MS = 60_000
export const PREFIX_BUDGET_MS = 5_000
export const PREFIX_MAX_OBJECTS = 500_000
/** Cached prefixes per bucket and buckets with a cache; the oldest goes first beyond these. */
const MAX_CACHED_PER_BUCKET = 256
const MAX_CACHED_BUCKETS = 1024

type Cached = { at: number; value: Promise<PrefixSizeDTO> }

export type SizeService = ReturnType<typeof createSizeService>

export function createSizeService(d: {
  registry: Registry
  accounting: QuotaService
  audit: AuditRecorder
  logger: Logger
  now: () => number
  budget?: { ms: number; objects: number }
}) {
  const cache = new Map<string, Map<string, Cached>>()
  const budget = d.budget ?? { ms: PREFIX_BUDGET_MS, objects: PREFIX_MAX_OBJECTS }
  const drop = (backendId: string, bucket: string): void => void cache.delete(bucketKey(backendId, bucket))
  d.accounting.onChange(drop)
  d.accounting.onForget(drop)

  function checked(backendId: string, bucket: string) {
    const backend = d.registry.get(backendId)
    validateBucketName(bucket)
    return backend
  }

  async function dto(backendId: string, bucket: string): Promise<TrackingDTO> {
    const row = await d.accounting.tracking.get(backendId, bucket)
    if (!row) return { enabled: true }
    return { enabled: row.enabled === 1, updated_at: iso(row.updated_at)!, ...(row.updated_by ? { updated_by: row.updated_by } : {}) }
  }

  async function walk(backendId: string, bucket: string, prefix: string): Promise<PrefixSizeDTO> {
    const backend = d.registry.get(backendId)
    const r = await storage(sumListing(backend, bucket, prefix, { maxObjects: budget.objects, deadline: performance.now() + budget.ms }), d.logger)
    return { bytes: r.bytes, count: r.objects, prefix, computed_at: iso(d.now())!, truncated: r.truncated }
  }

  return {
    tracking(backendId: string, bucket: string): Promise<TrackingDTO> {
      checked(backendId, bucket)
      return dto(backendId, bucket)
    },

    async setTracking(actor: Actor, backendId: string, bucket: string, enabled: boolean, origin: AuditOrigin): Promise<TrackingDTO> {
      const backend = checked(backendId, bucket)
      if (!(await storage(backend.bucketExists(bucket), d.logger))) throw fail('not_found', 'No such bucket.')
      const acc = d.accounting
      if (enabled) {
        await acc.tracking.reset(backendId, bucket)
        if (!(await acc.store.usage(backendId, bucket))) acc.scanner.enqueue(backendId, bucket)
      } else {
        await acc.tracking.disable(backendId, bucket, d.now(), actor.id)
        // Nothing will keep the figures fresh any more unless a quota needs them.
        if (!(await acc.store.quota(backendId, bucket))) await acc.store.deleteUsage(backendId, bucket)
        drop(backendId, bucket)
      }
      d.audit.record({ ...origin, action: 'bucket.size_tracking.set', backend: backendId, bucket, status: 'ok', detail: { enabled } })
      return dto(backendId, bucket)
    },

    async prefixSize(backendId: string, bucket: string, rawPrefix: string | undefined): Promise<PrefixSizeDTO> {
      checked(backendId, bucket)
      const prefix = validateListPrefix(rawPrefix ?? '')
      if (!(await d.accounting.tracking.enabled(backendId, bucket))) throw fail('size_tracking_disabled')
      if (prefix === '') {
        const u = await d.accounting.store.usage(backendId, bucket)
        if (u) return { bytes: u.bytes, count: u.objects, prefix, computed_at: iso(u.computed_at)!, truncated: false }
      }
      const key = bucketKey(backendId, bucket)
      let perBucket = cache.get(key)
      const hit = perBucket?.get(prefix)
      if (hit && d.now() - hit.at < CACHE_MS) return hit.value
      if (!perBucket) {
        if (cache.size >= MAX_CACHED_BUCKETS) cache.delete(cache.keys().next().value!)
        cache.set(key, (perBucket = new Map()))
      }
      const value = walk(backendId, bucket, prefix)
      const entry: Cached = { at: d.now(), value }
      perBucket.delete(prefix)
      perBucket.set(prefix, entry)
      if (perBucket.size > MAX_CACHED_PER_BUCKET) perBucket.delete(perBucket.keys().next().value!)
      // A failed walk is not cached: the next request tries again.
      value.catch(() => {
        const m = cache.get(key)
        if (m?.get(prefix) === entry) m.delete(prefix)
        if (m?.size === 0) cache.delete(key)
      })
      return value
    },
  }
}
