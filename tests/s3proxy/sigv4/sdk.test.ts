// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Requests signed by the real AWS SDK for JavaScript v3 (@aws-sdk/client-s3, and the SDK's
 * @smithy/signature-v4 presigner the way @aws-sdk/s3-request-presigner drives it), captured
 * instead of sent and fed to the verifier and the aws-chunked decoder.
 */
import { describe, expect, test } from 'bun:test'
import { createHash, createHmac, randomBytes, type Hash, type Hmac } from 'node:crypto'
import { Readable } from 'node:stream'
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type ChecksumAlgorithm } from '@aws-sdk/client-s3'

type AnyCommand = GetObjectCommand | PutObjectCommand | ListObjectsV2Command
import { SignatureV4 } from '@smithy/signature-v4'
import { chunkedOptionsFor, decodeAwsChunked } from '../../../src/s3proxy/sigv4/chunked.ts'
import { verifyPayloadSha256 } from '../../../src/s3proxy/sigv4/payload-hash.ts'
import { verifyRequest, type SigV4Request, type VerifyOk } from '../../../src/s3proxy/sigv4/verify.ts'
import { readAll, readError, streamOf } from './helpers.ts'

const credentials = { accessKeyId: 'SDKTESTKEY', secretAccessKey: 'sdk/test+secret=0123456789' }
const lookup = (id: string): string | undefined => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined)
const KEYS = ['plain.txt', 'with space/and+plus=equals.txt', 'unicode/ሴ café 😀.bin', "odd !'()*$&,;:@~.txt", 'a//double/../dots']

/** The subset of @smithy/protocol-http's HttpRequest we read. */
type CapturedRequest = { method: string; path: string; query: Record<string, string | string[] | null>; headers: Record<string, string>; body?: unknown }

class Captured extends Error {
  constructor(readonly request: CapturedRequest) {
    super('captured')
  }
}

function client(): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:8090',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials,
    // The SDK warns on every captured (thrown) streaming request; that noise says nothing here.
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    requestHandler: {
      handle: async (request: CapturedRequest): Promise<never> => {
        throw new Captured(request)
      },
    },
  })
}

async function capture(command: AnyCommand, c = client()): Promise<CapturedRequest> {
  try {
    await c.send(command as never)
  } catch (err) {
    if (err instanceof Captured) return err.request
    throw err
  }
  throw new Error('the request was not captured')
}

/** RFC 3986 escaping as the SDK's query-string builder does it. */
function escape(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}

function rawQuery(query: CapturedRequest['query']): string {
  const parts: string[] = []
  for (const [key, value] of Object.entries(query)) {
    if (value === null) parts.push(escape(key))
    else for (const v of Array.isArray(value) ? value : [value]) parts.push(`${escape(key)}=${escape(v)}`)
  }
  return parts.join('&')
}

function toSigV4(r: CapturedRequest, headers = new Headers(r.headers)): SigV4Request {
  return { method: r.method, rawPath: r.path, rawQuery: rawQuery(r.query), headers, now: new Date() }
}

function ok(v: ReturnType<typeof verifyRequest>): VerifyOk {
  if (!v.ok) throw new Error(`${v.code}: ${v.message}`)
  return v
}

async function bodyBytes(body: unknown): Promise<Uint8Array> {
  if (typeof body === 'string') return new TextEncoder().encode(body)
  if (body instanceof Uint8Array) return body
  const chunks: Buffer[] = []
  for await (const c of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(c))
  return new Uint8Array(Buffer.concat(chunks))
}

describe('header-signed SDK requests', () => {
  for (const key of KEYS) {
    test(`GetObject with Range for ${JSON.stringify(key)}`, async () => {
      const r = await capture(new GetObjectCommand({ Bucket: 'bucket', Key: key, Range: 'bytes=0-9' }))
      const v = ok(verifyRequest(toSigV4(r), lookup))
      expect(v.payload.kind).toBe('signed')
      const tampered = toSigV4(r)
      tampered.headers.set('range', 'bytes=0-10')
      expect(verifyRequest(tampered, lookup)).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' })
    })
  }

  test('ListObjectsV2 with an awkward prefix and delimiter', async () => {
    const r = await capture(new ListObjectsV2Command({ Bucket: 'bucket', Prefix: 'a b+c=d/é/', Delimiter: '/', MaxKeys: 10 }))
    ok(verifyRequest(toSigV4(r), lookup))
  })

  test('PutObject with a string body: signed payload hash, and the body is checked', async () => {
    const r = await capture(new PutObjectCommand({ Bucket: 'bucket', Key: KEYS[1], Body: 'hello world' }))
    const v = ok(verifyRequest(toSigV4(r), lookup))
    if (v.payload.kind !== 'signed') throw new Error('expected a signed payload')
    const good = await readAll(verifyPayloadSha256(new Response('hello world').body!, v.payload.sha256Hex))
    expect(new TextDecoder().decode(good)).toBe('hello world')
    const err = await readError(verifyPayloadSha256(new Response('hello there').body!, v.payload.sha256Hex))
    expect(err?.code).toBe('XAmzContentSHA256Mismatch')
  })

  test('a wrong secret does not verify', async () => {
    const r = await capture(new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }))
    expect(verifyRequest(toSigV4(r), () => 'not-the-secret')).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' })
  })
})

