// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Cross-backend search. Every active backend is searched in parallel, each
 * within its own time budget (BUDGET_MS) and stopped early when the client
 * goes away. Per backend:
 * - bucket names: case-insensitive substring;
 * - object keys by prefix: one cheap listing with the query as the prefix
 *   (case-sensitive, as S3 prefixes are);
 * - object keys by case-insensitive substring: a scan from the start of each
 *   bucket, bounded to KEYS_PER_BACKEND keys split fairly across the buckets
 *   (at least one page each, at most KEYS_PER_BUCKET).
 * What was cut short is reported in `partial`, never silently dropped. A
 * backend call that is already in flight when the budget ends is abandoned,
 * not cancelled (the driver API takes no signal for listings); no new call
 * starts after it.
 *
 * Only what the caller may read is searched and shown: backends and buckets
 * without a grant are skipped, a bucket granted only in part is scanned from
 * its granted folders, and every hit is checked against the grants again.
 */
import { READ, type AccessView } from '../access/view.ts'
import { BackendError, type Backend, type ObjectInfo } from '../backends/backend.ts'
import type { BackendEntry, Registry } from '../backends/registry.ts'
import type { Logger } from '../lib/log.ts'
import { keyProblem } from '../storage/validate.ts'
import { SEARCH_PAGE, type PartialReason, type SearchDTO } from './model.ts'

export const BUDGET_MS = 3_000
export const KEYS_PER_BUCKET = 10_000
export const KEYS_PER_BACKEND = 50_000
const PAGE = 1000
const BUCKET_CONCURRENCY = 4

export type SearchOptions = { budgetMs: number; keysPerBucket: number; keysPerBackend: number }

type Hit = { backend_id: string; bucket: string; key: string; size: number; last_modified?: string }

const SEVERITY: Record<PartialReason, number> = { scan_limit: 1, timeout: 2, cancelled: 3, unavailable: 4, error: 4 }

class Stopped extends Error {}

/** Rejects with `Stopped` as soon as the signal aborts, abandoning `p`. */
function until<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Stopped())
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Stopped())
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

const compareHits = (a: Hit, b: Hit): number =>
  a.backend_id === b.backend_id
    ? a.bucket === b.bucket
      ? a.key < b.key
        ? -1
        : a.key > b.key
          ? 1
          : 0
      : a.bucket < b.bucket
        ? -1
        : 1
    : a.backend_id < b.backend_id
      ? -1
      : 1

export type SearchService = ReturnType<typeof createSearchService>

