// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Per-route body caps: an oversized body is 413 `too_large` whether or not the
 * client declared a Content-Length, before the whole body is read; streaming
 * routes are never parsed by the framework.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from 'bun:test'
import { Elysia } from 'elysia'
import { bodyLimitFor, DEFAULT_LIMIT, registerBodyLimit } from '../../src/http/body-limits.ts'
import { errorCode, testApp, type Client, type TestApp } from '../helpers/app.ts'
import { servedApp, type Served } from './support.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

const LOGIN_CAP = 4 * 1024
const bigLogin = (size: number): string => JSON.stringify({ username: 'admin', password: 'x'.repeat(size) })

function streamOf(text: string, chunk = 512): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  let at = 0
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close()
      c.enqueue(bytes.subarray(at, at + chunk))
      at += chunk
    },
  })
}

let t: TestApp
let admin: Client
let streamed = 0
beforeAll(async () => {
  t = await testApp()
  registerBodyLimit('POST', '/api/test/upload', 'stream')
  t.s.app.use(
    new Elysia().post('/api/test/upload', async ({ request }) => {
      streamed = 0
      for await (const c of request.body as unknown as AsyncIterable<Uint8Array>) streamed += c.byteLength
      return { bytes: streamed }
    }),
  )
  admin = await t.user('admin')
})
afterAll(() => t.close())

describe('in process', () => {
  test('the login cap is 4 KiB', () => {
    expect(bodyLimitFor('POST', '/auth/login/local')).toBe(LOGIN_CAP)
    expect(bodyLimitFor('POST', '/api/unlisted')).toBe(DEFAULT_LIMIT)
  })

  test('an oversized login with Content-Length is 413 too_large', async () => {
    const body = bigLogin(LOGIN_CAP)
    const res = await t.call('POST', '/auth/login/local', { body, headers: { 'content-type': 'application/json', 'content-length': String(body.length) } })
    expect(res.status).toBe(413)
    expect(await errorCode(res)).toBe('too_large')
  })

  test('an oversized login without Content-Length (streamed) is 413 too_large', async () => {
    const res = await t.s.fetch(
      new Request('http://localhost/auth/login/local', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: streamOf(bigLogin(10 * LOGIN_CAP)),
        // @ts-expect-error duplex is needed for stream bodies
        duplex: 'half',
      }),
    )
    expect(res.headers.get('content-length')).not.toBe('0')
    expect(res.status).toBe(413)
    expect(await errorCode(res)).toBe('too_large')
  })

  test('a login just under the cap is judged on its merits', async () => {
    const res = await t.call('POST', '/auth/login/local', { body: bigLogin(LOGIN_CAP - 100), headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(401)
    expect(await errorCode(res)).toBe('invalid_credentials')
  })

  test('admin user creation is capped at 4 KiB too, after the session check', async () => {
    const json = { username: 'capped', password: 'y'.repeat(5000), role: 'user' }
    const res = await t.call('POST', '/api/admin/users', { as: admin, json })
    expect(res.status).toBe(413)
    expect(await errorCode(res)).toBe('too_large')
  })

  test('a streaming route is never parsed or buffered by the framework', async () => {
    const size = DEFAULT_LIMIT * 3
    const res = await t.call('POST', '/api/test/upload', { body: streamOf('{' + ' '.repeat(size - 1), 4096), headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ bytes: size })
    const octet = await t.call('POST', '/api/test/upload', { body: new Uint8Array(size), headers: { 'content-type': 'application/octet-stream' } })
    expect(await octet.json()).toEqual({ bytes: size })
  })
})

describe('on a real port', () => {
  let served: Served
  beforeAll(async () => {
    served = await servedApp()
  })
  afterAll(() => served.stop())

  test('with Content-Length', async () => {
    const res = await fetch(`${served.base}/auth/login/local`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bigLogin(LOGIN_CAP) })
    expect(res.status).toBe(413)
    expect(await errorCode(res)).toBe('too_large')
  })

  test('chunked, without Content-Length, refused before the whole body is sent', async () => {
    let sent = 0
    const total = 8 * 1024 * 1024
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= total) return c.close()
        const chunk = new TextEncoder().encode(sent === 0 ? '{"username":"a","password":"' + 'z'.repeat(16 * 1024 - 29) : 'z'.repeat(16 * 1024))
        sent += chunk.byteLength
        c.enqueue(chunk)
      },
    })
    const res = await fetch(`${served.base}/auth/login/local`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(await errorCode(res)).toBe('too_large')
    expect(sent).toBeLessThan(total)
  })
})
