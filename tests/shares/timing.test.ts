// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Unknown codes cost the same as real ones: every public request hashes the
 * code and makes one indexed lookup by hash, so a random code, a code one
 * character away from a real one, and a real (revoked) share answer in the
 * same time. Measured like tests/auth/timing.test.ts: interleaved rounds,
 * compared by median (the two unknown kinds within ±50 % of each other, the
 * real share within 0.25 ms of them).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { randomToken } from '../../src/lib/crypto.ts'
import { makeShare, shareEnv, type Env } from './fixture.ts'

let e: Env
let real: string
let revoked: string
beforeAll(async () => {
  e = await shareEnv('fs')
  await e.put('t.txt', 'timing')
  real = (await makeShare(e, { key: 't.txt' })).code
  const r = await makeShare(e, { key: 't.txt' })
  await e.t.call('DELETE', `/api/shares/${r.id}`, { as: e.user })
  revoked = r.code
})
afterAll(() => e.close())

test('the lookup is one indexed search on the code hash', async () => {
  if (e.t.s.db.dialect === 'sqlite') {
    const plan = await e.t.s.db.all<{ detail: string }>('EXPLAIN QUERY PLAN SELECT * FROM shares WHERE code_hash = ?', ['x'])
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING INDEX sqlite_autoindex_shares/)
  } else {
    // A planner may scan a tiny table; what must hold is the unique index it uses once the table is not tiny.
    const indexes = await e.t.s.db.all<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE tablename = 'shares'")
    expect(indexes.map((i) => i.indexdef).join('\n')).toMatch(/UNIQUE INDEX \S+ ON public\.shares USING btree \(code_hash\)/)
  }
})

test('random codes, near misses of a real code and a real revoked share take the same time', async () => {
  const nearMiss = (): string => real.slice(0, 19) + (real[19] === 'a' ? 'b' : 'a')
  const kinds: Record<string, { code: () => string; status: number }> = {
    random: { code: () => randomToken(12), status: 404 },
    nearMiss: { code: nearMiss, status: 404 },
    revoked: { code: () => revoked, status: 410 },
  }
  const once = async (code: string): Promise<{ ms: number; status: number }> => {
    const started = performance.now()
    const res = await e.t.call('GET', `/s/${code}/info`)
    const ms = performance.now() - started
    await res.arrayBuffer()
    return { ms, status: res.status }
  }
  for (const k of Object.values(kinds)) for (let i = 0; i < 20; i++) await once(k.code())
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]))
  for (let round = 0; round < 500; round++) {
    for (const [name, k] of Object.entries(kinds)) {
      const r = await once(k.code())
      expect(r.status).toBe(k.status)
      samples[name]!.push(r.ms)
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const base = median(samples.random!)
  // Two unknown codes answer identically, so any gap between them would be a leak: hold them to ±50 %.
  const ratio = median(samples.nearMiss!) / base
  if (ratio < 0.67 || ratio > 1.5)
    throw new Error(`a near miss takes ${ratio.toFixed(2)}× a random code (${median(samples.nearMiss!).toFixed(3)} ms vs ${base.toFixed(3)} ms)`)
  // A real share answers with another status anyway; its extra work must still stay far below network jitter.
  const gap = Math.abs(median(samples.revoked!) - base)
  if (gap > 0.25) throw new Error(`a real share takes ${gap.toFixed(3)} ms longer than an unknown code`)
}, 60_000)