describe('SDK aws-chunked uploads (STREAMING-UNSIGNED-PAYLOAD-TRAILER)', () => {
  const data = new Uint8Array(randomBytes(300_000))
  const algorithms: Array<ChecksumAlgorithm | undefined> = [undefined, 'CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256']
  for (const algorithm of algorithms) {
    test(`PutObject from a stream with ${algorithm ?? 'the default checksum (CRC32)'}`, async () => {
      const pieces = [data.subarray(0, 100_000), data.subarray(100_000, 100_001), data.subarray(100_001)].map((p) => Buffer.from(p))
      const r = await capture(
        new PutObjectCommand({
          Bucket: 'bucket',
          Key: KEYS[2],
          Body: Readable.from(pieces),
          ContentLength: data.length,
          ...(algorithm ? { ChecksumAlgorithm: algorithm } : {}),
        }),
      )
      const name = `x-amz-checksum-${(algorithm ?? 'CRC32').toLowerCase()}`
      expect(r.headers['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER')
      const v = ok(verifyRequest(toSigV4(r), lookup))
      expect(v.chunked).toEqual({ decodedLength: data.length, trailerHeader: name })
      const wire = await bodyBytes(r.body)
      const { body, trailers } = decodeAwsChunked(streamOf(wire, [8192]), chunkedOptionsFor(v)!)
      expect(await readAll(body)).toEqual(data)
      expect(Object.keys(await trailers)).toEqual([name])

      const corrupt = wire.slice()
      corrupt[1000] = corrupt[1000]! ^ 1
      const err = await readError(decodeAwsChunked(streamOf(corrupt, [8192]), chunkedOptionsFor(v)!).body)
      expect(err?.code).toBe('BadDigest')
    })
  }
})

/** node:crypto in the shape the SDK signer wants (a hash, or an HMAC when given a secret). */
type SourceData = string | ArrayBuffer | ArrayBufferView

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data)
}

class NodeSha256 {
  private readonly h: Hash | Hmac
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret))
  }
  update(data: SourceData): void {
    this.h.update(bytes(data))
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest())
  }
}

describe('SDK presigned URLs', () => {
  /** Captures the serialised request before the SDK signs it, then presigns it like @aws-sdk/s3-request-presigner. */
  async function presign(command: AnyCommand, expiresIn: number, signingDate?: Date): Promise<CapturedRequest> {
    const c = client()
    c.middlewareStack.addRelativeTo(
      () => async (args: { request: unknown }) => {
        throw new Captured(args.request as CapturedRequest)
      },
      { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'captureUnsigned' },
    )
    const request = await capture(command, c)
    request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD'
    const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 's3', sha256: NodeSha256, uriEscapePath: false })
    return (await signer.presign(request as never, {
      expiresIn,
      unsignableHeaders: new Set(['amz-sdk-invocation-id', 'amz-sdk-request', 'user-agent']),
      ...(signingDate ? { signingDate } : {}),
    })) as unknown as CapturedRequest
  }

  for (const key of KEYS) {
    test(`GetObject for ${JSON.stringify(key)}`, async () => {
      const p = await presign(new GetObjectCommand({ Bucket: 'bucket', Key: key, ResponseContentDisposition: 'attachment; filename="a b.txt"' }), 900)
      const v = ok(verifyRequest(toSigV4(p, new Headers({ host: p.headers.host! })), lookup))
      expect(v).toMatchObject({ authMode: 'presigned', payload: { kind: 'unsigned' } })
    })
  }

  test('PutObject, with the signed headers the browser must send', async () => {
    const p = await presign(new PutObjectCommand({ Bucket: 'bucket', Key: KEYS[1], ContentType: 'text/plain' }), 900)
    const headers = new Headers({ host: p.headers.host!, 'content-type': 'text/plain' })
    expect(verifyRequest(toSigV4(p, headers), lookup)).toMatchObject({ ok: true, authMode: 'presigned' })
    headers.set('content-type', 'text/html')
    expect(verifyRequest(toSigV4(p, headers), lookup)).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' })
  })

  test('a 24-hour URL still works after 2 hours and fails after it expires', async () => {
    const signed = new Date(Date.now() - 2 * 3600 * 1000)
    const p = await presign(new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }), 86400, signed)
    expect(verifyRequest(toSigV4(p, new Headers({ host: p.headers.host! })), lookup).ok).toBe(true)
    const old = await presign(new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }), 3600, signed)
    expect(verifyRequest(toSigV4(old, new Headers({ host: old.headers.host! })), lookup)).toMatchObject({
      ok: false,
      code: 'AccessDenied',
      message: 'Request has expired',
    })
  })
})
