// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The group-commit recorder: events recorded in one turn of the event loop
 * are written in one transaction, each `record()` resolves only once its
 * event is committed, a failing store keeps events for a retry and tells the
 * waiters, and a full queue sheds events only with a counter, a log line and
 * a rejection — never silently.
 */
import { describe, expect, test } from 'bun:test'
import type { AuditEvent } from '../../src/audit/model.ts'
import { createAuditRecorder, MAX_QUEUE } from '../../src/audit/recorder.ts'
import type { AuditStore } from '../../src/audit/store.ts'
import { createLogger } from '../../src/lib/log.ts'
import { createMetrics } from '../../src/metrics/registry.ts'

function fakeStore(opts: { failing?: boolean; delayMs?: number } = {}) {
  const state = { failing: opts.failing ?? false, batches: [] as AuditEvent[][], calls: 0 }
  const store = {
    insertMany(events: AuditEvent[]) {
      state.calls++
      if (opts.delayMs) Bun.sleepSync(opts.delayMs)
      if (state.failing) throw new Error('database is locked')
      state.batches.push([...events])
    },
  } as unknown as AuditStore
  return { store, state, written: () => state.batches.flat() }
}

function harness(store: AuditStore) {
  const lines: Array<Record<string, unknown>> = []
  const logger = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(JSON.parse(l)) })
  const metrics = createMetrics({ defaults: false })
  const value = async (name: string): Promise<number> => (await metrics.registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0
  return { rec: createAuditRecorder(store, metrics, logger), lines, metrics, value }
}

const ev = (i: number): AuditEvent => ({ action: `test.${i}`, userId: 'u1', ip: '10.0.0.1' })

describe('group commit', () => {
  test('events of one turn share one transaction, and each promise resolves only after it', async () => {
    const f = fakeStore()
    const { rec, value } = harness(f.store)
    const committedWhenResolved: number[] = []
    const all = Array.from({ length: 10 }, (_, i) => rec.record(ev(i)).then(() => committedWhenResolved.push(f.written().length)))
    expect(f.state.calls).toBe(0)
    await Promise.all(all)
    expect(f.state.batches.length).toBe(1)
    expect(committedWhenResolved).toEqual(Array(10).fill(10))
    expect(f.written().map((e) => e.action)).toEqual(Array.from({ length: 10 }, (_, i) => `test.${i}`))
    expect(await value('stowage_audit_events_written_total')).toBe(10)
    await rec.close()
  })

  test('a commit waits for no timer: concurrent writers each see their event durable within a few turns', async () => {
    const f = fakeStore()
    const { rec } = harness(f.store)
    const started = performance.now()
    await Promise.all(
      Array.from({ length: 16 }, async (_, w) => {
        for (let i = 0; i < 20; i++) {
          await rec.record(ev(w * 100 + i))
          expect(f.written().some((e) => e.action === `test.${w * 100 + i}`)).toBe(true)
        }
      }),
    )
    expect(f.written().length).toBe(320)
    // 20 sequential commits per writer: with the old 100 ms timer this took 2 s.
    expect(performance.now() - started).toBeLessThan(1000)
    // Writers that record in the same turn share a transaction.
    expect(f.state.batches.length).toBeLessThan(320)
    await rec.close()
  })

  test('hold() waits for the events of its request only', async () => {
    const f = fakeStore()
    const { rec } = harness(f.store)
    const held = rec.hold('req-1')
    void rec.record({ ...ev(1), requestId: 'req-1' })
    void rec.record({ ...ev(2), requestId: 'other' })
    await held.durable()
    expect(f.written().map((e) => e.action)).toContain('test.1')
    held.release()
    const idle = rec.hold('req-2')
    const t0 = performance.now()
    await idle.durable()
    expect(performance.now() - t0).toBeLessThan(50)
    idle.release()
    await rec.close()
  })

  test('every event gets a timestamp when recorded, not when written', async () => {
    const f = fakeStore()
    const { rec } = harness(f.store)
    const before = Date.now()
    rec.record(ev(1))
    rec.record({ ...ev(2), ts: 1234 })
    await Bun.sleep(150)
    await rec.flush()
    expect(f.written()[0]!.ts).toBeGreaterThanOrEqual(before)
    expect(f.written()[0]!.ts).toBeLessThanOrEqual(before + 50)
    expect(f.written()[1]!.ts).toBe(1234)
    await rec.close()
  })

  test('flush() and close() write what is queued when they are called', async () => {
    const f = fakeStore()
    const { rec } = harness(f.store)
    rec.record(ev(1))
    await rec.flush()
    expect(f.written().length).toBe(1)
    rec.record(ev(2))
    await rec.close()
    expect(f.written().length).toBe(2)
  })
})

