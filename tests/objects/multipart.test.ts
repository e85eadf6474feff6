// SPDX-License-Identifier: AGPL-3.0-or-later
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { errorCode } from '../helpers/app.ts'
import { auditRows, json, KINDS, objectEnv, q, type Env } from './fixture.ts'

const MiB = 1024 * 1024
const PART1 = new Uint8Array(5 * MiB).map((_, i) => i % 253)
const PART2 = new TextEncoder().encode('the tail end')

describe.each(KINDS)('multipart on %s', (kind) => {
  let e: Env
  beforeAll(async () => {
    e = await objectEnv(kind)
  }, 60_000)
  afterAll(() => e.close(), 60_000)

  const create = (key: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    e.t.call('POST', `${e.base}/multipart${q(key)}`, { as: e.user, ...(body !== undefined ? { json: body } : {}), headers })
  const part = (key: string, id: string, n: number | string, bytes: Uint8Array, headers?: Record<string, string>): Promise<Response> =>
    e.t.call('PUT', `${e.base}/multipart/parts/${n}${q(key, `&upload_id=${encodeURIComponent(id)}`)}`, {
      as: e.user,
      body: bytes as BodyInit,
      headers: headers ?? { 'content-length': String(bytes.byteLength) },
    })
  const complete = (key: string, id: string, parts: Array<{ PartNumber: number; ETag: string }>, headers: Record<string, string> = {}): Promise<Response> =>
    e.t.call('POST', `${e.base}/multipart/complete${q(key, `&upload_id=${encodeURIComponent(id)}`)}`, { as: e.user, json: { parts }, headers })

  test('create → parts → list parts → complete gives the object, every step audited', async () => {
    const c = await create('big/file.bin', { content_type: 'application/x-big', metadata: { origin: 'test' } })
    expect(c.status).toBe(201)
    const { upload_id: id, bucket, key } = await json<{ bucket: string; key: string; upload_id: string }>(c)
    expect({ bucket, key }).toEqual({ bucket: e.bucket, key: 'big/file.bin' })
    const uploads = await json<{ uploads: Array<{ key: string; upload_id: string }> }>(
      await e.t.call('GET', `${e.base}/multipart?prefix=big/`, { as: e.reader }),
    )
    expect(uploads.uploads.map((u) => u.upload_id)).toContain(id)

    const p2 = await part('big/file.bin', id, 2, PART2)
    expect(p2.status).toBe(200)
    const r2 = await json<{ part_number: number; etag: string; size: number }>(p2)
    expect(r2).toMatchObject({ part_number: 2, size: PART2.byteLength })
    const r1 = await json<{ part_number: number; etag: string; size: number }>(await part('big/file.bin', id, 1, PART1))
    expect(r1).toMatchObject({ part_number: 1, size: PART1.byteLength })

    const listed = await json<{ parts: Array<{ part_number: number; etag: string; size: number }> }>(
      await e.t.call('GET', `${e.base}/multipart/parts${q('big/file.bin', `&upload_id=${encodeURIComponent(id)}`)}`, { as: e.reader }),
    )
    expect(listed.parts.map((p) => [p.part_number, p.size])).toEqual([
      [1, PART1.byteLength],
      [2, PART2.byteLength],
    ])

    const done = await complete('big/file.bin', id, [
      { PartNumber: 2, ETag: r2.etag },
      { PartNumber: 1, ETag: r1.etag },
    ])
    expect(done.status).toBe(200)
    const o = await json<{ key: string; size: number; content_type?: string; metadata?: Record<string, string> }>(done)
    expect(o).toMatchObject({ key: 'big/file.bin', size: PART1.byteLength + PART2.byteLength, content_type: 'application/x-big', metadata: { origin: 'test' } })
    const got = new Uint8Array(await (await e.t.call('GET', `${e.base}/object${q('big/file.bin')}`, { as: e.reader })).arrayBuffer())
    expect(got.byteLength).toBe(PART1.byteLength + PART2.byteLength)
    expect(Buffer.compare(got.subarray(0, PART1.byteLength), PART1)).toBe(0)
    expect(new TextDecoder().decode(got.subarray(PART1.byteLength))).toBe('the tail end')
    expect((await auditRows(e.t, 'multipart.create'))[0]).toMatchObject({ status: 'ok', key: 'big/file.bin', detail: { upload_id: id } })
    expect((await auditRows(e.t, 'multipart.complete'))[0]).toMatchObject({
      status: 'ok',
      detail: { upload_id: id, parts: 2, size: PART1.byteLength + PART2.byteLength },
    })
    const after = await json<{ uploads: Array<{ upload_id: string }> }>(await e.t.call('GET', `${e.base}/multipart`, { as: e.reader }))
    expect(after.uploads.map((u) => u.upload_id)).not.toContain(id)
  }, 30_000)

  test('abort (204) drops the upload; its parts are then 404', async () => {
    const { upload_id: id } = await json<{ upload_id: string }>(await create('aborted.bin'))
    expect((await part('aborted.bin', id, 1, PART2)).status).toBe(200)
    const res = await e.t.call('DELETE', `${e.base}/multipart${q('aborted.bin', `&upload_id=${encodeURIComponent(id)}`)}`, { as: e.user })
    expect(res.status).toBe(204)
    expect((await auditRows(e.t, 'multipart.abort'))[0]).toMatchObject({ status: 'ok', key: 'aborted.bin' })
    expect((await e.t.call('GET', `${e.base}/multipart/parts${q('aborted.bin', `&upload_id=${encodeURIComponent(id)}`)}`, { as: e.reader })).status).toBe(404)
    expect((await part('aborted.bin', id, 2, PART2)).status).toBe(404)
  })

  test('part refusals: no Content-Length → 411, over the cap → 413, bad part numbers → 400, a short body → 400', async () => {
    const { upload_id: id } = await json<{ upload_id: string }>(await create('refusals.bin'))
    const noLen = await part('refusals.bin', id, 1, PART2, {})
    expect(noLen.status).toBe(411)
    expect(await errorCode(noLen)).toBe('length_required')
    const huge = await part('refusals.bin', id, 1, PART2, { 'content-length': String(5 * 1024 * MiB + 1) })
    expect(huge.status).toBe(413)
    expect(await errorCode(huge)).toBe('too_large')
    for (const n of [0, 10001, 'x', -1]) expect((await part('refusals.bin', id, n, PART2)).status).toBe(400)
    expect((await part('refusals.bin', id, 1, PART2, { 'content-length': String(PART2.byteLength + 5) })).status).toBe(400)
    expect((await part('refusals.bin', 'no-such-upload', 1, PART2)).status).toBe(404)
    await e.t.call('DELETE', `${e.base}/multipart${q('refusals.bin', `&upload_id=${encodeURIComponent(id)}`)}`, { as: e.user })
  })

  test('complete refusals: unknown upload 404, duplicate part numbers or no parts 400, huge body 413', async () => {
    expect((await complete('x.bin', 'no-such-upload', [{ PartNumber: 1, ETag: '"x"' }])).status).toBe(404)
    expect((await auditRows(e.t, 'multipart.complete'))[0]).toMatchObject({ status: 'error', key: 'x.bin' })
    const { upload_id: id } = await json<{ upload_id: string }>(await create('dup.bin'))
    expect(
      (
        await complete('dup.bin', id, [
          { PartNumber: 1, ETag: 'a' },
          { PartNumber: 1, ETag: 'b' },
        ])
      ).status,
    ).toBe(400)
    expect((await complete('dup.bin', id, [])).status).toBe(400)
    const huge = await e.t.call('POST', `${e.base}/multipart/complete${q('dup.bin', `&upload_id=${id}`)}`, {
      as: e.user,
      json: { parts: [{ PartNumber: 1, ETag: 'x'.repeat(1100 * 1024) }] },
    })
    expect(huge.status).toBe(413)
  })

  test('If-None-Match: * refuses an existing key at create and at complete', async () => {
    expect((await e.put('exists.bin', 'here')).status).toBe(201)
    const res = await create('exists.bin', undefined, { 'if-none-match': '*' })
    expect(res.status).toBe(412)
    expect(await errorCode(res)).toBe('object_exists')
    const { upload_id: id } = await json<{ upload_id: string }>(await create('race.bin', undefined, { 'if-none-match': '*' }))
    const p = await json<{ etag: string }>(await part('race.bin', id, 1, PART2))
    expect((await e.put('race.bin', 'someone else')).status).toBe(201)
    const done = await complete('race.bin', id, [{ PartNumber: 1, ETag: p.etag }], { 'if-none-match': '*' })
    expect(done.status).toBe(412)
    expect(await (await e.t.call('GET', `${e.base}/object${q('race.bin')}`, { as: e.reader })).text()).toBe('someone else')
  }, 30_000)

  test('parts and completes are quota-checked', async () => {
    const capped = await e.newBucket('mpq')
    const base = `/api/backends/${e.bid}/buckets/${capped}`
    expect((await e.t.call('PUT', `${base}/quota`, { as: e.admin, json: { hard_bytes: 6 * MiB } })).status).toBe(200)
    const c = await json<{ upload_id: string }>(await e.t.call('POST', `${base}/multipart${q('q.bin')}`, { as: e.user }))
    const put = (n: number, bytes: Uint8Array): Promise<Response> =>
      e.t.call('PUT', `${base}/multipart/parts/${n}${q('q.bin', `&upload_id=${c.upload_id}`)}`, {
        as: e.user,
        body: bytes as BodyInit,
        headers: { 'content-length': String(bytes.byteLength) },
      })
    expect((await put(1, PART1)).status).toBe(200)
    const second = await put(2, PART1)
    expect(second.status).toBe(507)
    expect(await errorCode(second)).toBe('quota_exceeded')
    expect((await put(2, PART2)).status).toBe(200)
  }, 30_000)
})
