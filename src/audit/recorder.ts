// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Audit writes with group commit: events queue in memory and every event
 * recorded during one turn of the event loop is written in one transaction
 * at the end of that turn (one multi-row INSERT per batch). `record()` returns a promise that settles when the
 * transaction holding the event has committed, and the dashboard answers a
 * request only once every event it recorded is durable (`hold`), so a client
 * never holds an answer whose audit event a crash could still lose.
 *
 * A failing store keeps the events queued and retries every second; waiters
 * are told (their promise rejects with `store_unavailable`) instead of being
 * answered as if the event were safe. The queue is bounded; when it is full
 * an event is shed, counted in `stowage_audit_events_shed_total`, logged and
 * its promise rejected — never dropped silently.
 */
import { fail, type AppError } from '../http/errors.ts'
import type { Logger } from '../lib/log.ts'
import type { Metrics } from '../metrics/registry.ts'
import type { AuditEvent } from './model.ts'
import type { AuditStore } from './store.ts'

/** Events per transaction; a longer queue is written as several. */
const TRANSACTION = 2048
const RETRY_MS = 1000
/** Events held in memory while the database is slow or failing (about 25 MiB at worst). */
export const MAX_QUEUE = 50_000

export type AuditRecorder = {
  /**
   * Queues an event. The promise resolves once the event is committed and
   * rejects with `store_unavailable` when it cannot be; ignoring it is safe.
   */
  record(e: AuditEvent): Promise<void>
  /** Collects the commits of the events recorded under `requestId` from now until `release()`. */
  hold(requestId: string): HeldRequest
  /** Writes everything queued now (tests, shutdown, exports that must see fresh rows). */
  flush(): Promise<void>
  close(): Promise<void>
}

export type HeldRequest = {
  /** Resolves once every event recorded so far under the request id is committed; rejects with `store_unavailable` if one cannot be. */
  durable(): Promise<void>
  release(): void
}

type Commit = PromiseWithResolvers<void>

const unwritten = (): AppError => fail('store_unavailable', 'The audit log could not be written, so the change may or may not have been applied.')

export function createAuditRecorder(store: AuditStore, metrics: Metrics, logger: Logger): AuditRecorder {
  let queue: AuditEvent[] = []
  /** The commit that the events queued since the last write are waiting for. */
  let next: Commit | undefined
  let scheduled: { cancel(): void } | undefined
  /** Commits awaited by requests in progress, by request id (ids may repeat: a client can send its own). */
  const requests = new Map<string, { open: number; commits: Set<Promise<void>> }>()
  let lastShedLog = 0
  let shedSinceLog = 0
  let closed = false

  const shed = (count: number, action: string): void => {
    metrics.auditShed.inc(count)
    shedSinceLog += count
    const now = Date.now()
    if (now - lastShedLog > 1000) {
      logger.error(closed ? 'audit recorder closed; events shed' : 'audit queue full; events shed', { shed: shedSinceLog, action })
      lastShedLog = now
      shedSinceLog = 0
    }
  }

  const schedule = (ms: number): void => {
    if (scheduled) return
    if (ms === 0) {
      const id = setImmediate(() => void flush())
      scheduled = { cancel: () => clearImmediate(id) }
    } else {
      const id = setTimeout(() => void flush(), ms)
      scheduled = { cancel: () => clearTimeout(id) }
    }
  }

  /** Writes run one after another, each taking what was queued when it started. */
  let writing: Promise<void> = Promise.resolve()

  function flush(): Promise<void> {
    scheduled?.cancel()
    scheduled = undefined
    const run = writing.then(write)
    writing = run.catch(() => {})
    return run
  }

  async function write(): Promise<void> {
    const waiting = next
    next = undefined
    let left = queue.length
    while (left > 0) {
      const batch = queue.slice(0, Math.min(left, TRANSACTION))
      try {
        await store.insertMany(batch)
      } catch (err) {
        logger.error(closed ? 'audit write failed' : 'audit write failed; will retry', { error: (err as Error).message, queued: queue.length })
        // The events stay queued and a later commit writes them; whoever waited on this one learns it failed.
        waiting?.reject(unwritten())
        if (!closed) schedule(RETRY_MS)
        metrics.auditQueue.set(queue.length)
        return
      }
      queue = queue.slice(batch.length)
      left -= batch.length
      metrics.auditWritten.inc(batch.length)
      if (shedSinceLog > 0) {
        // Sheds after the last log line are reported once the queue drains, so the log accounts for every one.
        logger.error('audit queue full; events shed', { shed: shedSinceLog })
        lastShedLog = Date.now()
        shedSinceLog = 0
      }
    }
    metrics.auditQueue.set(queue.length)
    waiting?.resolve()
  }

  const rejected = (): Promise<void> => {
    const p = Promise.reject(unwritten())
    p.catch(() => {})
    return p
  }

  return {
    record(e) {
      if (closed || queue.length >= MAX_QUEUE) {
        shed(1, e.action)
        return rejected()
      }
      queue.push({ ...e, ts: e.ts ?? Date.now() })
      if (!next) {
        next = Promise.withResolvers<void>()
        // Marks the rejection handled: nobody may be waiting (background events, early answers).
        next.promise.catch(() => {})
      }
      if (e.requestId) requests.get(e.requestId)?.commits.add(next.promise)
      schedule(0)
      return next.promise
    },

    hold(requestId) {
      const entry = requests.get(requestId) ?? { open: 0, commits: new Set<Promise<void>>() }
      requests.set(requestId, entry)
      entry.open++
      let held = true
      return {
        durable: async () => void (await Promise.all(entry.commits)),
        release() {
          if (!held) return
          held = false
          if (--entry.open === 0) requests.delete(requestId)
        },
      }
    },

    flush,

    /** Writes what is queued; whatever the store still refuses is counted and logged as shed, not retried forever. */
    async close() {
      if (closed) return
      closed = true
      await flush()
      scheduled?.cancel()
      scheduled = undefined
      if (queue.length > 0) {
        const lost = queue.length
        queue = []
        metrics.auditQueue.set(0)
        lastShedLog = 0
        shed(lost, 'shutdown')
      }
    },
  }
}
