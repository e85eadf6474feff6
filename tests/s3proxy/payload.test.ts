// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Payload modes through the proxy into real RGW: a body that does not match
 * its signed SHA-256, a bad chunk signature, a wrong trailer checksum or an
 * oversized chunk never becomes an object; valid aws-chunked bodies (signed,
 * signed with trailer, unsigned with trailer) arrive decoded with their exact
 * length; a chunked body without Content-Length is 411.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { signRequest } from '../../src/s3/sign.ts'
import { encodeSigned, encodeUnsigned, signerFor } from './sigv4/helpers.ts'
import { proxyEnv, type Cred, type ProxyEnv } from './fixture.ts'
import { s3Error } from './xml.ts'

let p: ProxyEnv
let bucket: string
let cred: Cred

beforeAll(async () => {
  p = await proxyEnv()
  bucket = await p.bucket('payload')
  cred = await p.mint({ buckets: [bucket] })
})
afterAll(() => p.close())

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex')
const crc32b64 = (b: Uint8Array): string => {
  const v = crc32(b) >>> 0
  return Buffer.from([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]).toString('base64')
}

async function exists(key: string): Promise<boolean> {
  try {
    await p.rgw.headObject(bucket, key)
    return true
  } catch {
    return false
  }
}

async function content(key: string): Promise<string> {
  const got = await p.rgw.getObject(bucket, key)
  return new Response((got as { body: ReadableStream }).body).text()
}

/** Signs a streaming PUT and returns the headers plus what encodes its body. */
function streaming(key: string, mode: string, decodedLength: number, encodedLength: number, extra: Record<string, string> = {}) {
  const url = new URL(`${p.endpoint}/${bucket}/${key}`)
  const headers = new Headers({
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(decodedLength),
    'content-length': String(encodedLength),
    ...extra,
  })
  signRequest({ method: 'PUT', url, headers, payloadHash: mode, accessKeyId: cred.access_key, secretKey: cred.secret_key, region: 'us-east-1' })
  const seed = /Signature=([0-9a-f]{64})/.exec(headers.get('authorization')!)![1]!
  return { url, headers, seed, signer: signerFor(cred.secret_key, headers.get('x-amz-date')!) }
}

/** The encoded length does not depend on signatures, so encode once with a dummy seed to size it. */
function encodedSize(data: Uint8Array, chunk: number, trailers?: string[]): number {
  return encodeSigned(signerFor('x', '20260101T000000Z'), '0'.repeat(64), data, chunk, trailers).body.length
}

describe('signed payload hash', () => {
  test('a matching body is stored', async () => {
    const body = 'signed and sound'
    const res = await p.signed(cred, 'PUT', `/${bucket}/signed-ok`, { body, payloadHash: sha256(body) })
    expect(res.status).toBe(200)
    expect(await content('signed-ok')).toBe(body)
  })

  test('a body that differs from its signed SHA-256 is refused and never stored', async () => {
    const res = await p.signed(cred, 'PUT', `/${bucket}/signed-bad`, { body: 'the body actually sent', payloadHash: sha256('the body that was signed') })
    expect(res.status).toBe(400)
    expect((await s3Error(res)).code).toBe('XAmzContentSHA256Mismatch')
    expect(await exists('signed-bad')).toBe(false)
  })

  test('the same for a 3 MiB body (the last piece is held back)', async () => {
    const data = new Uint8Array(3 * 1024 * 1024).fill(1)
    const signedFor = new Uint8Array(data)
    signedFor[signedFor.length - 1] = 2
    const res = await p.signed(cred, 'PUT', `/${bucket}/signed-big-bad`, { body: data, payloadHash: sha256(signedFor) })
    expect(res.status).toBe(400)
    expect(await exists('signed-big-bad')).toBe(false)
  })
})

describe('bodies read whole share reused buffers', () => {
  test('concurrent uploads, some refused, each store exactly their own bytes', async () => {
    const sizes = [1024 * 1024, 700_000, 1024 * 1024, 1, 65_537, 1024 * 1024 - 1]
    const bodies = sizes.map((n, i) => new Uint8Array(n).fill(i + 1))
    const refused = (i: number): boolean => i % 3 === 2
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(
        bodies.map((body, i) => {
          const signedFor = refused(i) ? new Uint8Array(body.byteLength).fill(200) : body
          return p.signed(cred, 'PUT', `/${bucket}/pooled-${round}-${i}`, { body, payloadHash: sha256(signedFor) })
        }),
      )
      expect(results.map((r) => r.status)).toEqual(bodies.map((_, i) => (refused(i) ? 400 : 200)))
    }
    for (let round = 0; round < 3; round++) {
      for (const [i, body] of bodies.entries()) {
        if (refused(i)) expect(await exists(`pooled-${round}-${i}`)).toBe(false)
        else {
          const got = await p.rgw.getObject(bucket, `pooled-${round}-${i}`)
          expect(sha256(new Uint8Array(await new Response((got as { body: ReadableStream }).body).arrayBuffer()))).toBe(sha256(body))
        }
      }
    }
  })
})