describe('a failing store', () => {
  test('waiters are told the event is not durable (store_unavailable), never answered as if it were', async () => {
    const f = fakeStore({ failing: true })
    const { rec } = harness(f.store)
    const held = rec.hold('req-f')
    const outcome = rec.record({ ...ev(1), requestId: 'req-f' }).then(
      () => 'durable',
      (e: { code?: string }) => e.code,
    )
    expect(await outcome).toBe('store_unavailable')
    expect(
      await held.durable().then(
        () => 'durable',
        (e: { code?: string }) => e.code,
      ),
    ).toBe('store_unavailable')
    held.release()
    // The event is still queued: once the store recovers it is written, and later events resolve.
    f.state.failing = false
    await rec.record(ev(2))
    expect(f.written().map((e) => e.action)).toEqual(['test.1', 'test.2'])
    await rec.close()
  })

  test('keeps events and writes them all, in order, once the store recovers', async () => {
    const f = fakeStore({ failing: true })
    const { rec, lines, value } = harness(f.store)
    for (let i = 0; i < 20; i++) void rec.record(ev(i))
    await rec.flush()
    expect(f.written()).toEqual([])
    expect(lines.some((l) => l.msg === 'audit write failed; will retry' && l.queued === 20)).toBe(true)
    expect(await value('stowage_audit_queue_length')).toBe(20)
    f.state.failing = false
    await Bun.sleep(1200)
    expect(f.written().map((e) => e.action)).toEqual(Array.from({ length: 20 }, (_, i) => `test.${i}`))
    expect(await value('stowage_audit_queue_length')).toBe(0)
    await rec.close()
  })

  test('beyond the queue bound events are shed with a counter and a log line, never silently', async () => {
    const f = fakeStore({ failing: true, delayMs: 1 })
    const { rec, lines, value } = harness(f.store)
    const extra = 25
    const outcomes = Array.from({ length: MAX_QUEUE + extra }, (_, i) => rec.record(ev(i)))
    expect(await value('stowage_audit_events_shed_total')).toBe(extra)
    expect(
      await outcomes.at(-1)!.then(
        () => 'durable',
        (e: { code?: string }) => e.code,
      ),
    ).toBe('store_unavailable')
    const shedLines = lines.filter((l) => l.msg === 'audit queue full; events shed')
    expect(shedLines.length).toBeGreaterThanOrEqual(1)
    expect(shedLines[0]!.level).toBe('error')
    // The store recovers: the queued events are all written, and the log accounts for every shed event.
    f.state.failing = false
    await rec.flush()
    expect(f.written().length).toBe(MAX_QUEUE)
    const logged = lines.filter((l) => l.msg === 'audit queue full; events shed').reduce((n, l) => n + (l.shed as number), 0)
    expect(logged).toBe(extra)
    await rec.close()
  })

  test('close() with a dead store sheds loudly instead of retrying forever', async () => {
    const f = fakeStore({ failing: true })
    const { rec, lines, value } = harness(f.store)
    for (let i = 0; i < 7; i++) void rec.record(ev(i))
    await rec.close()
    const calls = f.state.calls
    expect(await value('stowage_audit_events_shed_total')).toBe(7)
    expect(lines.some((l) => typeof l.msg === 'string' && l.msg.includes('shed') && l.shed === 7)).toBe(true)
    await Bun.sleep(1200)
    expect(f.state.calls).toBe(calls)
    expect(
      await rec.record(ev(99)).then(
        () => 'durable',
        (e: { code?: string }) => e.code,
      ),
    ).toBe('store_unavailable')
    expect(await value('stowage_audit_events_shed_total')).toBe(8)
  })
})
