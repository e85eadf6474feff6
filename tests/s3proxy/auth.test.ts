// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Authentication at the proxy against real RGW: header and presigned SigV4,
 * the ±15 minute window, presigned lifetimes up to 7 days, and every way a
 * key stops working (bad signature, unknown, disabled, revoked, expired,
 * owner disabled or deleted). Each refusal is S3 XML with a request id.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { presignUrl } from '../../src/s3/sign.ts'
import { proxyEnv, type Cred, type ProxyEnv } from './fixture.ts'
import { s3Error } from './xml.ts'

let p: ProxyEnv
let bucket: string
let cred: Cred

beforeAll(async () => {
  p = await proxyEnv()
  bucket = await p.bucket('auth')
  cred = await p.mint({ buckets: [bucket] })
  await p.rgw.putObject(bucket, 'hello.txt', new Response('hello').body!, { size: 5 })
})
afterAll(() => p.close())

const presign = (c: { access_key: string; secret_key: string }, path: string, o: { method?: string; expires: number; now?: Date }): URL =>
  presignUrl({
    method: o.method ?? 'GET',
    url: new URL(p.endpoint + path),
    accessKeyId: c.access_key,
    secretKey: c.secret_key,
    region: 'us-east-1',
    expiresSeconds: o.expires,
    now: o.now,
  })

