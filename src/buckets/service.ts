// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bucket list, create and delete. Listings are cached per backend for a
 * moment (BUCKET_CACHE_MS) and concurrent callers share one upstream call, so
 * a page of widgets asking at once costs one ListBuckets; create and delete
 * drop the cache so the next listing is fresh.
 */
import { READ, type AccessView } from '../access/view.ts'
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { BucketInfo } from '../backends/backend.ts'
import type { Registry } from '../backends/registry.ts'
import type { Logger } from '../lib/log.ts'
import type { StorageAccounting } from '../quotas/gate.ts'
import { storage } from '../storage/errors.ts'
import { validateBucketName } from '../storage/validate.ts'
import { audited } from '../objects/audit.ts'
import type { BucketDTO } from './model.ts'

export const BUCKET_CACHE_MS = 2_000

type Cached = { at: number; value?: BucketInfo[]; pending?: Promise<BucketInfo[]> }

export type BucketService = ReturnType<typeof createBucketService>

export function createBucketService(d: { registry: Registry; audit: AuditRecorder; accounting: StorageAccounting; logger: Logger; now?: () => number }) {
  const now = d.now ?? Date.now
  const cache = new Map<string, Cached>()

  function fetchBuckets(bid: string): Promise<BucketInfo[]> {
    const backend = d.registry.get(bid)
    const hit = cache.get(bid)
    if (hit?.pending) return hit.pending
    if (hit?.value && now() - hit.at < BUCKET_CACHE_MS) return Promise.resolve(hit.value)
    const entry: Cached = { at: 0 }
    entry.pending = storage(backend.listBuckets(), d.logger).then(
      (value) => {
        if (cache.get(bid) === entry) cache.set(bid, { at: now(), value })
        return value
      },
      (err) => {
        if (cache.get(bid) === entry) cache.delete(bid)
        throw err
      },
    )
    cache.set(bid, entry)
    return entry.pending
  }

  // A listing still in flight when this runs is not stored: its entry is no longer the cached one.
  const invalidate = (bid: string): void => {
    cache.delete(bid)
  }

  return {
    /** The buckets the view may see; a bucket's size only where it may read all of it. */
    async list(bid: string, view: AccessView): Promise<{ buckets: BucketDTO[] }> {
      const all = view.backendLevel(bid) >= READ
      const named = all ? undefined : view.namedBuckets(bid)
      const buckets = (await fetchBuckets(bid))
        .filter((b) => named === undefined || named.has(b.name))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      return {
        buckets: await Promise.all(
          buckets.map(async (b) => {
            const size = await d.accounting.bucketSize(bid, b.name)
            return {
              name: b.name,
              ...(b.createdAt ? { created_at: b.createdAt.toISOString() } : {}),
              ...(view.levelAt(bid, b.name, '') >= READ ? size : { size_tracked: size.size_tracked }),
            }
          }),
        ),
      }
    },

    create(origin: AuditOrigin, bid: string, name: string, region?: string): Promise<{ name: string }> {
      const backend = d.registry.get(bid)
      validateBucketName(name)
      return audited(d.audit, origin, { action: 'bucket.create', backend: bid, bucket: name, detail: region ? { region } : {} }, async () => {
        try {
          await storage(backend.createBucket(name, region || undefined), d.logger, { invalid: 'invalid_bucket_name' })
        } finally {
          invalidate(bid)
        }
        return { name }
      })
    },

    remove(origin: AuditOrigin, bid: string, name: string): Promise<void> {
      const backend = d.registry.get(bid)
      validateBucketName(name)
      return audited(d.audit, origin, { action: 'bucket.delete', backend: bid, bucket: name }, async () => {
        try {
          await storage(backend.deleteBucket(name), d.logger)
        } finally {
          invalidate(bid)
        }
        await d.accounting.forget(bid, name)
      })
    },

    invalidate,
  }
}
