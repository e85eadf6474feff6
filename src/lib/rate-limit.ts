// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Sliding-window counter (two fixed windows, weighted) per key. Memory is
 * bounded: at most `maxKeys` keys are tracked; the oldest are evicted first,
 * which errs toward letting a request through rather than growing without end.
 */
export type LimitResult = { ok: true } | { ok: false; retryAfterSeconds: number }

type Entry = { windowStart: number; current: number; previous: number }

export class SlidingWindowLimiter {
  private readonly entries = new Map<string, Entry>()

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Counts one event for `key` and says whether it is within the limit. */
  hit(key: string, now = Date.now()): LimitResult {
    if (this.limit <= 0) return { ok: true }
    const e = this.roll(key, now)
    const weight = 1 - (now - e.windowStart) / this.windowMs
    const estimate = e.previous * weight + e.current
    if (estimate >= this.limit) return { ok: false, retryAfterSeconds: this.retryAfter(e, now) }
    e.current++
    return { ok: true }
  }

  /** Says whether `key` is over the limit without counting. */
  check(key: string, now = Date.now()): LimitResult {
    if (this.limit <= 0) return { ok: true }
    const e = this.entries.get(key)
    if (!e) return { ok: true }
    const rolled = this.roll(key, now)
    const estimate = rolled.previous * (1 - (now - rolled.windowStart) / this.windowMs) + rolled.current
    return estimate >= this.limit ? { ok: false, retryAfterSeconds: this.retryAfter(rolled, now) } : { ok: true }
  }

  /** Counts an event that already happened (e.g. a failed password) without refusing it. */
  record(key: string, now = Date.now()): void {
    if (this.limit <= 0) return
    this.roll(key, now).current++
  }

  /** Gives back one event counted by `hit` (e.g. an attempt that turned out to be a success). */
  release(key: string, now = Date.now()): void {
    if (this.limit <= 0) return
    const e = this.entries.get(key)
    if (!e) return
    this.roll(key, now)
    if (e.current > 0) e.current--
    else if (e.previous > 0) e.previous--
  }

  reset(key: string): void {
    this.entries.delete(key)
  }

  private roll(key: string, now: number): Entry {
    let e = this.entries.get(key)
    const start = now - (now % this.windowMs)
    if (!e) {
      if (this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value!)
      e = { windowStart: start, current: 0, previous: 0 }
      this.entries.set(key, e)
    } else if (e.windowStart !== start) {
      e.previous = start - e.windowStart === this.windowMs ? e.current : 0
      e.current = 0
      e.windowStart = start
    }
    return e
  }

  private retryAfter(e: Entry, now: number): number {
    return Math.max(1, Math.ceil((e.windowStart + this.windowMs - now) / 1000))
  }
}

/** Token bucket for requests-per-second limits (the S3 proxy). */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst
    this.last = now
  }

  take(now = Date.now()): LimitResult {
    if (this.rate <= 0) return { ok: true }
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
    if (this.tokens >= 1) {
      this.tokens -= 1
      return { ok: true }
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - this.tokens) / this.rate)) }
  }
}
