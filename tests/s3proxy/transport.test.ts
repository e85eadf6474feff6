// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The proxy's wire behaviour: exact Content-Length both ways, no 100 Continue
 * before authorization, a client that disconnects mid-upload leaves no
 * object, virtual-hosted addressing, dot segments kept, and an unreachable
 * backend answered 503.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import net from 'node:net'
import { signRequest } from '../../src/s3/sign.ts'
import { s3Env, tcpRelay, type Relay } from '../helpers/s3.ts'
import { until } from '../helpers/until.ts'
import { proxyEnv, signedHead, type Cred, type ProxyEnv } from './fixture.ts'
import { s3Error } from './xml.ts'

const MiB = 1024 * 1024
let p: ProxyEnv
let bucket: string
let cred: Cred

beforeAll(async () => {
  p = await proxyEnv({ s3_proxy: { host_suffixes: ['s3.test'] } })
  bucket = await p.bucket('wire')
  cred = await p.mint({ buckets: [bucket] })
})
afterAll(() => p.close())

describe('bodies', () => {
  test('a 20 MiB object streams up and down with its exact Content-Length', async () => {
    const data = new Uint8Array(20 * MiB).map((_, i) => (i * 31) % 256)
    const put = await p.signed(cred, 'PUT', `/${bucket}/twenty`, { body: data })
    expect(put.status).toBe(200)
    const get = await p.signed(cred, 'GET', `/${bucket}/twenty`)
    expect(get.headers.get('content-length')).toBe(String(data.length))
    expect(get.headers.get('transfer-encoding')).toBeNull()
    const got = new Uint8Array(await get.arrayBuffer())
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'))
    const range = await p.signed(cred, 'GET', `/${bucket}/twenty`, { headers: { range: 'bytes=10-19' } })
    expect(range.status).toBe(206)
    expect(range.headers.get('content-range')).toBe(`bytes 10-19/${data.length}`)
    expect([...new Uint8Array(await range.arrayBuffer())]).toEqual([...data.subarray(10, 20)])
  }, 60_000)

  test('a client that disconnects mid-upload leaves no object and no request in flight', async () => {
    const r = rawRequestTo(p, signedHead(p, cred, 'PUT', `/${bucket}/abandoned`, { 'content-length': String(8 * MiB) }))
    r.socket.write(Buffer.alloc(2 * MiB, 1))
    await Bun.sleep(300)
    r.socket.destroy()
    await until(() => p.running.proxy!.inFlight() === 0)
    await Bun.sleep(300)
    await expect(p.rgw.headObject(bucket, 'abandoned')).rejects.toThrow()
  })
})

describe('Expect: 100-continue', () => {
  test('a refused upload gets its final answer instead of 100 Continue', async () => {
    const r = rawRequestTo(
      p,
      signedHead(p, { ...cred, secret_key: 'w'.repeat(40) }, 'PUT', `/${bucket}/expect-bad`, { 'content-length': String(MiB), expect: '100-continue' }),
    )
    await until(() => r.received().includes('\r\n\r\n'))
    expect(r.received()).toStartWith('HTTP/1.1 403')
    expect(r.received()).not.toContain('100 Continue')
    r.socket.destroy()
  })

  test('an authorized upload gets 100 Continue, then its answer', async () => {
    const r = rawRequestTo(p, signedHead(p, cred, 'PUT', `/${bucket}/expect-ok`, { 'content-length': '5', expect: '100-continue' }))
    await until(() => r.received().includes('100 Continue'))
    r.socket.write('hello')
    await until(() => /HTTP\/1\.1 200/.test(r.received()))
    r.socket.destroy()
    expect((await p.rgw.headObject(bucket, 'expect-ok')).size).toBe(5)
  })
})

