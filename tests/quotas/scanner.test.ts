// SPDX-License-Identifier: AGPL-3.0-or-later
/** The background usage scanner: interval, selection, persistence, resilience. */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testApp } from '../helpers/app.ts'
import { freshStore } from '../helpers/store.ts'
import { testBucket, unreachableEndpoint } from '../helpers/s3.ts'
import { backendDoc, emptyAndDelete, eventually, KINDS, storageApp } from './storage-fixture.ts'

// RGW shares the machine with other suites; a busy moment must not fail a test on Bun's 5 s default.
setDefaultTimeout(20_000)

const REFUSED = { id: 'a-down', type: 's3', endpoint: 'http://127.0.0.1:1', access_key_env: 'DOWN_AK', secret_key_env: 'DOWN_SK', path_style: true }
const DOWN_ENV = { DOWN_AK: 'ak', DOWN_SK: 'sk' }

describe.each(KINDS)('scanner on %s', (kind) => {
  test('recounts every interval, picking up changes made outside Stowage', async () => {
    const app = await storageApp(kind, { doc: { quotas: { scan_interval: '300ms' } } })
    try {
      const b = await app.bucket('scan-int')
      await app.put(b, 'one', 'x'.repeat(10))
      await app.put(b, 'two', 'y'.repeat(20))
      const acc = app.t.s.accounting
      // Every 300 ms on an idle machine; the generous ceiling is for a whole suite's second pass on
      // PostgreSQL sharing two cores with RGW, where one scan once took longer than 10 s.
      await eventually(async () => ((await acc.store.usage(app.bid, b))?.objects === 2 ? true : undefined), 30_000)
      expect(await acc.bucketSize(app.bid, b)).toMatchObject({ size_tracked: true, size_bytes: 30, object_count: 2 })
      await app.put(b, 'three', 'z'.repeat(5))
      await eventually(async () => ((await acc.store.usage(app.bid, b))?.bytes === 35 ? true : undefined), 30_000)
    } finally {
      await app.cleanup()
    }
  }, 75_000)

  test('counts tracked buckets and quota buckets, skips opted-out ones, prunes deleted ones', async () => {
    const app = await storageApp(kind)
    try {
      const admin = await app.t.user('admin')
      const [tracked, optedOut, quotaOnly, gone] = (await Promise.all(['scan-trk', 'scan-off', 'scan-quo', 'scan-gone'].map((tag) => app.bucket(tag)))) as [
        string,
        string,
        string,
        string,
      ]
      for (const b of [tracked, optedOut, quotaOnly, gone]) await app.put(b, 'k', 'data')
      for (const b of [optedOut, quotaOnly])
        expect((await app.t.call('PUT', `${app.base(b)}/size-tracking`, { as: admin, json: { enabled: false } })).status).toBe(200)
      expect((await app.t.call('PUT', `${app.base(quotaOnly)}/quota`, { as: admin, json: { hard_bytes: 10_000 } })).status).toBe(200)
      const acc = app.t.s.accounting
      await acc.scanner.runNow()
      expect((await acc.store.usage(app.bid, tracked))?.bytes).toBe(4)
      expect((await acc.store.usage(app.bid, quotaOnly))?.bytes).toBe(4)
      expect(await acc.store.usage(app.bid, optedOut)).toBeNull()
      expect(await acc.bucketSize(app.bid, quotaOnly)).toEqual({ size_tracked: false, quota_hard_bytes: 10000 })

      expect(await acc.store.usage(app.bid, gone)).not.toBeNull()
      await emptyAndDelete(app.backend(), gone)
      const report = await acc.scanner.runNow()
      expect(await acc.store.usage(app.bid, gone)).toBeNull()
      expect(report.failed).toBe(0)
    } finally {
      await app.cleanup()
    }
  })

  test('usage survives a restart on the same database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stowage-restart-'))
    const b = backendDoc(kind)
    const store = await freshStore(dir)
    const doc = { quotas: { scan_interval: '0' }, backends: [b.doc] }
    const bid = b.doc.id as string
    const bucket = testBucket('restart')
    const first = await testApp(doc, { env: b.env, store })
    try {
      await first.s.registry.get(bid).createBucket(bucket)
      await first.s.registry.get(bid).putObject(bucket, 'k', new Blob(['12345']).stream(), { size: 5 })
      const admin = await first.user('admin')
      await first.call('PUT', `/api/backends/${bid}/buckets/${bucket}/quota`, { as: admin, json: { soft_bytes: 1, hard_bytes: 100 } })
      const counted = (await (await first.call('POST', `/api/backends/${bid}/buckets/${bucket}/quota/recompute`, { as: admin })).json()) as Record<
        string,
        unknown
      >
      await first.close()
      const second = await testApp(doc, { env: b.env, store })
      try {
        const again = await second.call('GET', `/api/backends/${bid}/buckets/${bucket}/quota`, { as: await second.user('admin', { username: 'admin-after' }) })
        expect(await again.json()).toEqual(counted)
        expect(counted).toMatchObject({ usage_bytes: 5, object_count: 1, hard_bytes: 100 })
        await emptyAndDelete(second.s.registry.get(bid), bucket)
      } finally {
        await second.close()
      }
    } finally {
      await store.drop()
      rmSync(dir, { recursive: true, force: true })
      if (b.root) rmSync(b.root, { recursive: true, force: true })
    }
  })
})

