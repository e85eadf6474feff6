// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The one background scanner for quotas and bucket sizes. Every
 * `quotas.scan_interval` it recounts each bucket that has size tracking on (the
 * default) or a quota, one bucket at a time, so it adds at most one listing
 * stream of load to each backend. Runs never overlap: the next starts an
 * interval after the previous one ends. It starts on a timer, so it never
 * delays start-up, and a backend that is down or slow is logged and skipped.
 *
 * In a fleet, the full passes run on the one replica holding the `usage-scan`
 * lease, renewed before each bucket, so a fleet lists each bucket once an
 * interval; a replica that finds the lease taken skips that pass.
 *
 * Between runs, buckets whose usage is unknown (new buckets, new quotas, size
 * tracking switched back on) are queued and counted one at a time; the queue
 * waits while a full pass runs, so a backend sees at most two listings from
 * the scanner at once (the pass and one queued count that started first).
 */
import { BackendError } from '../backends/backend.ts'
import type { Registry } from '../backends/registry.ts'
import type { Leases } from '../db/lease.ts'
import type { Logger } from '../lib/log.ts'
import { within } from '../sizes/walk.ts'
import type { QuotaStore } from './store.ts'
import { bucketKey, type UsageTracker } from './usage.ts'

/** The fleet lease of the full passes. */
const LEASE = 'usage-scan'

/** A backend that does not answer ListBuckets in this long is skipped for this run. */
const LIST_BUCKETS_BUDGET_MS = 30_000

export type ScanReport = { startedAt: number; finishedAt: number; counted: number; failed: number; skippedBackends: string[] }

export type Scanner = ReturnType<typeof createScanner>

export function createScanner(d: {
  intervalMs: number
  registry: Registry
  store: QuotaStore
  usage: UsageTracker
  /** Whether a bucket is counted: size tracking on, or a quota set. */
  wanted(backendId: string, bucket: string): Promise<boolean>
  logger: Logger
  now: () => number
  /** In a fleet, the replica that runs a pass holds this lease; every pass runs here when absent. */
  leases?: Pick<Leases, 'run' | 'renew'>
}) {
  const enabled = d.intervalMs > 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let running: Promise<ScanReport> | undefined
  let stopped = false
  let last: ScanReport | undefined
  const queue = new Map<string, { backendId: string; bucket: string }>()
  let draining = false

  async function countOne(backendId: string, bucket: string): Promise<boolean> {
    try {
      await d.usage.count(backendId, bucket)
      return true
    } catch (err) {
      if (stopped) return false
      if (err instanceof BackendError && (err.kind === 'bucket_not_found' || err.kind === 'not_found')) await d.store.deleteUsage(backendId, bucket)
      else d.logger.warn('bucket count failed', { backend: backendId, bucket, error: err instanceof BackendError ? err.kind : (err as Error).message })
      return false
    }
  }

  async function scanAll(): Promise<ScanReport> {
    const report: ScanReport = { startedAt: d.now(), finishedAt: 0, counted: 0, failed: 0, skippedBackends: [] }
    for (const entry of d.registry.active()) {
      if (stopped) break
      let names: string[]
      try {
        names = (await within(entry.backend!.listBuckets(), LIST_BUCKETS_BUDGET_MS)).map((b) => b.name)
      } catch (err) {
        report.skippedBackends.push(entry.id)
        d.logger.warn('usage scan skipped a backend', { backend: entry.id, error: err instanceof BackendError ? err.kind : (err as Error).name })
        continue
      }
      // Closing the app does not wait for a listing in flight; the database may be gone by now.
      if (stopped) break
      await d.store.pruneUsage(entry.id, names)
      for (const bucket of names) {
        if (stopped) break
        // A pass longer than the lease must not run beside the one another replica took over.
        if (d.leases && !(await d.leases.renew(LEASE, d.intervalMs))) return finish(report)
        if (!(await d.wanted(entry.id, bucket))) {
          // A one-off recompute of an opted-out bucket leaves a row nothing keeps fresh.
          await d.store.deleteUsage(entry.id, bucket)
          continue
        }
        if (await countOne(entry.id, bucket)) report.counted++
        else report.failed++
      }
    }
    return finish(report)
  }

  function finish(report: ScanReport): ScanReport {
    report.finishedAt = d.now()
    last = report
    return report
  }

  function schedule(delayMs: number): void {
    if (stopped) return
    timer = setTimeout(() => {
      void (d.leases ? d.leases.run(LEASE, d.intervalMs, runNow) : runNow())
        .catch((err: unknown) => d.logger.warn('usage scan failed', { error: (err as Error)?.message }))
        .finally(() => schedule(d.intervalMs))
    }, delayMs)
    timer.unref?.()
  }

  async function drain(): Promise<void> {
    if (draining) return
    draining = true
    try {
      while (!stopped && queue.size > 0) {
        const [key, item] = queue.entries().next().value!
        queue.delete(key)
        if (running) await running
        if (stopped) break
        if ((await d.wanted(item.backendId, item.bucket)) && !(await d.store.usage(item.backendId, item.bucket))) await countOne(item.backendId, item.bucket)
      }
    } finally {
      draining = false
    }
  }

  function runNow(): Promise<ScanReport> {
    running ??= scanAll().finally(() => {
      running = undefined
    })
    return running
  }

  return {
    enabled,
    start(): void {
      if (enabled) schedule(0)
    },
    /** A full pass now (joins a pass already running). */
    runNow,
    /** Counts this bucket soon in the background, when the scanner is on. */
    enqueue(backendId: string, bucket: string): void {
      if (!enabled || stopped) return
      queue.set(bucketKey(backendId, bucket), { backendId, bucket })
      void drain()
    },
    last: (): ScanReport | undefined => last,
    stop(): void {
      stopped = true
      if (timer) clearTimeout(timer)
      queue.clear()
    },
  }
}
