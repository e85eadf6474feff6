// SPDX-License-Identifier: AGPL-3.0-or-later
/** Quota routes and `StorageAccounting`, against the fs driver and the real RGW. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { AppError } from '../../src/http/errors.ts'
import { errorCode, type Client } from '../helpers/app.ts'
import { auditOf } from './audit-rows.ts'
import { KINDS, storageApp, type StorageApp } from './storage-fixture.ts'

// RGW shares the machine with other suites; a busy moment must not fail a test on Bun's 5 s default.
setDefaultTimeout(20_000)

describe.each(KINDS)('quotas on %s', (kind) => {
  let app: StorageApp
  let admin: Client
  let reader: Client

  beforeAll(async () => {
    app = await storageApp(kind)
    admin = await app.t.user('admin')
    reader = await app.t.user('readonly')
  })
  afterAll(() => app.cleanup())

  const call = (method: string, path: string, json?: unknown, as = admin) => app.t.call(method, path, { as, json })

  test('a bucket without a quota reports configured false', async () => {
    const b = await app.bucket('q-none')
    const res = await call('GET', `${app.base(b)}/quota`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ configured: false, has_usage: false })
  })

  test('invalid quotas are 400 invalid_quota', async () => {
    const b = await app.bucket('q-bad')
    for (const body of [{ soft_bytes: -1, hard_bytes: 10 }, { hard_bytes: -5 }, {}, { soft_bytes: 0, hard_bytes: 0 }, { soft_bytes: 20, hard_bytes: 10 }]) {
      const res = await call('PUT', `${app.base(b)}/quota`, body)
      expect(res.status).toBe(400)
      expect(await errorCode(res)).toBe('invalid_quota')
    }
  })

  test('a quota on a missing bucket is 404, on a bad name 400, on an unknown backend 404', async () => {
    expect((await call('PUT', `${app.base('no-such-bucket-q1')}/quota`, { hard_bytes: 10 })).status).toBe(404)
    const bad = await call('PUT', `${app.base('Bad_Name')}/quota`, { hard_bytes: 10 })
    expect(bad.status).toBe(400)
    expect(await errorCode(bad)).toBe('invalid_bucket_name')
    expect((await call('GET', '/api/backends/nope/buckets/abc/quota')).status).toBe(404)
  })

  test('set, read (any role), delete; audited', async () => {
    const b = await app.bucket('q-set')
    const put = await call('PUT', `${app.base(b)}/quota`, { soft_bytes: 100, hard_bytes: 1000 })
    expect(put.status).toBe(200)
    const dto = (await put.json()) as Record<string, unknown>
    expect(dto).toMatchObject({ configured: true, soft_bytes: 100, hard_bytes: 1000, updated_by: admin.userId })
    expect(typeof dto.updated_at).toBe('string')

    const asReader = await call('GET', `${app.base(b)}/quota`, undefined, reader)
    expect(asReader.status).toBe(200)
    expect(await asReader.json()).toMatchObject({ configured: true, soft_bytes: 100, hard_bytes: 1000 })
    expect((await call('PUT', `${app.base(b)}/quota`, { hard_bytes: 1 }, reader)).status).toBe(403)

    const del = await call('DELETE', `${app.base(b)}/quota`)
    expect(del.status).toBe(204)
    expect(await (await call('GET', `${app.base(b)}/quota`)).json()).toMatchObject({ configured: false })

    const events = (await auditOf(app.t, b)).map((e) => [e.action, e.backend_id, e.user_id, e.detail])
    expect(events).toEqual([
      ['quota.set', app.bid, admin.userId, { soft_bytes: 100, hard_bytes: 1000 }],
      ['quota.delete', app.bid, admin.userId, null],
    ])
  })

  test('a soft-only quota never blocks writes', async () => {
    const b = await app.bucket('q-soft')
    await call('PUT', `${app.base(b)}/quota`, { soft_bytes: 1 })
    expect(await app.t.s.accounting.hasHardCap(app.bid, b)).toBe(false)
    await app.t.s.accounting.assertCanWrite(app.bid, b, 10_000)
  })

  test('writeTerms: the hard cap, and whether usage is kept (a cap or size tracking)', async () => {
    const acc = app.t.s.accounting
    const b = await app.bucket('q-terms')
    expect(await acc.writeTerms(app.bid, b)).toEqual({ hardBytes: 0, counted: true })
    expect((await call('PUT', `${app.base(b)}/size-tracking`, { enabled: false })).status).toBe(200)
    expect(await acc.writeTerms(app.bid, b)).toEqual({ hardBytes: 0, counted: false })
    await call('PUT', `${app.base(b)}/quota`, { soft_bytes: 5 })
    expect(await acc.writeTerms(app.bid, b)).toEqual({ hardBytes: 0, counted: false })
    await call('PUT', `${app.base(b)}/quota`, { hard_bytes: 700 })
    expect(await acc.writeTerms(app.bid, b)).toEqual({ hardBytes: 700, counted: true })
  })

  test('recompute counts what is in the bucket now', async () => {
    const b = await app.bucket('q-recount')
    await app.put(b, 'a.txt', 'x'.repeat(100))
    await app.put(b, 'dir/b.txt', 'y'.repeat(50))
    const res = await call('POST', `${app.base(b)}/quota/recompute`)
    expect(res.status).toBe(200)
    const dto = (await res.json()) as Record<string, unknown>
    expect(dto).toMatchObject({ configured: false, has_usage: true, usage_bytes: 150, object_count: 2 })
    expect(typeof dto.computed_at).toBe('string')
    expect((await call('POST', `${app.base('no-such-bucket-q2')}/quota/recompute`)).status).toBe(404)
  })

  test('recountLater counts a kept bucket again after a change behind Stowage (a lifecycle pass), and leaves an untracked one uncounted', async () => {
    const b = await app.bucket('q-outside')
    await app.put(b, 'a.txt', 'x'.repeat(100))
    await app.put(b, 'b.txt', 'y'.repeat(50))
    expect((await call('PUT', `${app.base(b)}/quota`, { soft_bytes: 0, hard_bytes: 10_000 })).status).toBe(200)
    await call('POST', `${app.base(b)}/quota/recompute`)
    await app.backend().deleteObject(b, 'a.txt')
    app.t.s.accounting.recountLater(app.bid, b)
    const usage = async (bucket: string): Promise<unknown> =>
      ((await (await call('GET', `${app.base(bucket)}/quota`)).json()) as { usage_bytes?: number }).usage_bytes
    for (let i = 0; i < 100 && (await usage(b)) !== 50; i++) await Bun.sleep(20)
    expect(await usage(b)).toBe(50)
    const untracked = await app.bucket('q-outside-untracked')
    expect((await call('PUT', `${app.base(untracked)}/size-tracking`, { enabled: false })).status).toBe(200)
    await app.put(untracked, 'a.txt', 'x')
    app.t.s.accounting.recountLater(app.bid, untracked)
    await Bun.sleep(200)
    expect(await (await call('GET', `${app.base(untracked)}/quota`)).json()).toEqual({ configured: false, has_usage: false })
  })

  test('assertCanWrite: 507 quota_exceeded past the hard cap, counting first when usage is unknown', async () => {
    const b = await app.bucket('q-hard')
    await app.put(b, 'seed.bin', new Uint8Array(600))
    await call('PUT', `${app.base(b)}/quota`, { hard_bytes: 1000 })
    const acc = app.t.s.accounting
    expect(await acc.hasHardCap(app.bid, b)).toBe(true)
    await acc.assertCanWrite(app.bid, b, 400)
    expect((await acc.store.usage(app.bid, b))?.bytes).toBe(600)
    const err = await acc.assertCanWrite(app.bid, b, 401).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AppError)
    expect((err as AppError).status).toBe(507)
    expect((err as AppError).code).toBe('quota_exceeded')
    expect((err as AppError).detail).toEqual({ used: 600, adding: 401, hard: 1000 })
    // An overwrite counts only its growth.
    await acc.assertCanWrite(app.bid, b, 900, { replacing: 600 })
  })

  test('adjust applies writes and deletes at once', async () => {
    const b = await app.bucket('q-adjust')
    await app.put(b, 'one', 'x'.repeat(10))
    await call('POST', `${app.base(b)}/quota/recompute`)
    const acc = app.t.s.accounting
    await acc.adjust(app.bid, b, 90, 1)
    expect(await acc.store.usage(app.bid, b)).toMatchObject({ bytes: 100, objects: 2 })
    await acc.adjust(app.bid, b, -100, -2)
    expect(await acc.bucketSize(app.bid, b)).toMatchObject({ size_tracked: true, size_bytes: 0, object_count: 0 })
    await acc.adjust(app.bid, b, -5, -1)
    expect(await acc.store.usage(app.bid, b)).toMatchObject({ bytes: 0, objects: 0 })
  })

  test('crossing the soft cap is audited once per crossing', async () => {
    const b = await app.bucket('q-cross')
    await call('PUT', `${app.base(b)}/quota`, { soft_bytes: 100, hard_bytes: 1000 })
    await call('POST', `${app.base(b)}/quota/recompute`)
    const acc = app.t.s.accounting
    await acc.adjust(app.bid, b, 60, 1)
    await acc.adjust(app.bid, b, 60, 1)
    await acc.adjust(app.bid, b, 60, 1)
    expect((await auditOf(app.t, b, 'quota.soft_exceeded')).map((e) => e.detail)).toEqual([{ used: 120, soft_bytes: 100, hard_bytes: 1000 }])
    await acc.adjust(app.bid, b, -170, -3)
    await acc.adjust(app.bid, b, 200, 1)
    expect(await auditOf(app.t, b, 'quota.soft_exceeded')).toHaveLength(2)
  })

  test('lowering the soft cap below current usage is a crossing', async () => {
    const b = await app.bucket('q-lower')
    await app.put(b, 'big', new Uint8Array(500))
    await call('PUT', `${app.base(b)}/quota`, { soft_bytes: 1000 })
    await call('POST', `${app.base(b)}/quota/recompute`)
    expect(await auditOf(app.t, b, 'quota.soft_exceeded')).toHaveLength(0)
    await call('PUT', `${app.base(b)}/quota`, { soft_bytes: 400 })
    expect(await auditOf(app.t, b, 'quota.soft_exceeded')).toHaveLength(1)
  })

  test('forget drops quota, usage and size tracking of a deleted bucket', async () => {
    const b = await app.bucket('q-forget')
    await call('PUT', `${app.base(b)}/quota`, { hard_bytes: 100 })
    await call('POST', `${app.base(b)}/quota/recompute`)
    await call('PUT', `${app.base(b)}/size-tracking`, { enabled: false })
    await app.t.s.accounting.forget(app.bid, b)
    expect(await (await call('GET', `${app.base(b)}/quota`)).json()).toEqual({ configured: false, has_usage: false })
    expect(await (await call('GET', `${app.base(b)}/size-tracking`)).json()).toEqual({ enabled: true })
  })
})