export function createSearchService(d: { registry: Registry; logger: Logger; options?: Partial<SearchOptions> }) {
  const opts: SearchOptions = { budgetMs: BUDGET_MS, keysPerBucket: KEYS_PER_BUCKET, keysPerBackend: KEYS_PER_BACKEND, ...d.options }

  async function searchBackend(
    entry: BackendEntry,
    view: AccessView,
    q: string,
    limit: number,
    signal: AbortSignal,
    out: { buckets: Array<{ backend_id: string; bucket: string }>; prefixHits: Hit[]; substringHits: Hit[]; more: boolean },
    cut: (reason: PartialReason) => void,
  ): Promise<void> {
    const backend = entry.backend as Backend
    const needle = q.toLowerCase()
    const prefixable = keyProblem(q) === undefined
    const hit = (bucket: string, o: ObjectInfo): Hit => ({
      backend_id: entry.id,
      bucket,
      key: o.key,
      size: o.size,
      ...(o.lastModified ? { last_modified: o.lastModified.toISOString() } : {}),
    })
    const readable = (bucket: string, key: string): boolean => view.levelAt(entry.id, bucket, key) >= READ
    const names = (await until(backend.listBuckets(), signal))
      .map((b) => b.name)
      .filter((name) => view.bucketLevel(entry.id, name) >= READ)
      .sort()
    for (const name of names) if (name.toLowerCase().includes(needle)) out.buckets.push({ backend_id: entry.id, bucket: name })
    if (names.length === 0) return
    const share = Math.max(1, Math.min(opts.keysPerBucket, Math.max(PAGE, Math.floor(opts.keysPerBackend / names.length))))

    const searchBucket = async (bucket: string): Promise<void> => {
      // One hit past the limit tells "exactly `limit`" apart from "more than `limit`".
      const cap = limit + 1
      let found = 0
      const roots = view.readableRoots(entry.id, bucket)
      // Keys starting with the query, inside the readable folders: the query itself when it reaches into
      // one, the folder when the query is a start of its name.
      const starts = prefixable ? [...new Set(roots.flatMap((r) => (q.startsWith(r) ? [q] : r.startsWith(q) ? [r] : [])))] : []
      for (const prefix of starts) {
        if (found >= cap) break
        const page = await until(backend.listObjects(bucket, { prefix, delimiter: '', maxKeys: Math.min(PAGE, cap - found) }), signal)
        for (const o of page.objects) {
          if (!readable(bucket, o.key)) continue
          out.prefixHits.push(hit(bucket, o))
          found++
        }
        if (page.isTruncated || found >= cap) out.more = true
      }
      let scanned = 0
      for (const root of roots) {
        let token: string | undefined
        while (found < cap) {
          const page = await until(backend.listObjects(bucket, { prefix: root, delimiter: '', token, maxKeys: Math.min(PAGE, share - scanned) }), signal)
          scanned += page.objects.length
          for (const o of page.objects) {
            // Keys starting with the query came from the prefix listing already.
            if ((prefixable && o.key.startsWith(q)) || !o.key.toLowerCase().includes(needle) || !readable(bucket, o.key)) continue
            out.substringHits.push(hit(bucket, o))
            if (++found >= cap) {
              out.more = true
              break
            }
          }
          if (!page.isTruncated || !page.nextToken) break
          if (scanned >= share) return cut('scan_limit')
          token = page.nextToken
        }
      }
    }

    // A few buckets at a time: parallel enough to use the budget, not a flood of listings.
    const queue = [...names]
    const worker = async (): Promise<void> => {
      for (let bucket = queue.shift(); bucket !== undefined; bucket = queue.shift()) {
        try {
          await searchBucket(bucket)
        } catch (err) {
          if (err instanceof Stopped) throw err
          // A bucket that vanished or refuses listing does not spoil the backend's other results.
          if (!(err instanceof BackendError && (err.kind === 'bucket_not_found' || err.kind === 'not_found' || err.kind === 'denied'))) throw err
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(BUCKET_CONCURRENCY, names.length) }, worker))
  }

  return {
    options: opts,
    async search(view: AccessView, q: string, rawLimit: number | undefined, clientSignal: AbortSignal): Promise<SearchDTO> {
      const limit = rawLimit ?? SEARCH_PAGE.fallback
      const out = { buckets: [] as Array<{ backend_id: string; bucket: string }>, prefixHits: [] as Hit[], substringHits: [] as Hit[], more: false }
      const partial = new Map<string, PartialReason>()

      await Promise.all(
        d.registry
          .active()
          .filter((entry) => view.backendVisible(entry.id))
          .map(async (entry) => {
            const cut = (reason: PartialReason): void => {
              const had = partial.get(entry.id)
              if (!had || SEVERITY[reason] > SEVERITY[had]) partial.set(entry.id, reason)
            }
            const budget = AbortSignal.timeout(opts.budgetMs)
            // Ends this backend's remaining bucket scans once one of them has failed.
            const failed = new AbortController()
            const signal = AbortSignal.any([budget, clientSignal, failed.signal])
            try {
              await searchBackend(entry, view, q, limit, signal, out, cut)
            } catch (err) {
              failed.abort()
              if (err instanceof Stopped) cut(clientSignal.aborted ? 'cancelled' : 'timeout')
              else {
                cut(err instanceof BackendError && err.kind === 'unavailable' ? 'unavailable' : 'error')
                d.logger.warn('search failed on a backend', { backend: entry.id, error: err instanceof BackendError ? err.kind : (err as Error).message })
              }
            }
          }),
      )

      const seen = new Set<string>()
      const objects: Hit[] = []
      for (const h of [...out.prefixHits.sort(compareHits), ...out.substringHits.sort(compareHits)]) {
        const id = `${h.backend_id}\u0000${h.bucket}\u0000${h.key}`
        if (seen.has(id)) continue
        seen.add(id)
        objects.push(h)
      }
      const buckets = out.buckets.sort((a, b) => (a.backend_id === b.backend_id ? (a.bucket < b.bucket ? -1 : 1) : a.backend_id < b.backend_id ? -1 : 1))
      return {
        query: q,
        buckets: buckets.slice(0, limit),
        objects: objects.slice(0, limit),
        truncated: out.more || buckets.length > limit || objects.length > limit || partial.size > 0,
        partial: [...partial].sort(([a], [b]) => (a < b ? -1 : 1)).map(([backend_id, reason]) => ({ backend_id, reason })),
      }
    },
  }
}
