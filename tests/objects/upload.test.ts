// SPDX-License-Identifier: AGPL-3.0-or-later
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { errorCode } from '../helpers/app.ts'
import { auditRows, json, KINDS, objectEnv, q, type Env } from './fixture.ts'

type Obj = { key: string; size: number; etag?: string; content_type?: string; last_modified?: string; metadata?: Record<string, string> }

function form(
  parts: Array<{ name: string; value: string | Uint8Array; filename?: string; type?: string }>,
  boundary = '----stowage' + Math.random().toString(16).slice(2),
): { body: Uint8Array<ArrayBuffer>; type: string } {
  const chunks: Uint8Array[] = []
  const enc = new TextEncoder()
  for (const p of parts) {
    chunks.push(
      enc.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`,
      ),
    )
    chunks.push(typeof p.value === 'string' ? enc.encode(p.value) : p.value)
    chunks.push(enc.encode('\r\n'))
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`))
  return { body: Uint8Array.from(Buffer.concat(chunks)), type: `multipart/form-data; boundary=${boundary}` }
}

describe.each(KINDS)('uploads on %s', (kind) => {
  let e: Env
  beforeAll(async () => {
    e = await objectEnv(kind)
  }, 60_000)
  afterAll(() => e.close(), 60_000)

  const info = async (key: string): Promise<Obj> => json<Obj>(await e.t.call('GET', `${e.base}/object/info${q(key)}`, { as: e.reader }))
  const text = async (key: string): Promise<string> => (await e.t.call('GET', `${e.base}/object${q(key)}`, { as: e.reader })).text()

  test('raw upload streams the body and answers 201 with the object', async () => {
    const res = await e.put('docs/readme.txt', 'hello world', { type: 'text/plain' })
    expect(res.status).toBe(201)
    const body = await json<Obj>(res)
    expect(body.key).toBe('docs/readme.txt')
    expect(body.size).toBe(11)
    expect(body.content_type).toStartWith('text/plain')
    expect(body.etag).toBeTruthy()
    expect(await text('docs/readme.txt')).toBe('hello world')
    const row = (await auditRows(e.t, 'object.upload')).find((r) => r.key === 'docs/readme.txt')!
    expect(row.status).toBe('ok')
    expect(row.detail).toMatchObject({ size: 11, via: 'raw' })
  })

  test('raw upload: content_type in the query wins over the header; binary bytes survive', async () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7) % 256)
    const res = await e.t.call('POST', `${e.base}/object${q('bin/data.bin', '&content_type=image/png')}`, {
      as: e.user,
      body: bytes,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) },
    })
    expect(res.status).toBe(201)
    expect((await info('bin/data.bin')).content_type).toBe('image/png')
    const back = new Uint8Array(await (await e.t.call('GET', `${e.base}/object${q('bin/data.bin')}`, { as: e.reader })).arrayBuffer())
    expect(Buffer.compare(back, bytes)).toBe(0)
  })

  test('raw upload without Content-Length is 411 length_required', async () => {
    const res = await e.t.call('POST', `${e.base}/object${q('nolen.txt')}`, { as: e.user, body: 'abc', headers: { 'content-type': 'text/plain' } })
    expect(res.status).toBe(411)
    expect(await errorCode(res)).toBe('length_required')
  })

  test('a body shorter or longer than its Content-Length is refused and nothing is stored', async () => {
    const short = await e.t.call('POST', `${e.base}/object${q('short.txt')}`, {
      as: e.user,
      body: 'abc',
      headers: { 'content-type': 'text/plain', 'content-length': '10' },
    })
    expect(short.status).toBe(400)
    const long = await e.t.call('POST', `${e.base}/object${q('long.txt')}`, {
      as: e.user,
      body: 'abcdefgh',
      headers: { 'content-type': 'text/plain', 'content-length': '3' },
    })
    expect(long.status).toBe(400)
    for (const k of ['short.txt', 'long.txt']) expect((await e.t.call('GET', `${e.base}/object/info${q(k)}`, { as: e.reader })).status).toBe(404)
  })

  test('raw upload without a key is 400', async () => {
    const res = await e.t.call('POST', `${e.base}/object`, { as: e.user, body: 'abc', headers: { 'content-type': 'text/plain', 'content-length': '3' } })
    expect(res.status).toBe(400)
  })

  test('form upload: file, key and content_type fields', async () => {
    const f = form([
      { name: 'key', value: 'forms/named.csv' },
      { name: 'content_type', value: 'text/csv' },
      { name: 'file', value: 'a,b\n1,2\n', filename: 'ignored.csv', type: 'application/octet-stream' },
    ])
    const res = await e.t.call('POST', `${e.base}/object`, { as: e.user, body: f.body, headers: { 'content-type': f.type } })
    expect(res.status).toBe(201)
    const o = await json<Obj>(res)
    expect(o).toMatchObject({ key: 'forms/named.csv', size: 8 })
    expect(o.content_type).toStartWith('text/csv')
    expect(await text('forms/named.csv')).toBe('a,b\n1,2\n')
  })

  test('form upload: the key defaults to the file name; fields may come after the file', async () => {
    const payload = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => i % 251)
    const f = form([
      { name: 'file', value: payload, filename: 'big photo ü.bin', type: 'application/x-test' },
      { name: 'note', value: 'ignored' },
    ])
    const res = await e.t.call('POST', `${e.base}/object`, { as: e.user, body: f.body, headers: { 'content-type': f.type } })
    expect(res.status).toBe(201)
    expect((await json<Obj>(res)).key).toBe('big photo ü.bin')
    const back = new Uint8Array(await (await e.t.call('GET', `${e.base}/object${q('big photo ü.bin')}`, { as: e.reader })).arrayBuffer())
    expect(back.byteLength).toBe(payload.byteLength)
    expect(Buffer.compare(back, payload)).toBe(0)
  }, 30_000)

  test('form upload without a file part is 400; a truncated form is 400', async () => {
    const f = form([{ name: 'key', value: 'x.txt' }])
    expect((await e.t.call('POST', `${e.base}/object`, { as: e.user, body: f.body, headers: { 'content-type': f.type } })).status).toBe(400)
    const g = form([{ name: 'file', value: 'abc', filename: 'cut.txt' }])
    const cut = g.body.slice(0, g.body.byteLength - 12)
    expect((await e.t.call('POST', `${e.base}/object`, { as: e.user, body: cut, headers: { 'content-type': g.type } })).status).toBe(400)
    expect((await e.t.call('POST', `${e.base}/object`, { as: e.user, body: g.body, headers: { 'content-type': 'multipart/form-data' } })).status).toBe(400)
  })

  test('If-None-Match: * refuses to overwrite (412 object_exists) on both shapes', async () => {
    expect((await e.put('once.txt', 'first')).status).toBe(201)
    const res = await e.put('once.txt', 'second', { headers: { 'if-none-match': '*' } })
    expect(res.status).toBe(412)
    expect(await errorCode(res)).toBe('object_exists')
    const f = form([
      { name: 'key', value: 'once.txt' },
      { name: 'file', value: 'third', filename: 'x' },
    ])
    const viaForm = await e.t.call('POST', `${e.base}/object`, { as: e.user, body: f.body, headers: { 'content-type': f.type, 'if-none-match': '*' } })
    expect(viaForm.status).toBe(412)
    expect(await text('once.txt')).toBe('first')
    expect((await e.put('fresh-inm.txt', 'ok', { headers: { 'if-none-match': '*' } })).status).toBe(201)
  })

  test('bad keys are 400 invalid_key', async () => {
    for (const key of ['a/../b', 'bad\u0001key', 'x'.repeat(1025), '', 'evil\u202etxt.exe']) {
      const res = await e.put(key, 'x')
      expect(res.status).toBe(400)
      expect(['invalid_key', 'bad_request']).toContain((await errorCode(res))!)
    }
  })

  test('folders: "key/" placeholders, 201, audited', async () => {
    const res = await e.t.call('POST', `${e.base}/objects/folder`, { as: e.user, json: { key: 'photos/2024' } })
    expect(res.status).toBe(201)
    expect((await json<Obj>(res)).key).toBe('photos/2024/')
    const listing = await json<{ common_prefixes: string[] }>(await e.t.call('GET', `${e.base}/objects?prefix=photos/`, { as: e.reader }))
    expect(listing.common_prefixes).toContain('photos/2024/')
    expect((await auditRows(e.t, 'object.folder'))[0]).toMatchObject({ status: 'ok', key: 'photos/2024/' })
    const bad = await e.t.call('POST', `${e.base}/objects/folder`, { as: e.user, json: { key: '../up' } })
    expect(bad.status).toBe(400)
  })

  test('uploading to an unknown bucket is 404 and audited as an error', async () => {
    const res = await e.t.call('POST', `/api/backends/${e.bid}/buckets/no-such-bucket-here/object${q('a.txt')}`, {
      as: e.user,
      body: 'abc',
      headers: { 'content-type': 'text/plain', 'content-length': '3' },
    })
    expect(res.status).toBe(404)
    expect((await auditRows(e.t, 'object.upload')).find((r) => r.bucket === 'no-such-bucket-here')?.status).toBe('error')
  })
})

