// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A closed-loop load generator: `concurrency` workers each run `op` back to
 * back until the deadline. The first `warmupMs` are run but not counted (so
 * connection pools, JIT and upstream caches are warm); an operation counts
 * when it started inside the measured window. `op` throws to report an error;
 * errors are counted, the first one is kept, and the worker goes on.
 *
 * @example
 * const r = await runLoad({ concurrency: 16, durationMs: 10_000, warmupMs: 2_000, op: async () => {
 *   const res = await fetch(url)
 *   await res.arrayBuffer()
 *   if (res.status !== 200) throw new Error(`status ${res.status}`)
 * } })
 * console.log(r.summary.rps, r.summary.p99)
 */
import { summarise, type Summary } from './stats.ts'

export type OpContext = { worker: number; seq: number }

export type LoadOptions = {
  concurrency: number
  durationMs: number
  warmupMs: number
  op(ctx: OpContext): Promise<void>
}

export type LoadResult = { summary: Summary; firstError?: string }

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = []
  let errors = 0
  let firstError: string | undefined
  let seq = 0
  const measureFrom = performance.now() + o.warmupMs
  const end = measureFrom + o.durationMs
  const worker = async (id: number): Promise<void> => {
    for (;;) {
      const t0 = performance.now()
      if (t0 >= end) return
      const counted = t0 >= measureFrom
      try {
        await o.op({ worker: id, seq: seq++ })
        if (counted) latencies.push(performance.now() - t0)
      } catch (err) {
        if (!counted) continue
        errors++
        firstError ??= (err as Error)?.message ?? String(err)
      }
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, (_, i) => worker(i)))
  return { summary: summarise(latencies, errors, o.durationMs / 1000), ...(firstError ? { firstError } : {}) }
}

/** Throws unless `res` has the expected status; always consumes the body so the connection is reused. */
export async function expectStatus(res: Response, status: number): Promise<void> {
  if (res.status === status) {
    await res.arrayBuffer()
    return
  }
  const text = await res.text().catch(() => '')
  throw new Error(`status ${res.status} (wanted ${status}): ${text.slice(0, 200)}`)
}

/** expectStatus for set-up steps: the error says which step failed. */
export async function must(res: Response | Promise<Response>, status: number, what: string): Promise<void> {
  await expectStatus(await res, status).catch((err: Error) => {
    throw new Error(`${what}: ${err.message}`)
  })
}
