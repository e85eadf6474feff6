// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Headers between the client and the upstream in both directions: the
 * allowlisted headers of an error answer (what AWS and MinIO send on a 404
 * for a delete marker, a 405 for reading one, a 412) reach the client as on
 * a success, while the upstream's own ids and body framing do not; and
 * `If-Range` goes upstream with the range it guards.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { httpGate, s3Env, type GateAnswer, type GateRequest } from '../helpers/s3.ts'
import { proxyEnv, type Cred, type ProxyEnv } from './fixture.ts'
import { s3Error } from './xml.ts'

let p: ProxyEnv
let gate: Awaited<ReturnType<typeof httpGate>>
let bucket: string
let cred: Cred
const answers = new Map<string, GateAnswer>()
const seen: GateRequest[] = []

const LAST_MODIFIED = 'Wed, 02 Dec 2026 10:00:00 GMT'
const errorDoc = (code: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>m</Message><RequestId>upstream-req</RequestId><HostId>upstream-host</HostId></Error>`

beforeAll(async () => {
  const s3 = s3Env()
  gate = await httpGate(s3.endpoint, {
    before: async (r) => {
      seen.push(r)
      return answers.get(r.url.pathname.split('/').pop() ?? '')
    },
  })
  p = await proxyEnv({
    app: {
      backends: [
        { id: 'rgw', type: 's3', endpoint: s3.endpoint, region: s3.region, access_key_env: 'RGW_AK', secret_key_env: 'RGW_SK', path_style: true },
        { id: 'gated', type: 's3', endpoint: gate.endpoint, region: s3.region, access_key_env: 'RGW_AK', secret_key_env: 'RGW_SK', path_style: true },
      ],
    },
  })
  bucket = await p.bucket('hdrs')
  cred = await p.mint({ backend_id: 'gated', buckets: [bucket] })
})
afterAll(async () => {
  await p.close()
  await gate.stop()
})

describe('error answers keep their allowlisted headers', () => {
  test('404 NoSuchKey for a delete marker: x-amz-delete-marker and x-amz-version-id', async () => {
    answers.set('deleted', {
      status: 404,
      body: errorDoc('NoSuchKey'),
      headers: {
        'x-amz-delete-marker': 'true',
        'x-amz-version-id': 'dm-version-1',
        'x-amz-request-id': 'upstream-req',
        'x-amz-id-2': 'upstream-host',
        server: 'AmazonS3',
      },
    })
    const res = await p.signed(cred, 'GET', `/${bucket}/deleted`)
    expect(res.status).toBe(404)
    expect(res.headers.get('x-amz-delete-marker')).toBe('true')
    expect(res.headers.get('x-amz-version-id')).toBe('dm-version-1')
    expect(res.headers.get('x-amz-request-id')).not.toBe('upstream-req')
    expect(res.headers.get('x-amz-id-2')).toBeNull()
    expect(res.headers.get('server')).toBeNull()
    const text = await res.text()
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(text))
    expect(text).toContain('<Code>NoSuchKey</Code>')
  })

  test('405 MethodNotAllowed on a delete-marker version: Last-Modified, Allow and the marker headers', async () => {
    answers.set('marker', {
      status: 405,
      body: errorDoc('MethodNotAllowed'),
      headers: { 'x-amz-delete-marker': 'true', 'x-amz-version-id': 'dm-version-2', 'last-modified': LAST_MODIFIED, allow: 'DELETE' },
    })
    const res = await p.signed(cred, 'GET', `/${bucket}/marker?versionId=dm-version-2`)
    expect(res.status).toBe(405)
    expect(res.headers.get('x-amz-delete-marker')).toBe('true')
    expect(res.headers.get('x-amz-version-id')).toBe('dm-version-2')
    expect(res.headers.get('last-modified')).toBe(LAST_MODIFIED)
    expect(res.headers.get('allow')).toBe('DELETE')
    expect((await s3Error(res)).code).toBe('MethodNotAllowed')
  })

  test('412 PreconditionFailed: ETag and Last-Modified', async () => {
    answers.set('changed', { status: 412, body: errorDoc('PreconditionFailed'), headers: { etag: '"abc"', 'last-modified': LAST_MODIFIED } })
    const res = await p.signed(cred, 'GET', `/${bucket}/changed`, { headers: { 'if-match': '"other"' } })
    expect(res.status).toBe(412)
    expect(res.headers.get('etag')).toBe('"abc"')
    expect(res.headers.get('last-modified')).toBe(LAST_MODIFIED)
  })

  test("a refusal of the proxy's own signature keeps none of them", async () => {
    answers.set('unsigned', { status: 403, body: errorDoc('SignatureDoesNotMatch'), headers: { 'x-amz-version-id': 'leak', 'last-modified': LAST_MODIFIED } })
    const res = await p.signed(cred, 'GET', `/${bucket}/unsigned`)
    expect(res.status).toBe(502)
    expect(res.headers.get('x-amz-version-id')).toBeNull()
    expect(res.headers.get('last-modified')).toBeNull()
  })
})

describe('If-Range', () => {
  test('goes upstream with the range it guards', async () => {
    await p.rgw.putObject(bucket, 'ranged', new Response('hello world').body!, { size: 11 })
    seen.length = 0
    const res = await p.signed(cred, 'GET', `/${bucket}/ranged`, { headers: { range: 'bytes=0-3', 'if-range': '"some-etag"' } })
    expect([200, 206]).toContain(res.status)
    const up = seen.find((r) => r.url.pathname.endsWith('/ranged'))!
    expect(up.headers['if-range']).toBe('"some-etag"')
    expect(up.headers.range).toBe('bytes=0-3')
    expect(String(up.headers.authorization)).toContain('if-range')
  })
})

describe('HEAD', () => {
  test('an error answer to HEAD passes the same allowlist, and no body', async () => {
    answers.set('head-deleted', {
      status: 404,
      body: '',
      headers: { 'x-amz-delete-marker': 'true', 'x-amz-version-id': 'dm-3', location: 'http://upstream.internal/elsewhere' },
    })
    const res = await p.signed(cred, 'HEAD', `/${bucket}/head-deleted`)
    expect(res.status).toBe(404)
    expect(res.headers.get('x-amz-delete-marker')).toBe('true')
    expect(res.headers.get('x-amz-version-id')).toBe('dm-3')
    expect(res.headers.get('location')).toBeNull()
    expect(await res.text()).toBe('')
  })
})