describe('header auth', () => {
  test('a correctly signed request passes', async () => {
    const res = await p.signed(cred, 'GET', `/${bucket}/hello.txt`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('hello')
    expect(res.headers.get('x-amz-request-id')).toMatch(/^[A-Za-z0-9_-]{12}$/)
  })

  test('no authentication at all → 403 (anonymous access is off)', async () => {
    const res = await fetch(`${p.endpoint}/${bucket}/hello.txt`)
    expect(res.status).toBe(403)
    const e = await s3Error(res)
    expect(e.code).toBe('MissingAuthenticationToken')
    expect(e.resource).toBe(`/${bucket}/hello.txt`)
    expect(e.requestId).toBe(res.headers.get('x-amz-request-id')!)
    expect(res.headers.get('content-type')).toBe('application/xml')
  })

  test('a wrong secret → 403 SignatureDoesNotMatch', async () => {
    const res = await p.signed({ access_key: cred.access_key, secret_key: 'x'.repeat(40) }, 'GET', `/${bucket}/hello.txt`)
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('SignatureDoesNotMatch')
  })

  test('a tampered path → 403 SignatureDoesNotMatch', async () => {
    const url = presign(cred, `/${bucket}/hello.txt`, { expires: 60 })
    const res = await fetch(url.toString().replace('hello.txt', 'other.txt'))
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('SignatureDoesNotMatch')
  })

  test('an unknown access key → 403 InvalidAccessKeyId', async () => {
    const res = await p.signed({ access_key: 'STWUNKNOWNUNKNOWNUNK', secret_key: cred.secret_key }, 'GET', `/${bucket}/hello.txt`)
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('InvalidAccessKeyId')
  })

  test('a request time 16 minutes off → 403 RequestTimeTooSkewed; 14 minutes is fine', async () => {
    const late = await p.signed(cred, 'GET', `/${bucket}/hello.txt`, { now: new Date(Date.now() - 16 * 60_000) })
    expect(late.status).toBe(403)
    expect((await s3Error(late)).code).toBe('RequestTimeTooSkewed')
    expect((await p.signed(cred, 'GET', `/${bucket}/hello.txt`, { now: new Date(Date.now() + 14 * 60_000) })).status).toBe(200)
  })

  test('an x-amz-* header that was not signed → 403', async () => {
    const url = presign(cred, `/${bucket}/hello.txt`, { expires: 60 })
    const res = await fetch(url, { headers: { 'x-amz-copy-source': `${bucket}/hello.txt` } })
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('AccessDenied')
  })
})

describe('presigned URLs', () => {
  test('a GET signed an hour ago for two hours still works (no 15-minute cut-off)', async () => {
    const url = presign(cred, `/${bucket}/hello.txt`, { expires: 7200, now: new Date(Date.now() - 3_600_000) })
    const res = await fetch(url)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('hello')
  })

  test('a URL signed six days ago for seven days still works', async () => {
    const url = presign(cred, `/${bucket}/hello.txt`, { expires: 604800, now: new Date(Date.now() - 6 * 86_400_000) })
    expect((await fetch(url)).status).toBe(200)
  })

  test('an expired URL (replayed after expiry) → 403 AccessDenied', async () => {
    const url = presign(cred, `/${bucket}/hello.txt`, { expires: 1 })
    expect((await fetch(url)).status).toBe(200)
    await Bun.sleep(2100)
    const res = await fetch(url)
    expect(res.status).toBe(403)
    const e = await s3Error(res)
    expect(e.code).toBe('AccessDenied')
    expect(e.message).toContain('expired')
  })

  test('more than 7 days → 400 AuthorizationQueryParametersError', async () => {
    const url = presign(cred, `/${bucket}/hello.txt`, { expires: 60 })
    url.searchParams.set('X-Amz-Expires', '604801')
    const res = await fetch(url)
    expect(res.status).toBe(400)
    expect((await s3Error(res)).code).toBe('AuthorizationQueryParametersError')
  })

  test('a presigned PUT uploads', async () => {
    const url = presign(cred, `/${bucket}/presigned-put.txt`, { method: 'PUT', expires: 300 })
    const res = await fetch(url, { method: 'PUT', body: 'via presigned put' })
    expect(res.status).toBe(200)
    const got = await p.rgw.getObject(bucket, 'presigned-put.txt')
    expect(got.status).toBe(200)
    expect(await new Response((got as { body: ReadableStream }).body).text()).toBe('via presigned put')
  })
})

describe('Signature Version 2', () => {
  /** A URL from boto3's default presigner, which signs SigV2 unless told to use SigV4. */
  async function boto3Url(c: Cred, key: string): Promise<string> {
    const script = `
import boto3, os
c = boto3.client('s3', endpoint_url=os.environ['PROXY'], aws_access_key_id=os.environ['AK'], aws_secret_access_key=os.environ['SK'], region_name='us-east-1')
print(c.generate_presigned_url('get_object', Params={'Bucket': os.environ['BUCKET'], 'Key': os.environ['KEY']}, ExpiresIn=300))
`
    const proc = Bun.spawn(['/usr/bin/python3', '-c', script], {
      env: { ...process.env, PROXY: p.endpoint, AK: c.access_key, SK: c.secret_key, BUCKET: bucket, KEY: key } as Record<string, string>,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    if (code !== 0) throw new Error(`python3 exited ${code}: ${err}`)
    return out.trim()
  }

  test("a presigned URL from boto3's default signer → 400 InvalidRequest naming SigV4, as S3 answers", async () => {
    const url = await boto3Url(cred, 'hello.txt')
    expect(url).toContain('AWSAccessKeyId=')
    const res = await fetch(url)
    expect(res.status).toBe(400)
    const e = await s3Error(res)
    expect(e.code).toBe('InvalidRequest')
    expect(e.message).toContain('AWS4-HMAC-SHA256')
    expect(e.message).toContain('Signature Version 4')
  })

  test('an Authorization header of Signature Version 2 → the same answer', async () => {
    const res = await fetch(`${p.endpoint}/${bucket}/hello.txt`, {
      headers: { authorization: `AWS ${cred.access_key}:frJIUN8DYpKDtOLCwo//yllqDzg=`, date: new Date().toUTCString() },
    })
    expect(res.status).toBe(400)
    const e = await s3Error(res)
    expect(e.code).toBe('InvalidRequest')
    expect(e.message).toContain('Signature Version 4')
  })
})

describe('keys that stop working', () => {
  test('disabling a key refuses its very next request; enabling restores it', async () => {
    const c = await p.mint({ buckets: [bucket] })
    const client = p.sdk(c)
    await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }))
    await p.t.call('PATCH', `/api/admin/s3-credentials/${c.access_key}`, { as: p.admin, json: { enabled: false } })
    const res = await p.signed(c, 'GET', `/${bucket}/hello.txt`)
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('InvalidAccessKeyId')
    await p.t.call('PATCH', `/api/admin/s3-credentials/${c.access_key}`, { as: p.admin, json: { enabled: true } })
    expect((await p.signed(c, 'GET', `/${bucket}/hello.txt`)).status).toBe(200)
  })

  test('a revoked key is refused at once', async () => {
    const c = await p.mint({ buckets: [bucket] })
    expect((await p.signed(c, 'GET', `/${bucket}/hello.txt`)).status).toBe(200)
    await p.t.call('DELETE', `/api/admin/s3-credentials/${c.access_key}`, { as: p.admin })
    expect((await s3Error(await p.signed(c, 'GET', `/${bucket}/hello.txt`))).code).toBe('InvalidAccessKeyId')
  })

  test('an expired key is refused', async () => {
    const c = await p.mint({ buckets: [bucket], expires_at: new Date(Date.now() + 1500).toISOString() })
    expect((await p.signed(c, 'GET', `/${bucket}/hello.txt`)).status).toBe(200)
    await Bun.sleep(1600)
    const res = await p.signed(c, 'GET', `/${bucket}/hello.txt`)
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('InvalidAccessKeyId')
  })

  test("a disabled owner's key is refused; a deleted owner's too", async () => {
    const owner = await p.t.user('user')
    const c = await p.mint({ buckets: [bucket] }, owner)
    expect((await p.signed(c, 'GET', `/${bucket}/hello.txt`)).status).toBe(200)
    await p.t.call('PATCH', `/api/admin/users/${owner.userId}`, { as: p.admin, json: { enabled: false } })
    expect((await s3Error(await p.signed(c, 'GET', `/${bucket}/hello.txt`))).code).toBe('InvalidAccessKeyId')
    await p.t.call('PATCH', `/api/admin/users/${owner.userId}`, { as: p.admin, json: { enabled: true } })
    expect((await p.signed(c, 'GET', `/${bucket}/hello.txt`)).status).toBe(200)
    await p.t.call('DELETE', `/api/admin/users/${owner.userId}`, { as: p.admin })
    expect((await s3Error(await p.signed(c, 'GET', `/${bucket}/hello.txt`))).code).toBe('InvalidAccessKeyId')
  })

  test('an owner demoted to readonly keeps reads but loses writes', async () => {
    const owner = await p.t.user('user')
    const c = await p.mint({ buckets: [bucket] }, owner)
    const client = p.sdk(c)
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'demoted.txt', Body: 'a' }))
    await p.t.call('PATCH', `/api/admin/users/${owner.userId}`, { as: p.admin, json: { role: 'readonly' } })
    expect((await p.signed(c, 'GET', `/${bucket}/demoted.txt`)).status).toBe(200)
    const res = await p.signed(c, 'PUT', `/${bucket}/demoted.txt`, { body: 'b' })
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('AccessDenied')
  })
})
