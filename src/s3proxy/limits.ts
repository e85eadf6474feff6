// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Request-rate limits of the proxy: one global bucket (checked before the
 * signature is, so a flood is shed cheaply), one per access key, and one per
 * client IP for each anonymous binding. Token buckets allow a burst of 2×rate+1.
 * The keyed maps are bounded; the least recently used key is evicted first,
 * which errs toward letting a request through rather than growing memory.
 */
import { rateLimitKey } from '../lib/cidr.ts'
import { TokenBucket, type LimitResult } from '../lib/rate-limit.ts'

const MAX_KEYS = 100_000

class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>()

  take(key: string, rate: number, now: number): LimitResult {
    if (rate <= 0) return { ok: true }
    let b = this.buckets.get(key)
    if (b) {
      this.buckets.delete(key)
    } else {
      if (this.buckets.size >= MAX_KEYS) this.buckets.delete(this.buckets.keys().next().value!)
      b = new TokenBucket(rate, 2 * rate + 1, now)
    }
    this.buckets.set(key, b)
    return b.take(now)
  }
}

export type Limits = ReturnType<typeof createLimits>

export function createLimits(o: { globalRps: number; perKeyRps: number }) {
  const global = new TokenBucket(o.globalRps, 2 * o.globalRps + 1)
  const perKey = new KeyedBuckets()
  const perIp = new KeyedBuckets()
  return {
    global: (now: number): LimitResult => global.take(now),
    key: (accessKey: string, now: number): LimitResult => perKey.take(accessKey, o.perKeyRps, now),
    /** Per client IP within one anonymous binding (a rate changed on the binding applies to IPs seen after). */
    anonymous: (bucket: string, ip: string, rps: number, now: number): LimitResult => perIp.take(`${bucket}\u0000${rateLimitKey(ip)}\u0000${rps}`, rps, now),
  }
}