describe.each(KINDS)('upload quotas on %s', (kind) => {
  let e: Env
  beforeAll(async () => {
    e = await objectEnv(kind)
    const res = await e.t.call('PUT', `${e.base}/quota`, { as: e.admin, json: { hard_bytes: 1000 } })
    expect(res.status).toBe(200)
  }, 60_000)
  afterAll(() => e.close(), 60_000)

  test('a write past the hard cap is 507 quota_exceeded, audited as denied', async () => {
    expect((await e.put('a.bin', 'x'.repeat(600))).status).toBe(201)
    const res = await e.put('b.bin', 'x'.repeat(600))
    expect(res.status).toBe(507)
    expect(await errorCode(res)).toBe('quota_exceeded')
    expect((await auditRows(e.t, 'object.upload')).find((r) => r.key === 'b.bin')?.status).toBe('denied')
  })

  test('an overwrite counts only its growth', async () => {
    expect((await e.put('a.bin', 'y'.repeat(900))).status).toBe(201)
    expect((await e.put('a.bin', 'z'.repeat(1000))).status).toBe(201)
  })

  test('deletes lower usage at once', async () => {
    expect((await e.put('c.bin', 'c')).status).toBe(507)
    expect((await e.t.call('DELETE', `${e.base}/object${q('a.bin')}`, { as: e.user })).status).toBe(204)
    expect((await e.put('c.bin', 'c'.repeat(900))).status).toBe(201)
  })

  test('a form upload is quota-checked too', async () => {
    const f = form([{ name: 'file', value: 'q'.repeat(500), filename: 'form.bin' }])
    const res = await e.t.call('POST', `${e.base}/object`, { as: e.user, body: f.body, headers: { 'content-type': f.type } })
    expect(res.status).toBe(507)
  })
})
