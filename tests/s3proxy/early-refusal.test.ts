// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Refusals the proxy gives before reading an upload's body (403, 501, 507)
 * reach clients that send the whole body before they read the answer, as
 * Python's http.client does (boto3, s3cmd and requests all sit on it) when no
 * `Expect: 100-continue` is sent: the proxy answers, then reads and discards
 * a bounded part of the body (a lingering close) so the client is not reset
 * mid-send. A client that keeps sending past the bound is cut off.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { presignUrl } from '../../src/s3/sign.ts'
import { proxyEnv, type Cred, type ProxyEnv } from './fixture.ts'

const MiB = 1024 * 1024
let p: ProxyEnv
let bucket: string
let capped: string
let cred: Cred

beforeAll(async () => {
  p = await proxyEnv()
  bucket = await p.bucket('early')
  capped = await p.bucket('early-capped')
  cred = await p.mint({ buckets: [bucket, capped] })
  const res = await p.t.call('PUT', `/api/backends/rgw/buckets/${capped}/quota`, { as: p.admin, json: { hard_bytes: MiB } })
  expect(res.status).toBe(200)
})
afterAll(() => p.close())

type Outcome = { status?: number; code?: string; error?: string; second?: number }

/**
 * PUTs `size` bytes with http.client, which writes the whole body before reading, then (when
 * the first answer arrived) sends a GET on the same connection to see whether it is still usable.
 */
async function pythonPut(url: string, size: number, next?: string): Promise<Outcome> {
  const script = `
import http.client, json, re, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
size = int(sys.argv[2])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
out = {}
try:
    c.request('PUT', u.path + '?' + u.query, body=b'x' * size)
    r = c.getresponse()
    body = r.read().decode()
    out['status'] = r.status
    m = re.search('<Code>([^<]*)</Code>', body)
    out['code'] = m.group(1) if m else body[:200]
    if len(sys.argv) > 3:
        n = urllib.parse.urlsplit(sys.argv[3])
        c.request('GET', n.path + '?' + n.query)
        r = c.getresponse()
        r.read()
        out['second'] = r.status
except Exception as e:
    out['error'] = type(e).__name__
print(json.dumps(out))
`
  const proc = Bun.spawn(['/usr/bin/python3', '-c', script, url, String(size), ...(next ? [next] : [])], { stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`python3 exited ${code}: ${err.slice(-2000)}`)
  return JSON.parse(out) as Outcome
}

const presign = (path: string, o: { method?: string; secret?: string } = {}): string =>
  presignUrl({
    method: o.method ?? 'PUT',
    url: new URL(p.endpoint + path),
    accessKeyId: cred.access_key,
    secretKey: o.secret ?? cred.secret_key,
    region: 'us-east-1',
    expiresSeconds: 300,
  }).toString()

async function settle(): Promise<void> {
  const end = Date.now() + 5000
  while (p.running.proxy!.inFlight() > 0 && Date.now() < end) await Bun.sleep(20)
}

describe('answered before the body is read, without Expect: 100-continue', () => {
  test('403 SignatureDoesNotMatch reaches a client sending 8 and 24 MiB', async () => {
    for (const size of [8 * MiB, 24 * MiB]) {
      expect(await pythonPut(presign(`/${bucket}/bad-sig`, { secret: 'w'.repeat(40) }), size)).toEqual({ status: 403, code: 'SignatureDoesNotMatch' })
    }
  }, 30_000)

  test('403 AccessDenied for a bucket out of scope', async () => {
    expect(await pythonPut(presign(`/not-${bucket}/x`), 16 * MiB)).toEqual({ status: 403, code: 'AccessDenied' })
  }, 30_000)

  test('501 NotImplemented for an operation outside the allowlist', async () => {
    expect(await pythonPut(presign(`/${bucket}/x?torrent`), 16 * MiB)).toEqual({ status: 501, code: 'NotImplemented' })
  }, 30_000)

  test('507 QuotaExceeded past a hard cap; nothing stored', async () => {
    expect(await pythonPut(presign(`/${capped}/too-big`), 16 * MiB)).toEqual({ status: 507, code: 'QuotaExceeded' })
    await expect(p.rgw.headObject(capped, 'too-big')).rejects.toThrow()
  }, 30_000)

  test('once the body is drained the connection serves the next request', async () => {
    await p.rgw.putObject(bucket, 'there', new Response('there').body!, { size: 5 })
    expect(await pythonPut(presign(`/${bucket}/bad-sig`, { secret: 'w'.repeat(40) }), 4 * MiB, presign(`/${bucket}/there`, { method: 'GET' }))).toEqual({
      status: 403,
      code: 'SignatureDoesNotMatch',
      second: 200,
    })
  }, 30_000)

  test('a client that keeps sending past the bound is cut off, and the proxy lets go of it', async () => {
    const started = Date.now()
    const out = await pythonPut(presign(`/${bucket}/bad-sig`, { secret: 'w'.repeat(40) }), 256 * MiB)
    expect(out.error).toMatch(/BrokenPipeError|ConnectionResetError/)
    expect(Date.now() - started).toBeLessThan(20_000)
    await settle()
    expect(p.running.proxy!.inFlight()).toBe(0)
  }, 60_000)
})
