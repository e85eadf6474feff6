// SPDX-License-Identifier: AGPL-3.0-or-later
/** Latency statistics over the successful samples of one run. */

/** The p-quantile (0..1) of an ascending array by nearest rank at index round((n-1)·p); NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((sorted.length - 1) * p)))]!
}

export function median(xs: readonly number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    0.5,
  )
}

export type Summary = {
  /** Successful operations in the measured window. */
  ok: number
  errors: number
  seconds: number
  rps: number
  /** Milliseconds. */
  p50: number
  p99: number
  mean: number
  max: number
}

/** Summarises latencies in milliseconds (any order) measured over `seconds`. */
export function summarise(latenciesMs: number[], errors: number, seconds: number): Summary {
  const sorted = Float64Array.from(latenciesMs).sort()
  let sum = 0
  for (const v of sorted) sum += v
  return {
    ok: sorted.length,
    errors,
    seconds,
    rps: sorted.length / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  }
}
