// SPDX-License-Identifier: AGPL-3.0-or-later
/** The admin dashboard: request statistics and storage figures. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { createRequestStats, backendOf } from '../../src/dashboard/stats.ts'
import type { Client } from '../helpers/app.ts'
import { KINDS, storageApp, type StorageApp } from '../quotas/storage-fixture.ts'

// RGW shares the machine with other suites; a busy moment must not fail a test on Bun's 5 s default.
setDefaultTimeout(20_000)

type Dashboard = {
  requests: {
    total_24h: number
    errors_24h: number
    refusals_24h: number
    hourly: Array<{ unix_hour: number; requests: number; errors: number; refusals: number }>
    by_backend: Record<string, number>
    recent_errors: Array<Record<string, unknown>>
  }
  storage: {
    by_backend: Array<{ backend_id: string; bytes: number; objects: number; buckets: number }>
    top_buckets: Array<{ backend_id: string; bucket: string; bytes: number; objects: number }>
    scan_interval_seconds: number
    oldest_count_at?: string
  }
}

const DOWN = { id: 'down', type: 's3', endpoint: 'http://127.0.0.1:1', access_key_env: 'DOWN_AK', secret_key_env: 'DOWN_SK', path_style: true }

describe.each(KINDS)('admin dashboard with %s', (kind) => {
  let app: StorageApp
  let admin: Client
  let user: Client

  beforeAll(async () => {
    app = await storageApp(kind, { extraBackends: [DOWN], env: { DOWN_AK: 'a', DOWN_SK: 'b' } })
    admin = await app.t.user('admin')
    user = await app.t.user('user')
  })
  afterAll(() => app.cleanup())

  const dashboard = async (): Promise<Dashboard> => {
    const res = await app.t.call('GET', '/api/admin/dashboard', { as: admin })
    expect(res.status).toBe(200)
    return (await res.json()) as Dashboard
  }

  test('counts /api requests per hour and per backend, and keeps 5xx with route templates', async () => {
    const before = await dashboard()
    const b = await app.bucket('dash')
    await app.t.call('GET', '/healthz')
    await app.t.call('GET', `${app.base(b)}/size-tracking`, { as: user })
    await app.t.call('GET', `${app.base(b)}/prefix-size?prefix=secret/key/`, { as: user })
    const failed = await app.t.call('GET', '/api/backends/down/buckets/some-bucket/prefix-size?prefix=private/', { as: user })
    expect(failed.status).toBe(503)
    await app.t.call('GET', '/api/backends/made-up/buckets/x/size-tracking', { as: user })

    const after = await dashboard()
    const r = after.requests
    // four calls above plus the dashboard read that produced `before`
    expect(r.total_24h - before.requests.total_24h).toBe(5)
    expect(r.errors_24h - before.requests.errors_24h).toBe(1)
    expect(r.hourly).toHaveLength(24)
    expect(r.hourly[23]!.unix_hour).toBe(Math.floor(Date.now() / 3_600_000))
    expect(r.hourly[0]!.unix_hour).toBe(r.hourly[23]!.unix_hour - 23)
    expect(r.hourly[23]!.requests).toBeGreaterThanOrEqual(5)
    expect(r.by_backend[app.bid]! - (before.requests.by_backend[app.bid] ?? 0)).toBe(2)
    expect(r.by_backend.down! - (before.requests.by_backend.down ?? 0)).toBe(1)
    expect(r.by_backend['made-up']).toBeUndefined()
    expect(r.recent_errors[0]).toMatchObject({
      path: '/api/backends/:bid/buckets/:bucket/prefix-size',
      method: 'GET',
      status: 503,
      kind: 'fault',
      code: 'backend_unavailable',
      user_id: user.userId,
      backend: 'down',
    })
    expect(Date.parse(r.recent_errors[0]!.when as string)).toBeGreaterThan(Date.now() - 60_000)
    expect(JSON.stringify(after)).not.toContain('private/')
  })

  test('storage covers every counted bucket, not only buckets with quotas', async () => {
    const [small, big] = [await app.bucket('dash-s'), await app.bucket('dash-b')]
    await app.put(small, 'a', 'x'.repeat(10))
    await app.put(big, 'a', 'x'.repeat(500))
    await app.put(big, 'b', 'x'.repeat(500))
    await app.t.call('PUT', `${app.base(small)}/quota`, { as: admin, json: { hard_bytes: 1_000_000 } })
    for (const b of [small, big]) expect((await app.t.call('POST', `${app.base(b)}/quota/recompute`, { as: admin })).status).toBe(200)

    const s = (await dashboard()).storage
    const mine = s.by_backend.find((x) => x.backend_id === app.bid)!
    expect(mine.bytes).toBeGreaterThanOrEqual(1010)
    expect(mine.buckets).toBeGreaterThanOrEqual(2)
    expect(s.by_backend.find((x) => x.backend_id === 'down')).toEqual({ backend_id: 'down', bytes: 0, objects: 0, buckets: 0 })
    expect(s.top_buckets.length).toBeLessThanOrEqual(10)
    expect(s.top_buckets).toContainEqual({ backend_id: app.bid, bucket: big, bytes: 1000, objects: 2 })
    expect(s.top_buckets).toContainEqual({ backend_id: app.bid, bucket: small, bytes: 10, objects: 1 })
    expect(s.top_buckets.findIndex((x) => x.bucket === big)).toBeLessThan(s.top_buckets.findIndex((x) => x.bucket === small))
    // Figures, not sentences: the page words them and shows the time in the reader's locale.
    expect(s.scan_interval_seconds).toBe(0)
    expect(Date.parse(s.oldest_count_at!)).toBeGreaterThan(Date.now() - 600_000)
  })

  test('a full quota (507) or an operation the backend cannot do (501) is a refusal, not a server fault', async () => {
    const before = (await dashboard()).requests
    const b = await app.bucket('dash-q')
    await app.t.call('PUT', `${app.base(b)}/quota`, { as: admin, json: { hard_bytes: 5 } })
    const upload = await app.t.call('POST', `${app.base(b)}/object?key=big`, {
      as: user,
      body: 'x'.repeat(50),
      headers: { 'content-type': 'text/plain', 'content-length': '50' },
    })
    expect(upload.status).toBe(507)
    const unsupported = await app.t.call('GET', `${app.base(b)}/object/versions?key=k`, { as: user })
    const after = (await dashboard()).requests
    const refusals = unsupported.status === 501 ? 2 : 1
    expect(after.refusals_24h - before.refusals_24h).toBe(refusals)
    expect(after.errors_24h - before.errors_24h).toBe(0)
    expect(after.recent_errors[0]).toMatchObject({ kind: 'refusal', status: unsupported.status === 501 ? 501 : 507 })
    expect(after.recent_errors.find((e) => e.status === 507)).toMatchObject({ kind: 'refusal', code: 'quota_exceeded' })
  })

  test('admin only', async () => {
    expect((await app.t.call('GET', '/api/admin/dashboard', { as: user })).status).toBe(403)
  })
})

describe('request statistics', () => {
  test('backendOf lines the path up with the template', () => {
    expect(backendOf('/api/backends/:bid/buckets/:bucket/quota', '/api/backends/local/buckets/b/quota')).toBe('local')
    expect(backendOf('/api/admin/backends/:bid', '/api/admin/backends/my%2Did')).toBe('my-id')
    expect(backendOf('/api/me/pins/:bid/:bucket', '/api/me/pins/rgw/x')).toBe('rgw')
    expect(backendOf('/api/search', '/api/search')).toBeUndefined()
  })

  test('hours roll over and only the last 24 count; recent errors stop at 50', () => {
    let now = Date.UTC(2026, 0, 1, 0, 30)
    const stats = createRequestStats({ now: () => now, isBackend: (id) => id === 'b1' })
    const hit = (status: number) => stats.record({ method: 'GET', route: '/api/backends/:bid', pathname: '/api/backends/b1', status, at: now })
    hit(200)
    hit(500)
    stats.record({ method: 'GET', route: '/healthz', pathname: '/healthz', status: 500, at: now })
    now += 3_600_000
    for (let i = 0; i < 60; i++) hit(502)
    let snap = stats.snapshot()
    expect(snap.total_24h).toBe(62)
    expect(snap.errors_24h).toBe(61)
    expect(snap.hourly.slice(-2).map((h) => [h.requests, h.errors])).toEqual([
      [2, 1],
      [60, 60],
    ])
    const other = createRequestStats({ now: () => now, isBackend: () => true })
    other.record({ method: 'PUT', route: '/api/backends/:bid', pathname: '/api/backends/b1', status: 507, code: 'quota_exceeded', at: now })
    other.record({ method: 'GET', route: '/api/backends/:bid', pathname: '/api/backends/b1', status: 503, code: 'backend_unavailable', at: now })
    expect(other.snapshot()).toMatchObject({ errors_24h: 1, refusals_24h: 1 })
    expect(other.snapshot().recent_errors.map((e) => e.kind)).toEqual(['fault', 'refusal'])
    expect(snap.recent_errors).toHaveLength(50)
    expect(snap.by_backend).toEqual({ b1: 62 })
    now += 23 * 3_600_000
    snap = stats.snapshot()
    expect(snap.total_24h).toBe(60)
    expect(snap.by_backend).toEqual({ b1: 60 })
    now += 3_600_000
    snap = stats.snapshot()
    expect(snap.total_24h).toBe(0)
    expect(snap.recent_errors).toEqual([])
  })
})
