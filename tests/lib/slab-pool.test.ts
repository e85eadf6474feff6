// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, test } from 'bun:test'
import { ptr } from 'bun:ffi'
import { SlabPool } from '../../src/lib/slab-pool.ts'

describe('SlabPool', () => {
  test('a given-back slab is handed out again, sized to the new request', () => {
    const pool = new SlabPool(1024, 2)
    const a = pool.take(100)
    expect(a.byteLength).toBe(100)
    pool.give(a)
    const b = pool.take(1024)
    expect(b.buffer).toBe(a.buffer)
    expect(b.byteLength).toBe(1024)
  })

  test('keeps at most `keep` slabs, never the same slab twice, and ignores foreign memory', () => {
    const pool = new SlabPool(64, 2)
    const [a, b, c] = [pool.take(1), pool.take(1), pool.take(1)]
    pool.give(a)
    pool.give(a)
    pool.give(new Uint8Array(64))
    pool.give(new Uint8Array(new ArrayBuffer(32)))
    pool.give(b)
    pool.give(c)
    const out = new Set([pool.take(1).buffer, pool.take(1).buffer, pool.take(1).buffer])
    expect(out.has(a.buffer)).toBe(true)
    expect(out.has(b.buffer)).toBe(true)
    expect(out.has(c.buffer)).toBe(false)
  })

  test('slabs start on the boundary asked for, given back or fresh', () => {
    // Ten thousand bytes come from the allocator on a 16-byte boundary, seldom on a page.
    const pool = new SlabPool(10_000, 4, 4096)
    const views = Array.from({ length: 8 }, (_, i) => pool.take(i === 0 ? 10_000 : 1 + i * 1000))
    for (const v of views) expect(ptr(v) % 4096).toBe(0)
    pool.give(views[1]!)
    const again = pool.take(10_000)
    expect(again.buffer).toBe(views[1]!.buffer)
    expect(ptr(again) % 4096).toBe(0)
    expect(again.byteLength).toBe(10_000)
  })

  test('refuses a request larger than a slab', () => {
    expect(() => new SlabPool(16, 1).take(17)).toThrow(RangeError)
  })
})
