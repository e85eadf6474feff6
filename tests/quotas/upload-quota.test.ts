// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Quotas through the real write routes: uploads past the hard cap are 507,
 * overwrites count only their growth, deletes lower usage at once, and the
 * bucket list shows the figures.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Client } from '../helpers/app.ts'
import { auditOf } from './audit-rows.ts'
import { KINDS, storageApp, type StorageApp } from './storage-fixture.ts'

// RGW shares the machine with other suites; a busy moment must not fail a test on Bun's 5 s default.
setDefaultTimeout(20_000)

describe.each(KINDS)('quota on the write routes of %s', (kind) => {
  let app: StorageApp
  let admin: Client
  let user: Client

  beforeAll(async () => {
    app = await storageApp(kind)
    admin = await app.t.user('admin')
    user = await app.t.user('user')
  })
  afterAll(() => app.cleanup())

  const upload = (bucket: string, key: string, size: number) =>
    app.t.call('POST', `${app.base(bucket)}/object?key=${encodeURIComponent(key)}`, {
      as: user,
      body: new Uint8Array(size),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    })
  const quota = async (bucket: string) => (await (await app.t.call('GET', `${app.base(bucket)}/quota`, { as: user })).json()) as Record<string, unknown>

  test('507 past the hard cap, overwrite counts growth only, delete lowers usage at once', async () => {
    const b = await app.bucket('up-quota')
    expect((await app.t.call('PUT', `${app.base(b)}/quota`, { as: admin, json: { soft_bytes: 50, hard_bytes: 100 } })).status).toBe(200)

    expect((await upload(b, 'a.bin', 60)).status).toBe(201)
    expect(await quota(b)).toMatchObject({ usage_bytes: 60, object_count: 1 })

    const refused = await upload(b, 'b.bin', 50)
    expect(refused.status).toBe(507)
    expect(await refused.json()).toMatchObject({ error: { code: 'quota_exceeded', detail: { used: 60, adding: 50, hard: 100 } } })
    expect((await app.t.call('GET', `${app.base(b)}/object/info?key=b.bin`, { as: user })).status).toBe(404)

    expect((await upload(b, 'a.bin', 90)).status).toBe(201)
    expect(await quota(b)).toMatchObject({ usage_bytes: 90, object_count: 1 })

    expect((await app.t.call('DELETE', `${app.base(b)}/object?key=a.bin`, { as: user })).status).toBe(204)
    expect(await quota(b)).toMatchObject({ usage_bytes: 0, object_count: 0 })
    expect((await upload(b, 'b.bin', 100)).status).toBe(201)

    expect((await auditOf(app.t, b, 'quota.soft_exceeded')).map((e) => e.detail)).toEqual([
      { used: 60, soft_bytes: 50, hard_bytes: 100 },
      { used: 100, soft_bytes: 50, hard_bytes: 100 },
    ])
  })

  test('the bucket list carries the tracked size and the quota limits', async () => {
    const b = await app.bucket('up-list')
    await app.t.call('POST', `${app.base(b)}/quota/recompute`, { as: admin })
    expect((await upload(b, 'x', 42)).status).toBe(201)
    const list = (await (await app.t.call('GET', `/api/backends/${app.bid}/buckets`, { as: user })).json()) as { buckets: Array<Record<string, unknown>> }
    expect(list.buckets.find((x) => x.name === b)).toMatchObject({ size_tracked: true, size_bytes: 42, object_count: 1 })
    expect(list.buckets.find((x) => x.name === b)).not.toHaveProperty('quota_soft_bytes')

    // With a quota, the list carries its limits, so it can say the bucket is over them.
    expect((await app.t.call('PUT', `${app.base(b)}/quota`, { as: admin, json: { soft_bytes: 10, hard_bytes: 1000 } })).status).toBeLessThan(300)
    const again = (await (await app.t.call('GET', `/api/backends/${app.bid}/buckets`, { as: user })).json()) as { buckets: Array<Record<string, unknown>> }
    expect(again.buckets.find((x) => x.name === b)).toMatchObject({ size_bytes: 42, quota_soft_bytes: 10, quota_hard_bytes: 1000 })
  })
})
