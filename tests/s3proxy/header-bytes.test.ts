// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Header values are bytes: a signed header that carries UTF-8 (boto3's
 * Content-Disposition with a non-ASCII file name, a Go client's raw UTF-8
 * user metadata) verifies at the proxy, is re-signed for the upstream over
 * the same bytes, and comes back byte for byte, as RGW itself stores it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import net from 'node:net'
import { SignatureV4 } from '@smithy/signature-v4'
import { s3Env } from '../helpers/s3.ts'
import { proxyEnv, type Cred, type ProxyEnv } from './fixture.ts'
import { s3Error } from './xml.ts'

const DISPOSITION = 'attachment; filename="naïve ☃.txt"'
const NOTE = 'naïve ☃ 日本'

let p: ProxyEnv
let bucket: string
let cred: Cred

beforeAll(async () => {
  p = await proxyEnv()
  bucket = await p.bucket('bytes')
  cred = await p.mint({ buckets: [bucket] })
})
afterAll(() => p.close())

type Source = string | ArrayBuffer | ArrayBufferView
class NodeSha256 {
  private readonly h: Hash | Hmac
  constructor(secret?: Source) {
    this.h =
      secret === undefined
        ? createHash('sha256')
        : createHmac('sha256', typeof secret === 'string' ? secret : new Uint8Array(ArrayBuffer.isView(secret) ? secret.buffer : secret))
  }
  update(data: Source): void {
    this.h.update(typeof data === 'string' ? data : new Uint8Array(ArrayBuffer.isView(data) ? data.buffer : data))
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest())
  }
}

/** The head of a raw answer: status and headers, values kept as the bytes they were. */
type RawAnswer = { status: number; headers: Map<string, Buffer>; body: Buffer }

/**
 * Signs like a Go client does (the SDK's signer over the Unicode text, i.e. its UTF-8
 * bytes) and sends the header values as raw UTF-8 over a socket, which fetch cannot do.
 */
async function rawSigned(
  endpoint: string,
  key: { access_key: string; secret_key: string },
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): Promise<RawAnswer> {
  const url = new URL(endpoint)
  const signer = new SignatureV4({
    credentials: { accessKeyId: key.access_key, secretAccessKey: key.secret_key },
    region: 'us-east-1',
    service: 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
  })
  const all = { ...headers, host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) }
  const signed = (await signer.sign({
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query: {},
    headers: all,
  } as never)) as unknown as { headers: Record<string, string> }
  const parts = [Buffer.from(`${method} ${path} HTTP/1.1\r\n`)]
  for (const [name, value] of Object.entries(signed.headers)) parts.push(Buffer.from(`${name}: `), Buffer.from(value, 'utf8'), Buffer.from('\r\n'))
  parts.push(Buffer.from('connection: close\r\n\r\n'), Buffer.from(body))
  const socket = net.connect(Number(url.port), url.hostname)
  const chunks: Buffer[] = []
  socket.on('data', (d) => chunks.push(d))
  socket.write(Buffer.concat(parts))
  await new Promise<void>((r) => socket.on('close', () => r()))
  const all2 = Buffer.concat(chunks)
  const end = all2.indexOf('\r\n\r\n')
  const lines = all2.subarray(0, end).toString('latin1').split('\r\n')
  const out = new Map<string, Buffer>()
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    out.set(line.slice(0, colon).toLowerCase(), Buffer.from(line.slice(colon + 1).trim(), 'latin1'))
  }
  return { status: Number(lines[0]!.split(' ')[1]), headers: out, body: all2.subarray(end + 4) }
}

