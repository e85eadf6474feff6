// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The worked examples from the Amazon S3 API reference (examplebucket, 20130524T000000Z):
 * header-signed GET/PUT/lifecycle/list, the presigned GET, and the aws-chunked upload with
 * and without a signed trailer, checked end to end through verifyRequest and the decoders.
 */
import { describe, expect, test } from 'bun:test'
import ex from '../../fixtures/sigv4/s3-examples.json'
import { canonicalHeaders, canonicalQuery, canonicalRequest, canonicalUri, parseQuery, stringToSign } from '../../../src/s3/canonical.ts'
import { chunkedOptionsFor, decodeAwsChunked } from '../../../src/s3proxy/sigv4/chunked.ts'
import { verifyPayloadSha256 } from '../../../src/s3proxy/sigv4/payload-hash.ts'
import { verifyRequest, type VerifyOk } from '../../../src/s3proxy/sigv4/verify.ts'
import { concat, enc, headersFrom, readAll, readError, signerFor, streamOf } from './helpers.ts'

const { credentials } = ex
const lookup = (id: string): string | undefined => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined)
const at = (iso: string): Date => new Date(iso)
const scope = { date: '20130524', region: 'us-east-1', service: 's3' }

function verified(v: ReturnType<typeof verifyRequest>): VerifyOk {
  if (!v.ok) throw new Error(`${v.code}: ${v.message}`)
  return v
}

describe('header-signed examples', () => {
  for (const e of ex.header) {
    test(e.name, () => {
      const headers = headersFrom(e.headers)
      const names = e.signedHeaders.split(';')
      const creq = canonicalRequest({
        method: e.method,
        uri: canonicalUri(e.path),
        query: canonicalQuery(parseQuery(e.query)),
        headers: canonicalHeaders(names, (n) => headers.get(n)),
        signedHeaders: e.signedHeaders,
        payloadHash: headers.get('x-amz-content-sha256')!,
      })
      expect(creq).toBe(e.creq)
      expect(stringToSign(credentials.amzDate, scope, creq)).toBe(e.sts)
      headers.set(
        'authorization',
        `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${e.signedHeaders},Signature=${e.signature}`,
      )
      const v = verified(verifyRequest({ method: e.method, rawPath: e.path, rawQuery: e.query, headers, now: at('2013-05-24T00:05:00Z') }, lookup))
      expect(v.signature).toBe(e.signature)
      expect(v.authMode).toBe('header')
    })
  }

  test('PUT object: the signed payload "Welcome to Amazon S3." passes, any other body fails', async () => {
    const e = ex.header.find((h) => h.name === 'PUT object')!
    const headers = headersFrom(e.headers)
    headers.set(
      'authorization',
      `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${e.signedHeaders},Signature=${e.signature}`,
    )
    const v = verified(verifyRequest({ method: 'PUT', rawPath: e.path, rawQuery: '', headers, now: at('2013-05-24T00:00:00Z') }, lookup))
    if (v.payload.kind !== 'signed') throw new Error('expected a signed payload')
    const good = await readAll(verifyPayloadSha256(streamOf(enc.encode(e.body!), [5]), v.payload.sha256Hex))
    expect(new TextDecoder().decode(good)).toBe(e.body!)
    const err = await readError(verifyPayloadSha256(streamOf(enc.encode('Welcome to Amazon S4.')), v.payload.sha256Hex))
    expect(err?.code).toBe('XAmzContentSHA256Mismatch')
  })
})

