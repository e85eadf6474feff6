// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * How many requests each dashboard and S3-listener operation makes to an
 * `s3` backend, counted by a recording relay between Stowage and RGW. Every
 * call costs the upstream CPU and the client a round trip, so the lists are
 * exact: a call added anywhere fails here. The ones beyond the operation's
 * own S3 call are there for correctness, and the code that makes them says
 * why (the size HEAD of quota accounting, a HEAD 404's bucket check, the
 * read-back of a dashboard multipart completion).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import http from 'node:http'
import type net from 'node:net'
import { s3Env } from '../helpers/s3.ts'
import { proxyEnv, type Cred, type ProxyEnv } from '../s3proxy/fixture.ts'

/** The S3 operation a request is, from its method, query and copy header. */
function operation(method: string, url: URL, headers: http.IncomingHttpHeaders): string {
  const q = url.searchParams
  const hasKey = url.pathname.split('/').filter(Boolean).length > 1
  if (method === 'HEAD') return hasKey ? 'HeadObject' : 'HeadBucket'
  if (method === 'POST')
    return q.has('uploads') ? 'CreateMultipartUpload' : q.has('uploadId') ? 'CompleteMultipartUpload' : q.has('delete') ? 'DeleteObjects' : 'POST?'
  if (method === 'DELETE') return q.has('uploadId') ? 'AbortMultipartUpload' : hasKey ? 'DeleteObject' : 'DeleteBucket'
  if (method === 'PUT') {
    if (q.has('tagging')) return 'PutObjectTagging'
    if (q.has('uploadId')) return headers['x-amz-copy-source'] ? 'UploadPartCopy' : 'UploadPart'
    if (!hasKey) return 'CreateBucket'
    return headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject'
  }
  if (q.has('tagging')) return 'GetObjectTagging'
  if (q.has('uploadId')) return 'ListParts'
  if (!hasKey) return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListBucket?'
  return 'GetObject'
}

type Recorder = { endpoint: string; calls: string[]; stop(): Promise<void> }

/** An HTTP relay to RGW that records each request's S3 operation; headers pass as signed, Host included. */
async function recorder(target: string): Promise<Recorder> {
  const upstream = new URL(target)
  const calls: string[] = []
  const sockets = new Set<net.Socket>()
  const server = http.createServer((req, res) => {
    calls.push(operation(req.method ?? '', new URL(req.url ?? '/', target), req.headers))
    const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers)
      upRes.pipe(res)
    })
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    calls,
    async stop() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

let rec: Recorder
let p: ProxyEnv
/** Size tracking on (the default), no quota. */
let bucket: string
/** Size tracking off, no quota: nothing to account for. */
let plain: string
/** A hard quota. */
let capped: string
let cred: Cred
let base: string

/** The upstream calls `run` made (after its own status was checked). */
async function callsOf(run: () => Promise<Response>, status: number): Promise<string[]> {
  rec.calls.length = 0
  const res = await run()
  const body = await res.text()
  if (res.status !== status) throw new Error(`status ${res.status} (wanted ${status}): ${body.slice(0, 300)}`)
  return [...rec.calls]
}

const KiB = new Uint8Array(1024).fill(7)

beforeAll(async () => {
  const s3 = s3Env()
  rec = await recorder(s3.endpoint)
  p = await proxyEnv({
    app: {
      backends: [{ id: 'rgw', type: 's3', endpoint: rec.endpoint, region: s3.region, access_key_env: 'RGW_AK', secret_key_env: 'RGW_SK', path_style: true }],
    },
  })
  bucket = await p.bucket('calls')
  plain = await p.bucket('plain')
  capped = await p.bucket('capped')
  const quota = await p.t.call('PUT', `/api/backends/rgw/buckets/${capped}/quota`, { as: p.admin, json: { hard_bytes: 1024 * 1024 * 1024 } })
  expect(quota.status).toBe(200)
  // The first cap check counts the bucket (a listing); counted now, the writes below see only their own calls.
  expect((await p.t.call('POST', `/api/backends/rgw/buckets/${capped}/quota/recompute`, { as: p.admin })).status).toBe(200)
  expect((await p.t.call('PUT', `/api/backends/rgw/buckets/${plain}/size-tracking`, { as: p.admin, json: { enabled: false } })).status).toBe(200)
  cred = await p.mint({ buckets: [bucket, plain, capped] })
  base = `/api/backends/rgw/buckets/${bucket}`
  const seeded = await p.t.call('POST', `${base}/object?key=seed.bin`, {
    as: p.user,
    body: KiB,
    headers: { 'content-type': 'application/octet-stream', 'content-length': '1024' },
  })
  expect(seeded.status).toBe(201)
  const tagged = await p.t.call('PUT', `${base}/object/tags?key=seed.bin`, { as: p.user, json: { tags: { team: 'blue' } } })
  expect(tagged.status).toBe(204)
}, 60_000)