async function python(script: string, env: Record<string, string>): Promise<string> {
  const proc = Bun.spawn(['/usr/bin/python3', '-c', script], { env: { ...process.env, ...env } as Record<string, string>, stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`python3 exited ${code}: ${err.slice(-2000)}`)
  return out
}

describe('boto3 (python3-boto3)', () => {
  // boto3 sends a str header as UTF-8 and hands back what it receives decoded as Latin-1; the
  // hex of that decoding is the bytes on the wire.
  const script = `
import boto3, os, sys, binascii
def client(endpoint, ak, sk):
    return boto3.client('s3', endpoint_url=endpoint, aws_access_key_id=ak, aws_secret_access_key=sk, region_name='us-east-1')
proxy = client(os.environ['PROXY'], os.environ['AK'], os.environ['SK'])
rgw = client(os.environ['RGW'], os.environ['RGW_AK'], os.environ['RGW_SK'])
proxy.put_object(Bucket=os.environ['BUCKET'], Key='via-proxy.txt', Body=b'hi', ContentDisposition=os.environ['DISPOSITION'])
rgw.put_object(Bucket=os.environ['BUCKET'], Key='direct.txt', Body=b'hi', ContentDisposition=os.environ['DISPOSITION'])
for c, key in [(proxy, 'via-proxy.txt'), (rgw, 'via-proxy.txt'), (proxy, 'direct.txt'), (rgw, 'direct.txt')]:
    h = c.head_object(Bucket=os.environ['BUCKET'], Key=key)
    g = c.get_object(Bucket=os.environ['BUCKET'], Key=key)
    print(binascii.hexlify(h['ContentDisposition'].encode('latin-1')).decode(), binascii.hexlify(g['ContentDisposition'].encode('latin-1')).decode())
`

  test('a PutObject whose signed Content-Disposition is UTF-8 is stored, and reads back byte-identical through the proxy and from RGW', async () => {
    const s3 = s3Env()
    const out = await python(script, {
      PROXY: p.endpoint,
      AK: cred.access_key,
      SK: cred.secret_key,
      RGW: s3.endpoint,
      RGW_AK: s3.accessKey,
      RGW_SK: s3.secretKey,
      BUCKET: bucket,
      DISPOSITION,
    })
    const expected = Buffer.from(DISPOSITION, 'utf8').toString('hex')
    const lines = out.trim().split('\n')
    expect(lines).toHaveLength(4)
    for (const line of lines) expect(line).toBe(`${expected} ${expected}`)
  }, 30_000)
})

describe('a Go-style client (raw UTF-8 user metadata, signed over its bytes)', () => {
  test('PutObject is accepted; GetObject and HeadObject return the same bytes, as RGW does', async () => {
    const put = await rawSigned(p.endpoint, cred, 'PUT', `/${bucket}/meta.txt`, { 'x-amz-meta-note': NOTE, 'content-disposition': DISPOSITION }, 'body')
    expect([put.status, put.body.toString()]).toEqual([200, ''])
    for (const method of ['GET', 'HEAD']) {
      const got = await rawSigned(p.endpoint, cred, method, `/${bucket}/meta.txt`, {})
      expect(got.status).toBe(200)
      expect(got.headers.get('x-amz-meta-note')!.equals(Buffer.from(NOTE, 'utf8'))).toBe(true)
      expect(got.headers.get('content-disposition')!.equals(Buffer.from(DISPOSITION, 'utf8'))).toBe(true)
    }
    const s3 = s3Env()
    const direct = await rawSigned(s3.endpoint, { access_key: s3.accessKey, secret_key: s3.secretKey }, 'HEAD', `/${bucket}/meta.txt`, {})
    expect(direct.headers.get('x-amz-meta-note')!.equals(Buffer.from(NOTE, 'utf8'))).toBe(true)
  })

  test('the signature binds those bytes: the same text sent in Latin-1 under that signature is refused', async () => {
    const url = new URL(p.endpoint)
    const signer = new SignatureV4({
      credentials: { accessKeyId: cred.access_key, secretAccessKey: cred.secret_key },
      region: 'us-east-1',
      service: 's3',
      sha256: NodeSha256,
      uriEscapePath: false,
    })
    const headers = { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-meta-note': 'naïve' }
    const signed = (await signer.sign({
      method: 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: `/${bucket}/meta.txt`,
      query: {},
      headers,
    } as never)) as unknown as { headers: Record<string, string> }
    // fetch sends 'ï' as the single byte 0xEF; the signature covers its UTF-8 form, C3 AF.
    const res = await fetch(`${p.endpoint}/${bucket}/meta.txt`, { headers: signed.headers })
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('SignatureDoesNotMatch')
  })
})
