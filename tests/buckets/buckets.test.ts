// SPDX-License-Identifier: AGPL-3.0-or-later
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { errorCode } from '../helpers/app.ts'
import { auditRows, bucketName, json, KINDS, objectEnv, type Env } from '../objects/fixture.ts'

type BucketList = { buckets: Array<{ name: string; created_at?: string; size_tracked: boolean; size_bytes?: number; object_count?: number }> }

describe.each(KINDS)('buckets on %s', (kind) => {
  let e: Env
  beforeAll(async () => {
    e = await objectEnv(kind)
  }, 60_000)
  afterAll(() => e.close(), 60_000)

  const list = async (): Promise<BucketList> => json<BucketList>(await e.t.call('GET', `/api/backends/${e.bid}/buckets`, { as: e.reader }))

  test('lists buckets with their size fields', async () => {
    const body = await list()
    const mine = body.buckets.find((b) => b.name === e.bucket)
    expect(mine).toBeDefined()
    expect(typeof mine!.size_tracked).toBe('boolean')
    if (mine!.created_at) expect(Number.isNaN(Date.parse(mine!.created_at))).toBe(false)
    const names = body.buckets.map((b) => b.name)
    expect(names).toEqual([...names].sort())
  })

  test('create (admin) answers 201 {name}, shows up at once and is audited', async () => {
    const name = bucketName('new')
    await list()
    const res = await e.t.call('POST', `/api/backends/${e.bid}/buckets`, { as: e.admin, json: { name } })
    expect(res.status).toBe(201)
    expect(await res.json()).toEqual({ name })
    expect((await list()).buckets.some((b) => b.name === name)).toBe(true)
    expect((await auditRows(e.t, 'bucket.create')).find((r) => r.bucket === name)?.status).toBe('ok')
    const del = await e.t.call('DELETE', `/api/backends/${e.bid}/buckets/${name}`, { as: e.admin })
    expect(del.status).toBe(204)
    expect((await list()).buckets.some((b) => b.name === name)).toBe(false)
    expect((await auditRows(e.t, 'bucket.delete')).find((r) => r.bucket === name)?.status).toBe('ok')
  })

  test('an invalid name is 400 invalid_bucket_name', async () => {
    for (const name of ['ab', 'UPPER', '-lead', 'a..b', 'a.-b', 'a-.b', '192.168.1.1', 'x'.repeat(64)]) {
      const res = await e.t.call('POST', `/api/backends/${e.bid}/buckets`, { as: e.admin, json: { name } })
      expect(res.status).toBe(400)
      expect(await errorCode(res)).toBe('invalid_bucket_name')
    }
  })

  test('an existing name is 409 bucket_exists, audited as an error', async () => {
    const res = await e.t.call('POST', `/api/backends/${e.bid}/buckets`, { as: e.admin, json: { name: e.bucket } })
    expect(res.status).toBe(409)
    expect(await errorCode(res)).toBe('bucket_exists')
    expect((await auditRows(e.t, 'bucket.create')).find((r) => r.bucket === e.bucket)?.status).toBe('error')
  })

  test('deleting a non-empty bucket is 409 bucket_not_empty; an unknown one 404', async () => {
    const name = await e.newBucket('full')
    expect((await e.put('a.txt', 'hello', { bucket: name })).status).toBe(201)
    const res = await e.t.call('DELETE', `/api/backends/${e.bid}/buckets/${name}`, { as: e.admin })
    expect(res.status).toBe(409)
    expect(await errorCode(res)).toBe('bucket_not_empty')
    const gone = await e.t.call('DELETE', `/api/backends/${e.bid}/buckets/${bucketName('none')}`, { as: e.admin })
    expect(gone.status).toBe(404)
  })

  test('delete forgets the bucket’s accounting', async () => {
    const name = await e.newBucket('forget')
    const forgotten: string[] = []
    e.t.s.accounting.onForget((bid, bucket) => void forgotten.push(`${bid}/${bucket}`))
    expect((await e.t.call('DELETE', `/api/backends/${e.bid}/buckets/${name}`, { as: e.admin })).status).toBe(204)
    expect(forgotten).toContain(`${e.bid}/${name}`)
  })

  test('size fields come from the accounting once counted', async () => {
    const name = await e.newBucket('sized')
    expect((await e.put('one.bin', 'x'.repeat(100), { bucket: name })).status).toBe(201)
    expect((await e.put('two.bin', 'y'.repeat(23), { bucket: name })).status).toBe(201)
    await e.t.s.accounting.recompute(e.bid, name)
    const mine = (await list()).buckets.find((b) => b.name === name)!
    expect(mine.size_tracked).toBe(true)
    expect(mine.size_bytes).toBe(123)
    expect(mine.object_count).toBe(2)
  })

  test('an unknown backend is 404', async () => {
    const res = await e.t.call('GET', '/api/backends/nope/buckets', { as: e.reader })
    expect(res.status).toBe(404)
    expect(await errorCode(res)).toBe('not_found')
  })
})

describe('bucket list cache', () => {
  test('concurrent listings share one upstream call, and a create is visible at once', async () => {
    const e = await objectEnv('fs')
    try {
      const backend = e.backend() as { listBuckets: () => Promise<unknown> }
      const original = backend.listBuckets.bind(backend)
      let calls = 0
      backend.listBuckets = async () => {
        calls++
        await Bun.sleep(20)
        return original()
      }
      const results = await Promise.all(Array.from({ length: 5 }, () => e.t.call('GET', `/api/backends/${e.bid}/buckets`, { as: e.reader })))
      expect(results.every((r) => r.status === 200)).toBe(true)
      expect(calls).toBe(1)
      await e.t.call('GET', `/api/backends/${e.bid}/buckets`, { as: e.reader })
      expect(calls).toBe(1)
      const name = await e.newBucket('fresh')
      const after = (await json<BucketList>(await e.t.call('GET', `/api/backends/${e.bid}/buckets`, { as: e.reader }))).buckets.map((b) => b.name)
      expect(after).toContain(name)
      expect(calls).toBe(2)
    } finally {
      await e.close()
    }
  })
})