afterAll(async () => {
  await p.close()
  await rec.stop()
})

describe('dashboard', () => {
  const api =
    (path: string, method = 'GET', o: { json?: unknown; body?: Uint8Array<ArrayBuffer>; headers?: Record<string, string> } = {}) =>
    () =>
      p.t.call(method, `${base}${path}`, {
        as: p.user,
        ...(o.json !== undefined ? { json: o.json } : {}),
        ...(o.body ? { body: o.body } : {}),
        headers: { ...o.headers, ...(o.body ? { 'content-length': String(o.body.byteLength) } : {}) },
      })

  test('reads: list, head, get, tags', async () => {
    expect(await callsOf(api('/objects?prefix='), 200)).toEqual(['ListObjectsV2'])
    expect(await callsOf(api('/object?key=seed.bin', 'HEAD'), 200)).toEqual(['HeadObject'])
    expect(await callsOf(api('/object?key=seed.bin'), 200)).toEqual(['GetObject'])
    expect(await callsOf(api('/object/info?key=seed.bin'), 200)).toEqual(['HeadObject'])
    expect(await callsOf(api('/object/tags?key=seed.bin'), 200)).toEqual(['GetObjectTagging'])
  })

  test('a missing object: the HEAD 404 says nothing of the bucket, so the bucket is asked', async () => {
    expect(await callsOf(api('/object?key=missing.bin', 'HEAD'), 404)).toEqual(['HeadObject', 'HeadBucket'])
  })

  test('upload: one PutObject, its answer is the object info', async () => {
    expect(await callsOf(api('/object?key=up.bin', 'POST', { body: KiB, headers: { 'content-type': 'text/plain' } }), 201)).toEqual(['PutObject'])
  })

  test('upload into a capped bucket: the replaced object is sized first', async () => {
    const run = () =>
      p.t.call('POST', `/api/backends/rgw/buckets/${capped}/object?key=up.bin`, {
        as: p.user,
        body: KiB,
        headers: { 'content-type': 'text/plain', 'content-length': '1024' },
      })
    expect(await callsOf(run, 201)).toEqual(['HeadObject', 'PutObject'])
  })

  test('multipart: create, part, complete', async () => {
    rec.calls.length = 0
    const created = await p.t.call('POST', `${base}/multipart?key=mp.bin`, { as: p.user, json: { content_type: 'application/octet-stream' } })
    expect(created.status).toBe(201)
    expect(rec.calls).toEqual(['CreateMultipartUpload'])
    const { upload_id: uploadId } = (await created.json()) as { upload_id: string }
    const part = await callsOf(
      api(`/multipart/parts/1?key=mp.bin&upload_id=${encodeURIComponent(uploadId)}`, 'PUT', {
        body: KiB,
        headers: { 'content-type': 'application/octet-stream' },
      }),
      200,
    )
    expect(part).toEqual(['UploadPart'])
    rec.calls.length = 0
    const parts = (await (await p.t.call('GET', `${base}/multipart/parts?key=mp.bin&upload_id=${encodeURIComponent(uploadId)}`, { as: p.user })).json()) as {
      parts: Array<{ part_number: number; etag: string }>
    }
    const complete = await callsOf(
      api(`/multipart/complete?key=mp.bin&upload_id=${encodeURIComponent(uploadId)}`, 'POST', {
        json: { parts: parts.parts.map((x) => ({ PartNumber: x.part_number, ETag: x.etag })) },
      }),
      200,
    )
    // ListParts: a clean 404 for an unknown upload, and the size. The HEAD reads the content type
    // and metadata the answer names (and, on RGW 16.2, the ETag its completion leaves empty).
    expect(complete).toEqual(['ListParts', 'CompleteMultipartUpload', 'HeadObject'])
  })

  test('copy, move and metadata edit', async () => {
    expect(await callsOf(api('/object/copy', 'POST', { json: { src_key: 'seed.bin', dst_key: 'copy.bin' } }), 200)).toEqual(['HeadObject', 'CopyObject'])
    // A move is a copy, then the delete of the source.
    expect(await callsOf(api('/object/copy', 'POST', { json: { src_key: 'copy.bin', dst_key: 'moved.bin' } }), 200)).toEqual(['HeadObject', 'CopyObject'])
    expect(await callsOf(api('/object?key=copy.bin', 'DELETE'), 204)).toEqual(['HeadObject', 'DeleteObject'])
    // RGW drops the tags of a REPLACE copy, so a tagged object's tags are read first and put back after.
    expect(await callsOf(api('/object/metadata?key=seed.bin', 'PUT', { json: { metadata: { a: '1' } } }), 200)).toEqual([
      'HeadObject',
      'GetObjectTagging',
      'CopyObject',
      'PutObjectTagging',
    ])
    expect(await callsOf(api('/object/metadata?key=up.bin', 'PUT', { json: { metadata: { a: '1' } } }), 200)).toEqual(['HeadObject', 'CopyObject'])
  })

  test('tags and delete', async () => {
    expect(await callsOf(api('/object/tags?key=up.bin', 'PUT', { json: { tags: { k: 'v' } } }), 204)).toEqual(['PutObjectTagging'])
    // The single delete answers 404 for a missing object and frees its size at once: one HEAD for both.
    expect(await callsOf(api('/object?key=up.bin', 'DELETE'), 204)).toEqual(['HeadObject', 'DeleteObject'])
  })
})

