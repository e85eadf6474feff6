// SPDX-License-Identifier: AGPL-3.0-or-later
/** Size tracking switch and prefix sizes, against the fs driver and the real RGW. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Backend } from '../../src/backends/backend.ts'
import { silentLogger } from '../../src/lib/log.ts'
import { createSizeService } from '../../src/sizes/service.ts'
import { errorCode, type Client } from '../helpers/app.ts'
import { auditOf } from '../quotas/audit-rows.ts'
import { KINDS, storageApp, type StorageApp } from '../quotas/storage-fixture.ts'

// RGW shares the machine with other suites; a busy moment must not fail a test on Bun's 5 s default.
setDefaultTimeout(20_000)

/** Counts listing calls on the real driver instance (a spy, not a fake: calls still go to the backend). */
function countListings(backend: Backend): { calls(): number; restore(): void } {
  const original = backend.listObjects
  let n = 0
  ;(backend as { listObjects: Backend['listObjects'] }).listObjects = (...args) => {
    n++
    return original.apply(backend, args)
  }
  return { calls: () => n, restore: () => void ((backend as { listObjects: Backend['listObjects'] }).listObjects = original) }
}

describe.each(KINDS)('sizes on %s', (kind) => {
  let app: StorageApp
  let admin: Client
  let reader: Client

  beforeAll(async () => {
    app = await storageApp(kind)
    admin = await app.t.user('admin')
    reader = await app.t.user('readonly')
  })
  afterAll(() => app.cleanup())

  const get = (path: string, as = reader) => app.t.call('GET', path, { as })

  test('tracking is on by default; an admin switches it off and on (audited)', async () => {
    const b = await app.bucket('sz-trk')
    expect(await (await get(`${app.base(b)}/size-tracking`)).json()).toEqual({ enabled: true })
    const off = await app.t.call('PUT', `${app.base(b)}/size-tracking`, { as: admin, json: { enabled: false } })
    expect(off.status).toBe(200)
    const dto = (await off.json()) as Record<string, unknown>
    expect(dto).toMatchObject({ enabled: false, updated_by: admin.userId })
    expect(typeof dto.updated_at).toBe('string')
    expect(await (await get(`${app.base(b)}/size-tracking`)).json()).toEqual(dto)
    expect(await app.t.s.accounting.bucketSize(app.bid, b)).toEqual({ size_tracked: false })

    const refused = await get(`${app.base(b)}/prefix-size?prefix=a/`)
    expect(refused.status).toBe(409)
    expect(await errorCode(refused)).toBe('size_tracking_disabled')

    expect(await (await app.t.call('PUT', `${app.base(b)}/size-tracking`, { as: admin, json: { enabled: true } })).json()).toEqual({ enabled: true })
    expect((await auditOf(app.t, b, 'bucket.size_tracking.set')).map((e) => e.detail)).toEqual([{ enabled: false }, { enabled: true }])
  })

  test('switching tracking needs an existing bucket and admin', async () => {
    expect((await app.t.call('PUT', `${app.base('no-such-bucket-sz')}/size-tracking`, { as: admin, json: { enabled: false } })).status).toBe(404)
    const b = await app.bucket('sz-role')
    expect((await app.t.call('PUT', `${app.base(b)}/size-tracking`, { as: reader, json: { enabled: false } })).status).toBe(403)
  })

  test('prefix size sums the objects under a prefix', async () => {
    const b = await app.bucket('sz-sum')
    await app.put(b, 'a/1.txt', 'x'.repeat(10))
    await app.put(b, 'a/deep/2.txt', 'y'.repeat(20))
    await app.put(b, 'ab.txt', 'z')
    await app.put(b, 'b/3.txt', 'w'.repeat(5))
    const res = await get(`${app.base(b)}/prefix-size?prefix=a/`)
    expect(res.status).toBe(200)
    const dto = (await res.json()) as Record<string, unknown>
    expect(dto).toMatchObject({ bytes: 30, count: 2, prefix: 'a/', truncated: false })
    expect(Date.parse(dto.computed_at as string)).toBeGreaterThan(Date.now() - 60_000)
    expect(await (await get(`${app.base(b)}/prefix-size?prefix=nothing/`)).json()).toMatchObject({ bytes: 0, count: 0 })
    expect(await (await get(`${app.base(b)}/prefix-size`)).json()).toMatchObject({ bytes: 36, count: 4, prefix: '' })
  })

  test('answers are cached for 60 s, shared by concurrent requests, and dropped by writes through Stowage', async () => {
    const b = await app.bucket('sz-cache')
    await app.put(b, 'p/1', 'x'.repeat(7))
    const spy = countListings(app.backend())
    try {
      const [one, two] = await Promise.all([get(`${app.base(b)}/prefix-size?prefix=p/`), get(`${app.base(b)}/prefix-size?prefix=p/`)])
      const first = await one.json()
      expect(await two.json()).toEqual(first)
      expect(spy.calls()).toBe(1)

      await app.put(b, 'p/2', 'y'.repeat(3))
      expect(await (await get(`${app.base(b)}/prefix-size?prefix=p/`)).json()).toEqual(first)
      expect(spy.calls()).toBe(1)

      await app.t.s.accounting.adjust(app.bid, b, 3, 1)
      expect(await (await get(`${app.base(b)}/prefix-size?prefix=p/`)).json()).toMatchObject({ bytes: 10, count: 2 })
      expect(spy.calls()).toBe(2)
    } finally {
      spy.restore()
    }
  })

  test('the whole bucket comes from the usage table once counted', async () => {
    const b = await app.bucket('sz-whole')
    await app.put(b, 'k', 'x'.repeat(12))
    await app.t.call('POST', `${app.base(b)}/quota/recompute`, { as: admin })
    const u = (await app.t.s.accounting.store.usage(app.bid, b))!
    const spy = countListings(app.backend())
    try {
      const dto = await (await get(`${app.base(b)}/prefix-size?prefix=`)).json()
      expect(dto).toEqual({ bytes: 12, count: 1, prefix: '', computed_at: new Date(u.computed_at).toISOString(), truncated: false })
      expect(spy.calls()).toBe(0)
    } finally {
      spy.restore()
    }
  })

  test('past the object budget the answer is marked truncated', async () => {
    const b = await app.bucket('sz-budget')
    for (const k of ['t/1', 't/2', 't/3', 't/4', 't/5']) await app.put(b, k, 'ab')
    const sizes = createSizeService({
      registry: app.t.s.registry,
      accounting: app.t.s.accounting,
      audit: app.t.s.audit,
      logger: silentLogger,
      now: Date.now,
      budget: { ms: 60_000, objects: 2 },
    })
    expect(await sizes.prefixSize(app.bid, b, 't/')).toMatchObject({ bytes: 4, count: 2, truncated: true })
  })

  test('bad input is a 4xx', async () => {
    const b = await app.bucket('sz-bad')
    const ctl = await get(`${app.base(b)}/prefix-size?prefix=${encodeURIComponent('a\u0001/')}`)
    expect(ctl.status).toBe(400)
    expect(await errorCode(ctl)).toBe('invalid_prefix')
    expect(await errorCode(await get(`${app.base('Bad_Bucket')}/prefix-size`))).toBe('invalid_bucket_name')
    expect((await get('/api/backends/nope/buckets/abc/prefix-size')).status).toBe(404)
    expect((await get(`${app.base('no-such-bucket-sz2')}/prefix-size?prefix=a/`)).status).toBe(404)
  })
})