describe('aws-chunked bodies', () => {
  const data = new Uint8Array(200_000).map((_, i) => i % 251)

  test('STREAMING-AWS4-HMAC-SHA256-PAYLOAD is decoded and stored with its exact length', async () => {
    const s = streaming('chunked-ok', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', data.length, encodedSize(data, 65536))
    const { body } = encodeSigned(s.signer, s.seed, data, 65536)
    const res = await fetch(s.url, { method: 'PUT', headers: s.headers, body: body as BodyInit })
    expect(res.status).toBe(200)
    const head = await p.rgw.headObject(bucket, 'chunked-ok')
    expect(head.size).toBe(data.length)
  })

  test('a bad chunk signature → 403 SignatureDoesNotMatch, nothing stored', async () => {
    const s = streaming('chunked-bad-sig', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', data.length, encodedSize(data, 65536))
    const { body } = encodeSigned(s.signer, s.seed, data, 65536)
    body[body.length - 200]! ^= 1
    const res = await fetch(s.url, { method: 'PUT', headers: s.headers, body: body as BodyInit })
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('SignatureDoesNotMatch')
    expect(await exists('chunked-bad-sig')).toBe(false)
  })

  test('a chunk over 16 MiB → 400 InvalidChunkSizeError', async () => {
    const s = streaming('chunked-huge', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 17 * 1024 * 1024, 100)
    const res = await fetch(s.url, { method: 'PUT', headers: s.headers, body: `1100000;chunk-signature=${'0'.repeat(64)}\r\n`.padEnd(100, 'x') })
    expect(res.status).toBe(400)
    expect((await s3Error(res)).code).toBe('InvalidChunkSizeError')
    expect(await exists('chunked-huge')).toBe(false)
  })

  test('signed chunks with a CRC32 trailer are verified and stored', async () => {
    const trailers = [`x-amz-checksum-crc32:${crc32b64(data)}`]
    const s = streaming('trailer-ok', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', data.length, encodedSize(data, 65536, trailers), {
      'x-amz-trailer': 'x-amz-checksum-crc32',
    })
    const { body } = encodeSigned(s.signer, s.seed, data, 65536, trailers)
    const res = await fetch(s.url, { method: 'PUT', headers: s.headers, body: body as BodyInit })
    expect(res.status).toBe(200)
    expect((await p.rgw.headObject(bucket, 'trailer-ok')).size).toBe(data.length)
  })

  test('unsigned chunks with a CRC32 trailer (the SDKs’ default) are verified and stored', async () => {
    const body = encodeUnsigned(data, 65536, [`x-amz-checksum-crc32:${crc32b64(data)}`])
    const s = streaming('unsigned-trailer-ok', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', data.length, body.length, { 'x-amz-trailer': 'x-amz-checksum-crc32' })
    const res = await fetch(s.url, { method: 'PUT', headers: s.headers, body: body as BodyInit })
    expect(res.status).toBe(200)
    expect((await p.rgw.headObject(bucket, 'unsigned-trailer-ok')).size).toBe(data.length)
  })

  test('a wrong trailer checksum → 400 BadDigest, nothing stored', async () => {
    const body = encodeUnsigned(data, 65536, [`x-amz-checksum-crc32:${crc32b64(new Uint8Array(3))}`])
    const s = streaming('unsigned-trailer-bad', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', data.length, body.length, { 'x-amz-trailer': 'x-amz-checksum-crc32' })
    const res = await fetch(s.url, { method: 'PUT', headers: s.headers, body: body as BodyInit })
    expect(res.status).toBe(400)
    expect((await s3Error(res)).code).toBe('BadDigest')
    expect(await exists('unsigned-trailer-bad')).toBe(false)
  })

  test('a body shorter than x-amz-decoded-content-length → 400 IncompleteBody', async () => {
    const body = encodeUnsigned(data, 65536, [`x-amz-checksum-crc32:${crc32b64(data)}`])
    const s = streaming('short', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', data.length + 10, body.length, { 'x-amz-trailer': 'x-amz-checksum-crc32' })
    const res = await fetch(s.url, { method: 'PUT', headers: s.headers, body: body as BodyInit })
    expect(res.status).toBe(400)
    expect((await s3Error(res)).code).toBe('IncompleteBody')
    expect(await exists('short')).toBe(false)
  })
})

describe('framing', () => {
  test('a chunked upload without Content-Length → 411 MissingContentLength', async () => {
    const url = new URL(`${p.endpoint}/${bucket}/no-length`)
    const headers = new Headers({ 'transfer-encoding': 'chunked' })
    signRequest({ method: 'PUT', url, headers, payloadHash: 'UNSIGNED-PAYLOAD', accessKeyId: cred.access_key, secretKey: cred.secret_key, region: 'us-east-1' })
    let sent = false
    const body = new ReadableStream({
      pull(c) {
        if (sent) return c.close()
        sent = true
        c.enqueue(new TextEncoder().encode('streamed without a length'))
      },
    })
    const res = await fetch(url, { method: 'PUT', headers, body, duplex: 'half' } as RequestInit)
    expect(res.status).toBe(411)
    expect((await s3Error(res)).code).toBe('MissingContentLength')
  })

  test('a DeleteObjects document over 2 MiB → 400 MaxMessageLengthExceeded, nothing deleted', async () => {
    await p.rgw.putObject(bucket, 'kept', new Response('kept').body!, { size: 4 })
    const doc = `<Delete><Object><Key>kept</Key></Object>${'<Object><Key>x</Key></Object>'.repeat(80_000)}</Delete>`
    const res = await p.signed(cred, 'POST', `/${bucket}?delete`, { body: doc })
    expect(res.status).toBe(400)
    expect((await s3Error(res)).code).toBe('MaxMessageLengthExceeded')
    expect((await p.rgw.headObject(bucket, 'kept')).size).toBe(4)
  })

  test('the AWS SDK with its default checksums uploads and downloads byte-exactly', async () => {
    const c = p.sdk(cred)
    const data = new Uint8Array(1_500_000).map((_, i) => (i * 7) % 256)
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'sdk-default', Body: data }))
    const got = new Uint8Array(await (await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'sdk-default' }))).Body!.transformToByteArray())
    expect(sha256(got)).toBe(sha256(data))
  })
})
