// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every bad input to the bucket, object and multipart routes is a catalogued
 * 4xx — never a 500 — on both storage kinds.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ERROR_CATALOGUE } from '../../src/http/errors.ts'
import type { Client } from '../helpers/app.ts'
import { KINDS, objectEnv, type Env } from './fixture.ts'

type Attempt = { name: string; method: string; path: string; json?: unknown; body?: string; headers?: Record<string, string>; want?: number }

const BAD_KEYS = ['a/../b', '..', 'ctl\u0007char', 'nul\u0000byte', 'x'.repeat(1025), 'bidi\u202ename']

describe.each(KINDS)('bad input on %s', (kind) => {
  let e: Env
  beforeAll(async () => {
    e = await objectEnv(kind)
    expect((await e.put('exists.txt', 'hello')).status).toBe(201)
  }, 60_000)
  afterAll(() => e.close(), 60_000)

  async function check(a: Attempt, as: Client = e.admin): Promise<void> {
    const res = await e.t.call(a.method, a.path, {
      as,
      ...(a.json !== undefined ? { json: a.json } : {}),
      ...(a.body !== undefined ? { body: a.body } : {}),
      headers: a.headers,
    })
    const text = await res.text()
    const label = `${a.name}: ${a.method} ${a.path.slice(0, 120)} → ${res.status} ${text.slice(0, 200)}`
    expect(res.status >= 400 && res.status < 500, label).toBe(true)
    if (a.want) expect(res.status, label).toBe(a.want)
    if (a.method === 'HEAD') return
    const code = (JSON.parse(text) as { error: { code: string } }).error.code
    expect(code in ERROR_CATALOGUE, label).toBe(true)
  }

  const keyRoutes = (key: string | undefined): Attempt[] => {
    const k = key === undefined ? '' : `?key=${encodeURIComponent(key)}`
    const kk = key === undefined ? '?upload_id=x' : `?key=${encodeURIComponent(key)}&upload_id=x`
    return [
      { name: 'get', method: 'GET', path: `${e.base}/object${k}` },
      { name: 'head', method: 'HEAD', path: `${e.base}/object${k}` },
      { name: 'info', method: 'GET', path: `${e.base}/object/info${k}` },
      { name: 'delete', method: 'DELETE', path: `${e.base}/object${k}` },
      { name: 'tags', method: 'GET', path: `${e.base}/object/tags${k}` },
      { name: 'put tags', method: 'PUT', path: `${e.base}/object/tags${k}`, json: { tags: {} } },
      { name: 'metadata', method: 'PUT', path: `${e.base}/object/metadata${k}`, json: { metadata: {} } },
      { name: 'versions', method: 'GET', path: `${e.base}/object/versions${k}` },
      { name: 'upload', method: 'POST', path: `${e.base}/object${k}`, body: 'abc', headers: { 'content-type': 'text/plain', 'content-length': '3' } },
      { name: 'mp create', method: 'POST', path: `${e.base}/multipart${k}` },
      { name: 'mp part', method: 'PUT', path: `${e.base}/multipart/parts/1${kk}`, body: 'abc', headers: { 'content-length': '3' } },
      { name: 'mp parts', method: 'GET', path: `${e.base}/multipart/parts${kk}` },
      { name: 'mp complete', method: 'POST', path: `${e.base}/multipart/complete${kk}`, json: { parts: [{ PartNumber: 1, ETag: 'x' }] } },
      { name: 'mp abort', method: 'DELETE', path: `${e.base}/multipart${kk}` },
      { name: 'zip', method: 'GET', path: `${e.base}/objects/zip${k}` },
    ]
  }

  test('a missing key parameter', async () => {
    for (const a of keyRoutes(undefined)) await check(a)
  })

  test('bad keys: "..", control characters, NUL, 1025 bytes, bidi overrides', async () => {
    for (const key of BAD_KEYS) for (const a of keyRoutes(key)) await check(a)
    for (const key of BAD_KEYS) {
      await check({ name: 'folder', method: 'POST', path: `${e.base}/objects/folder`, json: { key } }, e.user)
      await check({ name: 'copy src', method: 'POST', path: `${e.base}/object/copy`, json: { src_key: key, dst_key: 'x' } })
      await check({ name: 'copy dst', method: 'POST', path: `${e.base}/object/copy`, json: { src_key: 'exists.txt', dst_key: key } })
      await check({ name: 'list prefix', method: 'GET', path: `${e.base}/objects?prefix=${encodeURIComponent(key)}` })
      await check({ name: 'delete prefix', method: 'POST', path: `${e.base}/objects/delete-prefix`, json: { prefix: `${key}/` } })
      await check({ name: 'copy prefix', method: 'POST', path: `${e.base}/objects/copy-prefix`, json: { src_prefix: `${key}/`, dst_prefix: 'x/' } })
      await check({ name: 'mp list', method: 'GET', path: `${e.base}/multipart?prefix=${encodeURIComponent(key)}` })
    }
  })

  test('bad bucket names and unknown backends/buckets/keys', async () => {
    for (const bucket of ['Bad_Name', 'ab', 'a..b', '-x-']) {
      const base = `/api/backends/${e.bid}/buckets/${bucket}`
      for (const a of [
        { name: 'list', method: 'GET', path: `${base}/objects`, want: 400 },
        { name: 'get', method: 'GET', path: `${base}/object?key=a`, want: 400 },
        {
          name: 'upload',
          method: 'POST',
          path: `${base}/object?key=a`,
          body: 'abc',
          headers: { 'content-type': 'text/plain', 'content-length': '3' },
          want: 400,
        },
        { name: 'delete bucket', method: 'DELETE', path: base, want: 400 },
        { name: 'mp list', method: 'GET', path: `${base}/multipart`, want: 400 },
      ]) {
        await check(a)
      }
    }
    const unknownBucket = `/api/backends/${e.bid}/buckets/no-such-bucket-zz`
    const unknownBackend = `/api/backends/nope/buckets/${e.bucket}`
    for (const base of [unknownBucket, unknownBackend]) {
      for (const a of [
        { name: 'list', method: 'GET', path: `${base}/objects` },
        { name: 'get', method: 'GET', path: `${base}/object?key=a` },
        { name: 'info', method: 'GET', path: `${base}/object/info?key=a` },
        { name: 'upload', method: 'POST', path: `${base}/object?key=a`, body: 'abc', headers: { 'content-type': 'text/plain', 'content-length': '3' } },
        { name: 'folder', method: 'POST', path: `${base}/objects/folder`, json: { key: 'f' } },
        { name: 'bulk', method: 'POST', path: `${base}/objects/delete`, json: { keys: [{ key: 'a' }] } },
        { name: 'delete prefix', method: 'POST', path: `${base}/objects/delete-prefix`, json: { prefix: 'a/' } },
        { name: 'copy prefix', method: 'POST', path: `${base}/objects/copy-prefix`, json: { src_prefix: 'a/', dst_prefix: 'b/' } },
        { name: 'zip', method: 'GET', path: `${base}/objects/zip?key=a` },
        { name: 'mp list', method: 'GET', path: `${base}/multipart` },
        { name: 'mp create', method: 'POST', path: `${base}/multipart?key=a` },
      ]) {
        await check({ ...a, want: 404 })
      }
    }
    for (const a of [
      { name: 'get', method: 'GET', path: `${e.base}/object?key=missing` },
      { name: 'info', method: 'GET', path: `${e.base}/object/info?key=missing` },
      { name: 'tags', method: 'GET', path: `${e.base}/object/tags?key=missing` },
      { name: 'metadata', method: 'PUT', path: `${e.base}/object/metadata?key=missing`, json: { metadata: { a: 'b' } } },
      { name: 'copy', method: 'POST', path: `${e.base}/object/copy`, json: { src_key: 'missing', dst_key: 'x' } },
    ]) {
      await check({ ...a, want: 404 })
    }
  })

  test('bad ranges', async () => {
    for (const range of ['bytes=10-', 'bytes=9-3', 'bytes=x-y', 'bytes=-0', 'bytes=', 'bytes']) {
      await check({ name: 'range', method: 'GET', path: `${e.base}/object?key=exists.txt`, headers: { range }, want: 416 })
    }
  })

  test('bad JSON, wrong JSON shapes and wrong content types', async () => {
    const jsonRoutes: Array<[string, string]> = [
      ['POST', `/api/backends/${e.bid}/buckets`],
      ['POST', `${e.base}/objects/delete`],
      ['POST', `${e.base}/objects/delete-prefix`],
      ['POST', `${e.base}/objects/copy-prefix`],
      ['POST', `${e.base}/objects/folder`],
      ['POST', `${e.base}/object/copy`],
      ['PUT', `${e.base}/object/tags?key=exists.txt`],
      ['PUT', `${e.base}/object/metadata?key=exists.txt`],
      ['POST', `${e.base}/multipart?key=a`],
      ['POST', `${e.base}/multipart/complete?key=a&upload_id=x`],
    ]
    for (const [method, path] of jsonRoutes) {
      await check({ name: 'bad json', method, path, body: '{"oops": ', headers: { 'content-type': 'application/json' }, want: 400 })
      await check({
        name: 'wrong shape',
        method,
        path,
        json: { tags: 'no', keys: 'no', metadata: 7, parts: {}, name: 5, key: 5, prefix: 5, src_key: 1, src_prefix: 1 },
        want: 400,
      })
      await check({ name: 'xml', method, path, body: '<a/>', headers: { 'content-type': 'application/xml' } })
    }
  })

  test('huge JSON bodies are 413 too_large', async () => {
    const big = 'x'.repeat(1100 * 1024)
    for (const [method, path, json] of [
      ['POST', `/api/backends/${e.bid}/buckets`, { name: big }],
      ['POST', `${e.base}/objects/delete`, { keys: [{ key: big }] }],
      ['POST', `${e.base}/objects/delete-prefix`, { prefix: big }],
      ['POST', `${e.base}/objects/copy-prefix`, { src_prefix: big, dst_prefix: 'x/' }],
      ['POST', `${e.base}/objects/folder`, { key: big }],
      ['POST', `${e.base}/object/copy`, { src_key: big, dst_key: 'x' }],
      ['PUT', `${e.base}/object/tags?key=exists.txt`, { tags: { a: big } }],
      ['PUT', `${e.base}/object/metadata?key=exists.txt`, { metadata: { a: big } }],
      ['POST', `${e.base}/multipart?key=a`, { metadata: { a: big } }],
      ['POST', `${e.base}/multipart/complete?key=a&upload_id=x`, { parts: [{ PartNumber: 1, ETag: big }] }],
    ] as Array<[string, string, unknown]>) {
      await check({ name: 'huge', method, path, json, want: 413 })
    }
  })
})
