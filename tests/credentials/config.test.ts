// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * How configuration shapes the credential routes: a disabled proxy answers
 * 503 s3_proxy_disabled (after the access check), a missing master key 503
 * secret_key_unset, public_hostname drives the ready-to-paste URLs, and a
 * bucket name can be bound for anonymous reads on one backend only.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { errorCode, testApp, type Client, type TestApp } from '../helpers/app.ts'
import { s3Env } from '../helpers/s3.ts'
import { bucketName, emptyBucket } from '../s3proxy/fixture.ts'

function rgwDoc(id: string): Record<string, unknown> {
  const s3 = s3Env()
  return { id, type: 's3', endpoint: s3.endpoint, region: s3.region, access_key_env: 'RGW_AK', secret_key_env: 'RGW_SK', path_style: true }
}
const rgwEnv = (): Record<string, string> => ({ RGW_AK: s3Env().accessKey, RGW_SK: s3Env().secretKey })

describe('with the proxy disabled', () => {
  let t: TestApp
  let user: Client
  let admin: Client
  beforeAll(async () => {
    t = await testApp({ backends: [rgwDoc('rgw')] }, { env: rgwEnv() })
    user = await t.user('user')
    admin = await t.user('admin')
  })
  afterAll(() => t.close())

  test.each([
    ['GET', '/api/me/s3-credentials', undefined],
    ['POST', '/api/me/s3-credentials', { backend_id: 'rgw', buckets: ['x-bucket'] }],
    ['PATCH', '/api/me/s3-credentials/STWX', { enabled: false }],
    ['DELETE', '/api/me/s3-credentials/STWX', undefined],
  ])('%s %s answers 503 s3_proxy_disabled', async (method, path, json) => {
    const res = await t.call(method, path, { as: user, json })
    expect(res.status).toBe(503)
    expect(await errorCode(res)).toBe('s3_proxy_disabled')
  })

  test('admin routes too, but anonymous callers still get 401 first', async () => {
    for (const path of ['/api/admin/s3-credentials', '/api/admin/s3-anonymous', '/api/admin/s3-proxy/credentials', '/api/admin/s3-proxy/anonymous']) {
      expect(await errorCode(await t.call('GET', path, { as: admin }))).toBe('s3_proxy_disabled')
      expect((await t.call('GET', path)).status).toBe(401)
    }
  })
})

describe('without a master key', () => {
  let t: TestApp
  let bucket: string
  beforeAll(async () => {
    t = await testApp(
      { backends: [rgwDoc('rgw')], s3_proxy: { enabled: true, listen: '127.0.0.1:0' } },
      { env: { ...rgwEnv(), STOWAGE_SECRET_KEY: 'not-a-key' } },
    )
    bucket = bucketName('nokey')
    await t.s.registry.get('rgw').createBucket(bucket)
  })
  afterAll(async () => {
    await emptyBucket(t.s.registry.get('rgw'), bucket)
    await t.close()
  })

  test('minting answers 503 secret_key_unset', async () => {
    const res = await t.call('POST', '/api/me/s3-credentials', { as: await t.user('user'), json: { backend_id: 'rgw', buckets: [bucket] } })
    expect(res.status).toBe(503)
    expect(await errorCode(res)).toBe('secret_key_unset')
  })
})

describe('public_hostname and bindings across backends', () => {
  let t: TestApp
  let admin: Client
  let bucket: string
  beforeAll(async () => {
    t = await testApp(
      {
        backends: [rgwDoc('rgw'), rgwDoc('rgw2')],
        s3_proxy: { enabled: true, listen: '127.0.0.1:0', public_hostname: 's3.example.com', public_scheme: 'https' },
      },
      { env: rgwEnv() },
    )
    admin = await t.user('admin')
    bucket = bucketName('twice')
    await t.s.registry.get('rgw').createBucket(bucket)
  })
  afterAll(async () => {
    await emptyBucket(t.s.registry.get('rgw'), bucket)
    await t.close()
  })

  test('URLs use public_scheme://public_hostname', async () => {
    const res = await t.call('POST', '/api/admin/s3-credentials', { as: admin, json: { backend_id: 'rgw', buckets: [bucket] } })
    const c = (await res.json()) as { endpoint_url: string; bucket_urls: Record<string, string> }
    expect(c.endpoint_url).toBe('https://s3.example.com')
    expect(c.bucket_urls[bucket]).toBe(`https://s3.example.com/${bucket}`)
  })

  test('a bucket name bound on one backend cannot be bound on another (409)', async () => {
    // Both backends reach the same RGW, so the bucket exists on each: exactly the original's collision.
    expect((await t.call('POST', '/api/admin/s3-anonymous', { as: admin, json: { backend_id: 'rgw', bucket } })).status).toBe(200)
    const clash = await t.call('POST', '/api/admin/s3-anonymous', { as: admin, json: { backend_id: 'rgw2', bucket } })
    expect(clash.status).toBe(409)
    expect(await errorCode(clash)).toBe('conflict')
    expect(t.s.anonymous.byBucket(bucket)?.backendId).toBe('rgw')
  })

  test('deleting the bucket through the dashboard drops its binding', async () => {
    const other = bucketName('gone')
    await t.s.registry.get('rgw').createBucket(other)
    expect((await t.call('POST', '/api/admin/s3-anonymous', { as: admin, json: { backend_id: 'rgw', bucket: other } })).status).toBe(200)
    expect((await t.call('DELETE', `/api/backends/rgw/buckets/${other}`, { as: admin })).status).toBe(204)
    expect(t.s.anonymous.byBucket(other)).toBeUndefined()
  })
})