describe('presigned URL example', () => {
  const p = ex.presigned
  const req = (now: string): Parameters<typeof verifyRequest>[0] => ({
    method: p.method,
    rawPath: p.path,
    rawQuery: p.query,
    headers: headersFrom(p.headers),
    now: at(now),
  })

  test('canonical request, string to sign and signature', () => {
    const pairs = parseQuery(p.query)
    const creq = canonicalRequest({
      method: 'GET',
      uri: canonicalUri(p.path),
      query: canonicalQuery(pairs, 'X-Amz-Signature'),
      headers: canonicalHeaders(['host'], (n) => headersFrom(p.headers).get(n)),
      signedHeaders: 'host',
      payloadHash: 'UNSIGNED-PAYLOAD',
    })
    expect(creq).toBe(p.creq)
    expect(stringToSign(credentials.amzDate, scope, creq)).toBe(p.sts)
    const v = verified(verifyRequest(req('2013-05-24T00:00:00Z'), lookup))
    expect(v.authMode).toBe('presigned')
    expect(v.payload).toEqual({ kind: 'unsigned' })
  })

  test('still valid 23 hours later (X-Amz-Expires=86400), expired one second after 24 hours', () => {
    expect(verifyRequest(req('2013-05-24T23:00:00Z'), lookup).ok).toBe(true)
    expect(verifyRequest(req('2013-05-25T00:00:00Z'), lookup).ok).toBe(true)
    const v = verifyRequest(req('2013-05-25T00:00:01Z'), lookup)
    expect(v).toMatchObject({ ok: false, code: 'AccessDenied', reason: 'expired', message: 'Request has expired' })
  })
})

describe('aws-chunked example (66560 bytes of "a", 64 KiB chunks)', () => {
  const c = ex.chunked
  const data = new Uint8Array(66560).fill(97)

  function wireBody(sizes: number[], signatures: string[], tail: string): Uint8Array {
    const parts: Array<Uint8Array | string> = []
    let offset = 0
    sizes.forEach((size, i) => {
      parts.push(`${size.toString(16)};chunk-signature=${signatures[i]}\r\n`, data.subarray(offset, offset + size))
      offset += size
      if (size > 0) parts.push('\r\n')
    })
    parts.push(tail)
    return concat(parts)
  }

  test('the seed request verifies to the documented seed signature', () => {
    const headers = headersFrom(c.headers)
    headers.set(
      'authorization',
      `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${c.signedHeaders},Signature=${c.seedSignature}`,
    )
    const v = verified(verifyRequest({ method: c.method, rawPath: c.path, rawQuery: '', headers, now: at('2013-05-24T00:00:00Z') }, lookup))
    expect(v.payload).toEqual({ kind: 'streaming-signed' })
    expect(v.chunked).toEqual({ decodedLength: 66560, trailerHeader: undefined })
  })

  test('every documented chunk signature verifies and the body decodes, whatever the read sizes', async () => {
    const headers = headersFrom(c.headers)
    headers.set(
      'authorization',
      `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${c.signedHeaders},Signature=${c.seedSignature}`,
    )
    const v = verified(verifyRequest({ method: c.method, rawPath: c.path, rawQuery: '', headers, now: at('2013-05-24T00:00:00Z') }, lookup))
    const wire = wireBody(c.chunkSizes, c.chunkSignatures, '\r\n')
    expect(wire.length).toBe(Number(c.headers['Content-Length']))
    for (const pieces of [[wire.length], [1], [7, 3, 86], [65536 + 85, 2, 1]]) {
      const { body, trailers } = decodeAwsChunked(streamOf(wire, pieces), chunkedOptionsFor(v)!)
      expect(await readAll(body)).toEqual(data)
      expect(await trailers).toEqual({})
    }
  })

  test('the trailer example: documented chunk signatures, crc32c trailer and trailer signature', async () => {
    const t = ex.chunkedTrailer
    const s = signerFor(credentials.secretAccessKey, credentials.amzDate)
    const wire = wireBody(t.chunkSizes, t.chunkSignatures, `${t.trailer}\r\nx-amz-trailer-signature:${t.trailerSignature}\r\n\r\n`)
    const { body, trailers } = decodeAwsChunked(streamOf(wire, [4096]), {
      mode: 'streaming-signed-trailer',
      decodedLength: 66560,
      seedSignature: t.seedSignature,
      signingKey: s.key,
      amzDate: s.amzDate,
      scope: s.scope,
      trailerHeader: 'x-amz-checksum-crc32c',
    })
    expect(await readAll(body)).toEqual(data)
    expect(await trailers).toEqual({ 'x-amz-checksum-crc32c': 'sOO8/Q==' })
  })
})