describe('S3 listener', () => {
  const s3 =
    (method: string, path: string, o: { body?: Uint8Array; headers?: Record<string, string> } = {}) =>
    () =>
      p.signed(cred, method, path, o)

  test('without quota or size tracking, every operation is one upstream call', async () => {
    expect(await callsOf(s3('PUT', `/${plain}/p.bin`, { body: KiB }), 200)).toEqual(['PutObject'])
    expect(await callsOf(s3('GET', `/${plain}/p.bin`), 200)).toEqual(['GetObject'])
    expect(await callsOf(s3('HEAD', `/${plain}/p.bin`), 200)).toEqual(['HeadObject'])
    expect(await callsOf(s3('GET', `/${plain}?list-type=2&prefix=p`), 200)).toEqual(['ListObjectsV2'])
    expect(await callsOf(s3('PUT', `/${plain}/p2.bin`, { headers: { 'x-amz-copy-source': `/${plain}/p.bin` } }), 200)).toEqual(['CopyObject'])
    expect(await callsOf(s3('DELETE', `/${plain}/p2.bin`), 204)).toEqual(['DeleteObject'])
    expect(await callsOf(s3('GET', '/'), 200)).toEqual([])
  })

  test('multipart is one upstream call per step', async () => {
    rec.calls.length = 0
    const created = await p.signed(cred, 'POST', `/${plain}/mp2.bin?uploads`)
    const id = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())![1]!
    expect(rec.calls).toEqual(['CreateMultipartUpload'])
    rec.calls.length = 0
    const part = await p.signed(cred, 'PUT', `/${plain}/mp2.bin?partNumber=1&uploadId=${encodeURIComponent(id)}`, { body: KiB })
    const etag = part.headers.get('etag')!
    await part.text()
    expect(rec.calls).toEqual(['UploadPart'])
    const doc = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`
    expect(await callsOf(s3('POST', `/${plain}/mp2.bin?uploadId=${encodeURIComponent(id)}`, { body: new TextEncoder().encode(doc) }), 200)).toEqual([
      'CompleteMultipartUpload',
    ])
  })

  test('size tracking: a copy sizes its source and a delete what it frees; puts and reads pay nothing', async () => {
    expect(await callsOf(s3('PUT', `/${bucket}/t.bin`, { body: KiB }), 200)).toEqual(['PutObject'])
    expect(await callsOf(s3('GET', `/${bucket}/t.bin`), 200)).toEqual(['GetObject'])
    expect(await callsOf(s3('PUT', `/${bucket}/t2.bin`, { headers: { 'x-amz-copy-source': `/${bucket}/t.bin` } }), 200)).toEqual(['HeadObject', 'CopyObject'])
    expect(await callsOf(s3('DELETE', `/${bucket}/t2.bin`), 204)).toEqual(['HeadObject', 'DeleteObject'])
  })

  test('a hard quota: a put sizes what it replaces, and a missing object costs no bucket check', async () => {
    expect(await callsOf(s3('PUT', `/${capped}/new.bin`, { body: KiB }), 200)).toEqual(['HeadObject', 'PutObject'])
    expect(await callsOf(s3('PUT', `/${capped}/new.bin`, { body: KiB }), 200)).toEqual(['HeadObject', 'PutObject'])
    expect(await callsOf(s3('PUT', `/${capped}/copied.bin`, { headers: { 'x-amz-copy-source': `/${capped}/new.bin` } }), 200)).toEqual([
      'HeadObject',
      'CopyObject',
    ])
    expect(await callsOf(s3('GET', `/${capped}/new.bin`), 200)).toEqual(['GetObject'])
  })
})
