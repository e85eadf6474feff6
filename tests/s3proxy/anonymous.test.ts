// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Anonymous read-only bindings through the proxy: unsigned reads of a bound
 * bucket work, everything else is refused, the per-IP limit answers 503
 * SlowDown with Retry-After, and the kill switch turns it all off.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { proxyEnv, type ProxyEnv } from './fixture.ts'
import { s3Error } from './xml.ts'

describe('with anonymous access enabled', () => {
  let p: ProxyEnv
  let pub: string
  let priv: string
  beforeAll(async () => {
    p = await proxyEnv({ s3_proxy: { anonymous_enabled: true } })
    pub = await p.bucket('public')
    priv = await p.bucket('private')
    await p.rgw.putObject(pub, 'index.html', new Response('<h1>hi</h1>').body!, { size: 11, contentType: 'text/html' })
    await p.rgw.putObject(priv, 'secret.txt', new Response('secret').body!, { size: 6 })
    const res = await p.t.call('POST', '/api/admin/s3-anonymous', { as: p.admin, json: { backend_id: 'rgw', bucket: pub, per_source_ip_rps: 3 } })
    expect(res.status).toBe(200)
  })
  afterAll(() => p.close())

  test('GET, HEAD and listings of a bound bucket work without a signature', async () => {
    const get = await fetch(`${p.endpoint}/${pub}/index.html`)
    expect(get.status).toBe(200)
    expect(await get.text()).toBe('<h1>hi</h1>')
    // Served from the dashboard's site: an HTML object must not run script there.
    expect(get.headers.get('content-security-policy')).toContain('sandbox')
    expect(get.headers.get('x-content-type-options')).toBe('nosniff')
    expect((await fetch(`${p.endpoint}/${pub}/index.html`, { method: 'HEAD' })).status).toBe(200)
    await Bun.sleep(1100)
    const list = await fetch(`${p.endpoint}/${pub}?list-type=2`)
    expect(list.status).toBe(200)
    expect(await list.text()).toContain('<Key>index.html</Key>')
  })

  test('a Signature Version 2 URL of a bound bucket is refused as unsupported, not served as anonymous', async () => {
    const res = await fetch(
      `${p.endpoint}/${pub}/index.html?AWSAccessKeyId=STWNOBODYNOBODYNOBOD&Expires=4102444800&Signature=frJIUN8DYpKDtOLCwo%2F%2FyllqDzg%3D`,
    )
    expect(res.status).toBe(400)
    expect((await s3Error(res)).code).toBe('InvalidRequest')
  })

  test('an unbound bucket is refused', async () => {
    await Bun.sleep(1100)
    const res = await fetch(`${p.endpoint}/${priv}/secret.txt`)
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('AccessDenied')
  })

  test('writes, deletes, sub-resources and old versions are refused', async () => {
    await Bun.sleep(1100)
    for (const [method, path] of [
      ['PUT', `/${pub}/new.txt`],
      ['DELETE', `/${pub}/index.html`],
      ['GET', `/${pub}?acl`],
    ] as const) {
      const res = await fetch(`${p.endpoint}${path}`, { method, body: method === 'PUT' ? 'x' : undefined })
      expect(res.status).toBe(403)
      expect((await s3Error(res)).code).toBe('AccessDenied')
    }
    await Bun.sleep(1100)
    expect((await fetch(`${p.endpoint}/${pub}/index.html?versionId=abc`)).status).toBe(403)
    expect((await fetch(`${p.endpoint}/${pub}?versions`)).status).toBe(403)
    expect((await fetch(`${p.endpoint}/`)).status).toBe(403)
  })

  test('the per-IP limit answers 503 SlowDown with Retry-After', async () => {
    await Bun.sleep(2500)
    const statuses: number[] = []
    let retryAfter: string | null = null
    for (let i = 0; i < 60 && retryAfter === null; i++) {
      const res = await fetch(`${p.endpoint}/${pub}/index.html`, { method: 'HEAD' })
      statuses.push(res.status)
      if (res.status === 503) retryAfter = res.headers.get('retry-after')
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(7)
    expect(statuses).toContain(503)
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
  })

  test('signed requests still use the signature path', async () => {
    const cred = await p.mint({ buckets: [priv] })
    expect((await p.signed(cred, 'GET', `/${priv}/secret.txt`)).status).toBe(200)
  })
})

describe('with the kill switch off', () => {
  let p: ProxyEnv
  let pub: string
  beforeAll(async () => {
    p = await proxyEnv({ s3_proxy: { anonymous_enabled: false } })
    pub = await p.bucket('public-off')
    await p.rgw.putObject(pub, 'a.txt', new Response('a').body!, { size: 1 })
    await p.t.call('POST', '/api/admin/s3-anonymous', { as: p.admin, json: { backend_id: 'rgw', bucket: pub } })
  })
  afterAll(() => p.close())

  test('a bound bucket is not readable anonymously', async () => {
    const res = await fetch(`${p.endpoint}/${pub}/a.txt`)
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('MissingAuthenticationToken')
  })
})
