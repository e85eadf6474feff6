// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Per-bucket CORS answered by the proxy from the dashboard's rules:
 * preflights before authentication, CORS headers on actual responses
 * (errors included), refusals for origins, methods and headers no rule allows.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { proxyEnv, type Cred, type ProxyEnv } from './fixture.ts'
import { s3Error } from './xml.ts'

let p: ProxyEnv
let bucket: string
let bare: string
let cred: Cred

beforeAll(async () => {
  p = await proxyEnv()
  bucket = await p.bucket('cors')
  bare = await p.bucket('nocors')
  cred = await p.mint({ buckets: [bucket, bare] })
  await p.rgw.putObject(bucket, 'page.txt', new Response('page').body!, { size: 4 })
  const res = await p.t.call('PUT', `/api/backends/rgw/buckets/${bucket}/cors`, {
    as: p.admin,
    json: {
      rules: [
        {
          allowed_origins: ['https://app.example'],
          allowed_methods: ['GET', 'PUT'],
          allowed_headers: ['content-type', 'x-amz-*'],
          expose_headers: ['etag'],
          max_age_seconds: 600,
        },
        { allowed_origins: ['*'], allowed_methods: ['HEAD'] },
      ],
    },
  })
  expect(res.status).toBe(204)
})
afterAll(() => p.close())

const preflight = (b: string, origin: string, method: string, headers?: string): Promise<Response> =>
  fetch(`${p.endpoint}/${b}/page.txt`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, ...(headers ? { 'access-control-request-headers': headers } : {}) },
  })

describe('preflight (no signature needed)', () => {
  test('an allowed origin, method and headers → 200 with the CORS headers', async () => {
    const res = await preflight(bucket, 'https://app.example', 'PUT', 'Content-Type, X-Amz-Date, x-amz-content-sha256')
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, PUT')
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type, x-amz-date, x-amz-content-sha256')
    expect(res.headers.get('access-control-max-age')).toBe('600')
    expect(res.headers.get('access-control-allow-credentials')).toBe('true')
    expect(res.headers.get('vary')).toContain('Origin')
  })

  test('a wildcard rule answers with *', async () => {
    const res = await preflight(bucket, 'https://anyone.example', 'HEAD')
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
  })

  test.each([
    ['another origin', 'https://evil.example', 'GET', undefined],
    ['a method no rule allows', 'https://app.example', 'DELETE', undefined],
    ['a header no rule allows', 'https://app.example', 'PUT', 'x-custom'],
  ])('%s → 403', async (_, origin, method, headers) => {
    const res = await preflight(bucket, origin, method, headers)
    expect(res.status).toBe(403)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    expect((await s3Error(res)).code).toBe('AccessForbidden')
  })

  test('a bucket without rules → 403; a preflight without Origin → 400', async () => {
    expect((await preflight(bare, 'https://app.example', 'GET')).status).toBe(403)
    expect((await fetch(`${p.endpoint}/${bucket}/page.txt`, { method: 'OPTIONS' })).status).toBe(400)
  })
})

describe('actual responses', () => {
  test('carry the CORS headers for a matching origin', async () => {
    const res = await p.signed(cred, 'GET', `/${bucket}/page.txt`, { headers: { origin: 'https://app.example' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(res.headers.get('access-control-expose-headers')).toBe('etag')
  })

  test('errors too, so the page can read them', async () => {
    const res = await p.signed(cred, 'GET', `/${bucket}/missing`, { headers: { origin: 'https://app.example' } })
    expect(res.status).toBe(404)
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example')
  })

  test('no headers for other origins or buckets without rules', async () => {
    expect(
      (await p.signed(cred, 'GET', `/${bucket}/page.txt`, { headers: { origin: 'https://evil.example' } })).headers.get('access-control-allow-origin'),
    ).toBeNull()
    expect((await p.signed(cred, 'GET', `/${bare}`, { headers: { origin: 'https://app.example' } })).headers.get('access-control-allow-origin')).toBeNull()
  })
})
