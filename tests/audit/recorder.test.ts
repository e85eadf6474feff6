// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The batched recorder: writes happen off the request path in batches, a
 * failing store keeps events for a retry, and a full queue sheds events only
 * with a counter and a log line — never silently.
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
  const value = async (name: string): Promise<number> => ((await metrics.registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0)
  return { rec: createAuditRecorder(store, metrics, logger), lines, metrics, value }
}

const ev = (i: number): AuditEvent => ({ action: `test.${i}`, userId: 'u1', ip: '10.0.0.1' })

describe('batching off the request path', () => {
  test('record() does not touch the store; one batch is written shortly after', async () => {
    const f = fakeStore()
    const { rec, value } = harness(f.store)
    for (let i = 0; i < 10; i++) rec.record(ev(i))
    expect(f.state.calls).toBe(0)
    await Bun.sleep(200)
    expect(f.state.batches.length).toBe(1)
    expect(f.written().map((e) => e.action)).toEqual(Array.from({ length: 10 }, (_, i) => `test.${i}`))
    expect(await value('stowage_audit_events_written_total')).toBe(10)
    rec.close()
  })

  test('every event gets a timestamp when recorded, not when written', async () => {
    const f = fakeStore()
    const { rec } = harness(f.store)
    const before = Date.now()
    rec.record(ev(1))
    rec.record({ ...ev(2), ts: 1234 })
    await Bun.sleep(150)
    rec.flush()
    expect(f.written()[0]!.ts).toBeGreaterThanOrEqual(before)
    expect(f.written()[0]!.ts).toBeLessThanOrEqual(before + 50)
    expect(f.written()[1]!.ts).toBe(1234)
    rec.close()
  })

  test('a full batch is written without waiting for the timer', async () => {
    const f = fakeStore()
    const { rec } = harness(f.store)
    for (let i = 0; i < 256; i++) rec.record(ev(i))
    await Bun.sleep(5)
    expect(f.written().length).toBe(256)
    rec.close()
  })

  test('flush() and close() write synchronously', () => {
    const f = fakeStore()
    const { rec } = harness(f.store)
    rec.record(ev(1))
    rec.flush()
    expect(f.written().length).toBe(1)
    rec.record(ev(2))
    rec.close()
    expect(f.written().length).toBe(2)
  })
})

describe('a failing store', () => {
  test('keeps events and writes them all, in order, once the store recovers', async () => {
    const f = fakeStore({ failing: true })
    const { rec, lines, value } = harness(f.store)
    for (let i = 0; i < 20; i++) rec.record(ev(i))
    rec.flush()
    expect(f.written()).toEqual([])
    expect(lines.some((l) => l.msg === 'audit write failed; will retry' && l.queued === 20)).toBe(true)
    expect(await value('stowage_audit_queue_length')).toBe(20)
    f.state.failing = false
    await Bun.sleep(1200)
    expect(f.written().map((e) => e.action)).toEqual(Array.from({ length: 20 }, (_, i) => `test.${i}`))
    expect(await value('stowage_audit_queue_length')).toBe(0)
    rec.close()
  })

  test('beyond the queue bound events are shed with a counter and a log line, never silently', async () => {
    const f = fakeStore({ failing: true, delayMs: 1 })
    const { rec, lines, value } = harness(f.store)
    const extra = 25
    for (let i = 0; i < MAX_QUEUE + extra; i++) rec.record(ev(i))
    expect(await value('stowage_audit_events_shed_total')).toBe(extra)
    const shedLines = lines.filter((l) => l.msg === 'audit queue full; events shed')
    expect(shedLines.length).toBeGreaterThanOrEqual(1)
    expect(shedLines[0]!.level).toBe('error')
    // The store recovers: the queued events are all written, and the log accounts for every shed event.
    f.state.failing = false
    rec.flush()
    expect(f.written().length).toBe(MAX_QUEUE)
    const logged = lines.filter((l) => l.msg === 'audit queue full; events shed').reduce((n, l) => n + (l.shed as number), 0)
    expect(logged).toBe(extra)
    rec.close()
  })

  test('close() with a dead store sheds loudly instead of retrying forever', async () => {
    const f = fakeStore({ failing: true })
    const { rec, lines, value } = harness(f.store)
    for (let i = 0; i < 7; i++) rec.record(ev(i))
    rec.close()
    const calls = f.state.calls
    expect(await value('stowage_audit_events_shed_total')).toBe(7)
    expect(lines.some((l) => typeof l.msg === 'string' && l.msg.includes('shed') && l.shed === 7)).toBe(true)
    await Bun.sleep(1200)
    expect(f.state.calls).toBe(calls)
    rec.record(ev(99))
    expect(await value('stowage_audit_events_shed_total')).toBe(8)
  })
})
