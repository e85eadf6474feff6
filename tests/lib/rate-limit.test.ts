// SPDX-License-Identifier: AGPL-3.0-or-later
import { expect, test } from 'bun:test'
import { SlidingWindowLimiter, TokenBucket } from '../../src/lib/rate-limit.ts'

const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000)

test('hit allows `limit` events per window, then refuses with Retry-After', () => {
  const l = new SlidingWindowLimiter(3, 60_000)
  for (let i = 0; i < 3; i++) expect(l.hit('a', T0 + i).ok).toBe(true)
  const r = l.hit('a', T0 + 10_000)
  expect(r.ok).toBe(false)
  expect(!r.ok && r.retryAfterSeconds).toBe(50)
  expect(l.hit('b', T0 + 10_000).ok).toBe(true)
})

test('the previous window still weighs in (sliding, not fixed)', () => {
  const l = new SlidingWindowLimiter(4, 60_000)
  for (let i = 0; i < 4; i++) l.hit('k', T0 + 59_000)
  // Just after the boundary almost the whole previous window still counts (4 × 0.99 ≈ 3.97):
  // a fixed window would allow 4 more here, the sliding one only 1.
  expect(l.hit('k', T0 + 60_500).ok).toBe(true)
  expect(l.hit('k', T0 + 60_500).ok).toBe(false)
  // Two windows later it is forgotten.
  expect(l.hit('k', T0 + 180_000).ok).toBe(true)
})

test('record counts without refusing, and check does not count', () => {
  const l = new SlidingWindowLimiter(2, 60_000)
  expect(l.check('ip', T0).ok).toBe(true)
  l.record('ip', T0)
  l.record('ip', T0)
  l.record('ip', T0)
  expect(l.check('ip', T0).ok).toBe(false)
  expect(l.check('ip', T0).ok).toBe(false)
  l.reset('ip')
  expect(l.check('ip', T0).ok).toBe(true)
})

test('release gives back a counted event', () => {
  const l = new SlidingWindowLimiter(2, 60_000)
  expect(l.hit('k', T0).ok).toBe(true)
  expect(l.hit('k', T0).ok).toBe(true)
  expect(l.hit('k', T0).ok).toBe(false)
  l.release('k', T0)
  expect(l.hit('k', T0).ok).toBe(true)
  l.release('nobody', T0)
  expect(l.check('nobody', T0).ok).toBe(true)
})

test('a zero limit disables the limiter', () => {
  const l = new SlidingWindowLimiter(0, 60_000)
  for (let i = 0; i < 1000; i++) expect(l.hit('x', T0).ok).toBe(true)
})

test('memory stays bounded: the oldest keys are evicted', () => {
  const l = new SlidingWindowLimiter(1, 60_000, 10)
  l.hit('first', T0)
  expect(l.hit('first', T0).ok).toBe(false)
  for (let i = 0; i < 10; i++) l.hit(`k${i}`, T0)
  expect(l.hit('first', T0).ok).toBe(true)
})

test('token bucket refills at its rate up to its burst', () => {
  const b = new TokenBucket(2, 3, 0)
  for (let i = 0; i < 3; i++) expect(b.take(0).ok).toBe(true)
  const r = b.take(0)
  expect(r.ok).toBe(false)
  expect(!r.ok && r.retryAfterSeconds).toBe(1)
  expect(b.take(500).ok).toBe(true)
  expect(b.take(500).ok).toBe(false)
  expect(new TokenBucket(0, 0).take().ok).toBe(true)
})
