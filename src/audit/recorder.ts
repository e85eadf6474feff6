// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Batched audit writes: events queue in memory and are written in one
 * transaction every 100 ms (or at 256 events), off the request path. The queue
 * is bounded; when it is full an event is shed, counted in
 * `stowage_audit_events_shed_total` and logged — never dropped silently.
 */
import type { Logger } from '../lib/log.ts'
import type { Metrics } from '../metrics/registry.ts'
import type { AuditEvent } from './model.ts'
import type { AuditStore } from './store.ts'

const FLUSH_MS = 100
const BATCH = 256
/** Events held in memory while the database is slow or failing (about 25 MiB at worst). */
export const MAX_QUEUE = 50_000

export type AuditRecorder = {
  record(e: AuditEvent): void
  /** Writes everything queued now (tests, shutdown, exports that must see fresh rows). */
  flush(): void
  close(): void
}

export function createAuditRecorder(store: AuditStore, metrics: Metrics, logger: Logger): AuditRecorder {
  let queue: AuditEvent[] = []
  let timer: ReturnType<typeof setTimeout> | undefined
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

  const flush = (): void => {
    if (timer) clearTimeout(timer)
    timer = undefined
    while (queue.length > 0) {
      const batch = queue.slice(0, BATCH * 8)
      try {
        store.insertMany(batch)
        queue = queue.slice(batch.length)
        metrics.auditWritten.inc(batch.length)
        if (shedSinceLog > 0) {
          // Sheds after the last log line are reported once the queue drains, so the log accounts for every one.
          logger.error('audit queue full; events shed', { shed: shedSinceLog })
          lastShedLog = Date.now()
          shedSinceLog = 0
        }
      } catch (err) {
        logger.error(closed ? 'audit write failed' : 'audit write failed; will retry', { error: (err as Error).message, queued: queue.length })
        if (!closed) timer = setTimeout(flush, 1000)
        break
      }
    }
    metrics.auditQueue.set(queue.length)
  }

  return {
    record(e) {
      if (closed || queue.length >= MAX_QUEUE) return shed(1, e.action)
      queue.push({ ...e, ts: e.ts ?? Date.now() })
      if (queue.length === BATCH) {
        if (timer) clearTimeout(timer)
        timer = setTimeout(flush, 0)
      } else timer ??= setTimeout(flush, FLUSH_MS)
    },
    flush,
    /** Writes what is queued; whatever the store still refuses is counted and logged as shed, not retried forever. */
    close() {
      if (closed) return
      closed = true
      flush()
      if (timer) clearTimeout(timer)
      timer = undefined
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