describe('addressing', () => {
  test('virtual-hosted requests (bucket.<host_suffix>) reach the bucket', async () => {
    const port = p.running.proxy!.port
    const host = `${bucket}.s3.test:${port}`
    const headers = new Headers({ host, 'content-length': '7' })
    signRequest({
      method: 'PUT',
      url: { host, pathname: '/vhost.txt', search: '' },
      headers,
      payloadHash: 'UNSIGNED-PAYLOAD',
      accessKeyId: cred.access_key,
      secretKey: cred.secret_key,
      region: 'us-east-1',
    })
    const res = await fetch(`http://127.0.0.1:${port}/vhost.txt`, { method: 'PUT', headers, body: 'virtual' })
    expect(res.status).toBe(200)
    expect((await p.rgw.headObject(bucket, 'vhost.txt')).size).toBe(7)
  })

  test('dot segments are part of the key, never resolved', async () => {
    const r = rawRequestTo(p, signedHead(p, cred, 'PUT', `/${bucket}/dots/../x.txt`, { 'content-length': '4' }))
    r.socket.write('dots')
    await until(() => /HTTP\/1\.1 \d{3}/.test(r.received()))
    r.socket.destroy()
    expect(r.received()).toStartWith('HTTP/1.1 200')
    const listed = await p.rgw.listObjects(bucket, { prefix: 'dots/', delimiter: '' })
    expect(listed.objects.map((o) => o.key)).toEqual(['dots/../x.txt'])
  })

  test('an invalid percent-escape → 400 InvalidURI', async () => {
    const res = await fetch(`${p.endpoint}/${bucket}/bad%zzescape`)
    expect(res.status).toBe(400)
    expect((await s3Error(res)).code).toBe('InvalidURI')
  })
})

describe('an upstream that fails', () => {
  let q: ProxyEnv
  let relay: Relay
  let key: Cred
  let b: string
  beforeAll(async () => {
    const s3 = s3Env()
    relay = await tcpRelay(s3.endpoint)
    q = await proxyEnv({
      app: {
        backends: [
          { id: 'rgw', type: 's3', endpoint: s3.endpoint, region: s3.region, access_key_env: 'RGW_AK', secret_key_env: 'RGW_SK', path_style: true },
          { id: 'relayed', type: 's3', endpoint: relay.endpoint, region: s3.region, access_key_env: 'RGW_AK', secret_key_env: 'RGW_SK', path_style: true },
        ],
      },
    })
    b = await q.bucket('relayed')
    await q.rgw.putObject(b, 'big', new Response(new Uint8Array(32 * MiB)).body!, { size: 32 * MiB })
    key = await q.mint({ backend_id: 'relayed', buckets: [b] })
  }, 60_000)
  afterAll(async () => {
    await relay.stop().catch(() => {})
    await q.close()
  })

  test('a client that goes away mid-download closes the upstream connection and leaves no request in flight', async () => {
    const r = rawRequestTo(q, signedHead(q, key, 'GET', `/${b}/big`))
    // Stops reading after the first MiB, so the answer cannot have ended.
    r.socket.on('data', () => r.received().length > MiB && r.socket.pause())
    await until(() => r.received().length > MiB, 10_000)
    const openDuring = relay.open()
    r.socket.destroy()
    await until(() => q.running.proxy!.inFlight() === 0, 10_000)
    // The upstream connection was mid-answer: it is closed, not pooled.
    await until(() => relay.open() < openDuring, 10_000)
  }, 30_000)

  test('a download whose upstream dies mid-body is cut, never completed short', async () => {
    const r = rawRequestTo(q, signedHead(q, key, 'GET', `/${b}/big`))
    r.socket.pause()
    await until(() => relay.accepted() > 0 && r.received().length > 0, 10_000).catch(() => {})
    await relay.stop()
    r.socket.resume()
    await r.closed
    const [head, ...rest] = r.received().split('\r\n\r\n')
    expect(head).toStartWith('HTTP/1.1 200')
    expect(head).toContain(`content-length: ${32 * MiB}`)
    expect(Buffer.byteLength(rest.join('\r\n\r\n'), 'latin1')).toBeLessThan(32 * MiB)
  }, 30_000)

  test('an unreachable upstream → 503 ServiceUnavailable', async () => {
    const res = await q.signed(key, 'GET', `/${b}/big`)
    expect(res.status).toBe(503)
    expect((await s3Error(res)).code).toBe('ServiceUnavailable')
  })
})

function rawRequestTo(env: ProxyEnv, head: string): { socket: net.Socket; received: () => string; closed: Promise<void> } {
  const socket = net.connect(env.running.proxy!.port, '127.0.0.1')
  let data = ''
  socket.on('data', (d) => (data += d.toString('latin1')))
  const closed = new Promise<void>((r) => socket.on('close', () => r()))
  socket.write(head)
  return { socket, received: () => data, closed }
}
