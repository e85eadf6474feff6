// SPDX-License-Identifier: AGPL-3.0-or-later
/** Cross-backend search: matching, limits, budgets and what was cut short. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { adminView } from '../../src/access/view.ts'
import { silentLogger } from '../../src/lib/log.ts'
import { createSearchService } from '../../src/search/service.ts'
import { errorCode, type Client } from '../helpers/app.ts'
import { unreachableEndpoint } from '../helpers/s3.ts'
import { KINDS, storageApp, type StorageApp } from '../quotas/storage-fixture.ts'

// RGW shares the machine with other suites; a busy moment must not fail a test on Bun's 5 s default.
setDefaultTimeout(20_000)

type Result = {
  query: string
  buckets: Array<{ backend_id: string; bucket: string }>
  objects: Array<{ backend_id: string; bucket: string; key: string; size: number; last_modified?: string }>
  truncated: boolean
  partial: Array<{ backend_id: string; reason: string }>
}

describe.each(KINDS)('search on %s', (kind) => {
  let app: StorageApp
  let reader: Client
  let b: string
  // A token no other test's keys contain, so results are exactly ours.
  const tok = `zq${Math.random().toString(36).slice(2, 8)}`

  beforeAll(async () => {
    app = await storageApp(kind)
    reader = await app.t.user('readonly')
    b = await app.bucket(`s${tok}`)
    await app.put(b, `docs/${tok}-Report-2024.pdf`, 'x'.repeat(11))
    await app.put(b, `docs/notes-${tok.toUpperCase()}.txt`, 'y')
    await app.put(b, `${tok}/readme.md`, 'zz')
    await app.put(b, 'images/other.png', 'w')
  })
  afterAll(() => app.cleanup())

  const search = async (qs: string): Promise<Result> => {
    const res = await app.t.call('GET', `/api/search?${qs}`, { as: reader })
    expect(res.status).toBe(200)
    return (await res.json()) as Result
  }

  test('bucket names by case-insensitive substring', async () => {
    const r = await search(`q=${tok.toUpperCase()}`)
    expect(r.query).toBe(tok.toUpperCase())
    expect(r.buckets).toEqual([{ backend_id: app.bid, bucket: b }])
  })

  test('keys by prefix first, then by case-insensitive substring, without duplicates', async () => {
    const r = await search(`q=${tok}`)
    expect(r.objects.map((o) => o.key)).toEqual([`${tok}/readme.md`, `docs/notes-${tok.toUpperCase()}.txt`, `docs/${tok}-Report-2024.pdf`])
    const report = r.objects.find((o) => o.key.includes('Report'))!
    expect(report).toMatchObject({ backend_id: app.bid, bucket: b, size: 11 })
    expect(Date.parse(report.last_modified!)).toBeGreaterThan(0)
    expect(r.truncated).toBe(false)
    expect(r.partial).toEqual([])
  })

  test('limit cuts each list and says so', async () => {
    const r = await search(`q=${tok}&limit=1`)
    expect(r.objects).toHaveLength(1)
    expect(r.truncated).toBe(true)
    expect((await search(`q=${tok}&limit=200`)).objects).toHaveLength(3)
    const over = await app.t.call('GET', `/api/search?q=${tok}&limit=201`, { as: reader })
    expect(over.status).toBe(400)
    expect(((await over.json()) as { error: { detail: Array<{ path: string }> } }).error.detail[0]!.path).toBe('/limit')
  })

  test('queries shorter than 2 characters are refused', async () => {
    const res = await app.t.call('GET', '/api/search?q=a', { as: reader })
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe('bad_request')
  })

  test('the per-bucket scan budget is reported as scan_limit', async () => {
    const svc = createSearchService({ registry: app.t.s.registry, logger: silentLogger, options: { keysPerBucket: 2, keysPerBackend: 2 } })
    const r = await svc.search(adminView(), `${tok.slice(1)}/readme`, 50, new AbortController().signal)
    // "<tok>/readme.md" sorts last in the bucket, so a scan of its first two keys misses it.
    expect(r.objects.filter((o) => o.bucket === b)).toEqual([])
    expect(r.partial).toEqual([{ backend_id: app.bid, reason: 'scan_limit' }])
    expect(r.truncated).toBe(true)
  })
})

describe('search cut short', () => {
  let app: StorageApp
  let hole: { endpoint: string; stop(): void }
  let reader: Client
  let b: string

  beforeAll(async () => {
    hole = await unreachableEndpoint()
    app = await storageApp('fs', {
      extraBackends: [{ id: 'slow', type: 's3', endpoint: hole.endpoint, access_key_env: 'SLOW_AK', secret_key_env: 'SLOW_SK', path_style: true }],
      env: { SLOW_AK: 'a', SLOW_SK: 'b' },
    })
    reader = await app.t.user('readonly')
    b = await app.bucket('cut')
    await app.put(b, 'found-me.txt', 'x')
  })
  afterAll(async () => {
    await app.cleanup()
    hole.stop()
  })

  test('a backend that does not answer in time is reported as a timeout; the others still answer', async () => {
    const started = performance.now()
    const res = await app.t.call('GET', '/api/search?q=found-me', { as: reader })
    const elapsed = performance.now() - started
    const r = (await res.json()) as Result
    expect(elapsed).toBeGreaterThan(2_900)
    expect(elapsed).toBeLessThan(4_500)
    expect(r.objects.map((o) => o.key)).toEqual(['found-me.txt'])
    expect(r.partial).toEqual([{ backend_id: 'slow', reason: 'timeout' }])
    expect(r.truncated).toBe(true)
  })

  test('a client that goes away stops the search at once', async () => {
    const svc = createSearchService({ registry: app.t.s.registry, logger: silentLogger })
    const client = new AbortController()
    setTimeout(() => client.abort(), 100)
    const started = performance.now()
    const r = await svc.search(adminView(), 'found-me', 50, client.signal)
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(r.partial).toEqual([{ backend_id: 'slow', reason: 'cancelled' }])
  })
})
