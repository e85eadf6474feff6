// SPDX-License-Identifier: AGPL-3.0-or-later
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { CopyOptions } from '../../src/backends/backend.ts'
import { errorCode } from '../helpers/app.ts'
import { auditRows, json, KINDS, ndjson, objectEnv, q, type Env } from './fixture.ts'

type Obj = { key: string; size: number; content_type?: string; metadata?: Record<string, string> }

describe.each(KINDS)('copies on %s', (kind) => {
  const other = kind === 'fs' ? 'rgw' : 'fs'
  let e: Env
  let dstBucket: string
  let remoteBucket: string
  beforeAll(async () => {
    e = await objectEnv(kind, { also: [{ kind: other, id: 'other' }] })
    dstBucket = await e.newBucket('dst')
    remoteBucket = await e.newBucket('remote', 'other')
    expect((await e.put('src/a.txt', 'alpha', { type: 'text/plain' })).status).toBe(201)
    expect((await e.put('src/sub/b.bin', new Uint8Array(300_000).fill(9), { type: 'application/x-b' })).status).toBe(201)
    expect((await e.put('src/c.json', '{"c":1}', { type: 'application/json' })).status).toBe(201)
  }, 60_000)
  afterAll(() => e.close(), 60_000)

  const info = async (key: string, bucket = e.bucket, bid = e.bid): Promise<Response> =>
    e.t.call('GET', `/api/backends/${bid}/buckets/${bucket}/object/info${q(key)}`, { as: e.reader })
  const copy = (body: Record<string, unknown>): Promise<Response> => e.t.call('POST', `${e.base}/object/copy`, { as: e.user, json: body })

  test('same bucket: server-side copy keeps type and content', async () => {
    const res = await copy({ src_key: 'src/a.txt', dst_key: 'copies/a.txt' })
    expect(res.status).toBe(200)
    const body = await json<{ backend: string; bucket: string; object: Obj }>(res)
    expect(body).toMatchObject({ backend: e.bid, bucket: e.bucket, object: { key: 'copies/a.txt', size: 5 } })
    expect(body.object.content_type).toStartWith('text/plain')
    expect((await auditRows(e.t, 'object.copy'))[0]).toMatchObject({
      status: 'ok',
      key: 'src/a.txt',
      detail: { dst_bucket: e.bucket, dst_key: 'copies/a.txt', size: 5 },
    })
  })

  test('another bucket with replaced metadata', async () => {
    const res = await copy({ src_key: 'src/a.txt', dst_key: 'a.txt', dst_bucket: dstBucket, metadata: { Owner: 'ann' } })
    expect(res.status).toBe(200)
    const o = await json<Obj>(await info('a.txt', dstBucket))
    expect(o.metadata).toEqual({ owner: 'ann' })
  })

  test(`across backends (${kind} → ${other}): streamed with the exact size, audited as object.transfer`, async () => {
    const res = await copy({ src_key: 'src/sub/b.bin', dst_key: 'in/b.bin', dst_backend: 'other', dst_bucket: remoteBucket })
    expect(res.status).toBe(200)
    expect(await json(res)).toMatchObject({ backend: 'other', bucket: remoteBucket, object: { key: 'in/b.bin', size: 300_000 } })
    const back = await e.t.call('GET', `/api/backends/other/buckets/${remoteBucket}/object${q('in/b.bin')}`, { as: e.reader })
    const bytes = new Uint8Array(await back.arrayBuffer())
    expect(bytes.byteLength).toBe(300_000)
    expect(bytes.every((b) => b === 9)).toBe(true)
    expect((await json<Obj>(await info('in/b.bin', remoteBucket, 'other'))).content_type).toBe('application/x-b')
    expect((await auditRows(e.t, 'object.transfer'))[0]).toMatchObject({ status: 'ok', detail: { dst_backend: 'other', size: 300_000 } })
  }, 30_000)

  test('refusals: self-copy, bad destination bucket, unknown backend or source, bad keys', async () => {
    expect((await copy({ src_key: 'src/a.txt', dst_key: 'src/a.txt' })).status).toBe(400)
    const badBucket = await copy({ src_key: 'src/a.txt', dst_key: 'x', dst_bucket: 'Bad Bucket' })
    expect(badBucket.status).toBe(400)
    expect(await errorCode(badBucket)).toBe('invalid_bucket')
    expect((await copy({ src_key: 'src/a.txt', dst_key: 'x', dst_backend: 'nope' })).status).toBe(404)
    const missing = await copy({ src_key: 'src/none.txt', dst_key: 'x' })
    expect(missing.status).toBe(404)
    expect((await auditRows(e.t, 'object.copy'))[0]).toMatchObject({ status: 'error', key: 'src/none.txt' })
    const badKey = await copy({ src_key: 'src/a.txt', dst_key: '../x' })
    expect(badKey.status).toBe(400)
    expect(await errorCode(badKey)).toBe('invalid_key')
  })

  test('copy-prefix within a bucket streams progress and copies the tree', async () => {
    const res = await e.t.call('POST', `${e.base}/objects/copy-prefix`, { as: e.user, json: { src_prefix: 'src/', dst_prefix: 'backup/src/' } })
    expect(res.status).toBe(200)
    const events = await ndjson(res)
    expect(events[0]).toEqual({ event: 'start', src_prefix: 'src/', dst_prefix: 'backup/src/' })
    expect(
      events
        .filter((x) => x.event === 'object')
        .map((x) => `${x.src}>${x.dst}`)
        .sort(),
    ).toEqual(['src/a.txt>backup/src/a.txt', 'src/c.json>backup/src/c.json', 'src/sub/b.bin>backup/src/sub/b.bin'])
    expect(events.at(-1)).toEqual({ event: 'done', copied: 3, failed: 0, bytes: 5 + 300_000 + 7 })
    expect((await info('backup/src/sub/b.bin')).status).toBe(200)
    expect((await auditRows(e.t, 'object.copy_prefix'))[0]).toMatchObject({
      status: 'ok',
      detail: { src_prefix: 'src/', dst_prefix: 'backup/src/', copied: 3, cancelled: false },
    })
  }, 30_000)

  test('copy-prefix across backends', async () => {
    const res = await e.t.call('POST', `${e.base}/objects/copy-prefix`, {
      as: e.user,
      json: { src_prefix: 'src/', dst_prefix: 'mirror/', dst_backend: 'other', dst_bucket: remoteBucket },
    })
    const events = await ndjson(res)
    expect(events.at(-1)).toMatchObject({ event: 'done', copied: 3, failed: 0 })
    expect((await info('mirror/sub/b.bin', remoteBucket, 'other')).status).toBe(200)
    expect((await auditRows(e.t, 'object.transfer_prefix'))[0]).toMatchObject({ status: 'ok', detail: { dst_backend: 'other', copied: 3 } })
  }, 30_000)

  test('copy-prefix refuses a destination inside the source and bad prefixes', async () => {
    for (const body of [
      { src_prefix: 'src/', dst_prefix: 'src/again/' },
      { src_prefix: 'src/', dst_prefix: 'src/' },
      { src_prefix: '', dst_prefix: 'x/' },
      { src_prefix: 'src', dst_prefix: 'x/' },
    ]) {
      const res = await e.t.call('POST', `${e.base}/objects/copy-prefix`, { as: e.user, json: body })
      expect(res.status).toBe(400)
      expect(await errorCode(res)).toBe('invalid_prefix')
    }
    const otherBucket = await e.t.call('POST', `${e.base}/objects/copy-prefix`, {
      as: e.user,
      json: { src_prefix: 'src/', dst_prefix: 'src/deeper/', dst_bucket: dstBucket },
    })
    expect((await ndjson(otherBucket)).at(-1)).toMatchObject({ event: 'done', copied: 3 })
  })

  test('copy-prefix stops when the client goes away', async () => {
    for (let i = 0; i < 16; i++) expect((await e.put(`many/${String(i).padStart(2, '0')}`, 'm')).status).toBe(201)
    const backend = e.backend() as { copyObject: (s: { bucket: string; key: string }, d: { bucket: string; key: string }, o?: CopyOptions) => Promise<unknown> }
    const original = backend.copyObject.bind(backend)
    backend.copyObject = async (s, d, o) => {
      await Bun.sleep(30)
      return original(s, d, o)
    }
    try {
      const abort = new AbortController()
      const res = await e.t.s.fetch(
        new Request(`http://localhost${e.base}/objects/copy-prefix`, {
          method: 'POST',
          headers: { cookie: e.user.cookie, 'x-csrf-token': e.user.csrf, 'content-type': 'application/json' },
          body: JSON.stringify({ src_prefix: 'many/', dst_prefix: 'many-copy/' }),
          signal: abort.signal,
        }),
      )
      const reader = res.body!.getReader()
      let text = ''
      while (!text.includes('"object"')) text += new TextDecoder().decode((await reader.read()).value)
      abort.abort()
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value)
      const done = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .at(-1)!
      expect(done).toMatchObject({ event: 'done', cancelled: true })
      expect(done.copied as number).toBeLessThan(16)
      await Bun.sleep(100)
      backend.copyObject = original
      const copied = await json<{ objects: unknown[] }>(await e.t.call('GET', `${e.base}/objects?prefix=many-copy/&delimiter=`, { as: e.reader }))
      expect(copied.objects.length).toBeLessThan(16)
      expect((await auditRows(e.t, 'object.copy_prefix'))[0]!.detail).toMatchObject({ src_prefix: 'many/', cancelled: true })
    } finally {
      backend.copyObject = original
    }
  }, 30_000)

  test('copies are quota-checked on the same backend too (the original let them through)', async () => {
    const capped = await e.newBucket('capped')
    expect((await e.t.call('PUT', `/api/backends/${e.bid}/buckets/${capped}/quota`, { as: e.admin, json: { hard_bytes: 100_000 } })).status).toBe(200)
    const res = await copy({ src_key: 'src/sub/b.bin', dst_key: 'b.bin', dst_bucket: capped })
    expect(res.status).toBe(507)
    expect(await errorCode(res)).toBe('quota_exceeded')
    expect((await info('b.bin', capped)).status).toBe(404)
    expect((await auditRows(e.t, 'object.copy'))[0]).toMatchObject({ status: 'denied' })
    const prefix = await e.t.call('POST', `${e.base}/objects/copy-prefix`, { as: e.user, json: { src_prefix: 'src/', dst_prefix: '', dst_bucket: capped } })
    const events = await ndjson(prefix)
    expect(events.filter((x) => x.event === 'error').map((x) => x.code)).toEqual(['quota_exceeded'])
    expect(events.at(-1)).toMatchObject({ event: 'done', copied: 2, failed: 1 })
  }, 30_000)
})