describe('scanner resilience', () => {
  const cleanups: Array<() => Promise<void> | void> = []
  afterAll(async () => {
    for (const c of cleanups) await c()
  })

  test('a down backend is skipped and the others are still counted', async () => {
    const app = await storageApp('fs', { extraBackends: [REFUSED], env: DOWN_ENV })
    cleanups.push(() => app.cleanup())
    const b = await app.bucket('scan-res')
    await app.put(b, 'k', 'abc')
    const report = await app.t.s.accounting.scanner.runNow()
    expect(report.skippedBackends).toEqual(['a-down'])
    expect((await app.t.s.accounting.store.usage('local', b))?.bytes).toBe(3)
  })

  test('start-up does not wait for the scan, even with a backend that never answers', async () => {
    const hole = await unreachableEndpoint()
    cleanups.push(() => hole.stop())
    const started = performance.now()
    const app = await storageApp('fs', {
      doc: { quotas: { scan_interval: '1h' } },
      extraBackends: [{ ...REFUSED, id: 'a-hole', endpoint: hole.endpoint }],
      env: DOWN_ENV,
    })
    cleanups.push(() => app.cleanup())
    expect(performance.now() - started).toBeLessThan(4000)
    const res = await app.t.call('GET', '/healthz')
    expect(res.status).toBe(200)
  })

  test('an app closed while a scan waits on a backend: the scan stops without touching the closed database', async () => {
    const root = mkdtempSync(join(tmpdir(), 'stowage-scan-close-'))
    cleanups.push(() => rmSync(root, { recursive: true, force: true }))
    const app = await testApp({ quotas: { scan_interval: '0' }, backends: [{ id: 'local', type: 'fs', root }] })
    const backend = app.s.registry.get('local')
    const list = backend.listBuckets.bind(backend)
    let listed!: () => void
    const listing = new Promise<void>((r) => (listed = r))
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    backend.listBuckets = async () => {
      listed()
      await held
      return list()
    }
    const scan = app.s.accounting.scanner.runNow()
    await listing
    await app.close()
    release()
    // Its next step prunes usage rows: on the closed database that was "Cannot use a closed database".
    expect(
      await scan.then(
        () => 'stopped',
        (e: Error) => e.message,
      ),
    ).toBe('stopped')
  })

  test('a bucket first seen between runs is counted in the background', async () => {
    const app = await storageApp('fs', { doc: { quotas: { scan_interval: '1h' } } })
    cleanups.push(() => app.cleanup())
    const acc = app.t.s.accounting
    // The start-up pass; the next full pass is an hour away.
    await eventually(() => (acc.scanner.last() ? true : undefined))
    const b = await app.bucket('scan-new')
    await app.put(b, 'k', 'abcdef')
    expect(await acc.bucketSize('local', b)).toEqual({ size_tracked: true })
    await eventually(async () => ((await acc.bucketSize('local', b)).size_bytes === 6 ? true : undefined))
  })
})
