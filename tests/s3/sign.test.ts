// SPDX-License-Identifier: AGPL-3.0-or-later
/** The outbound signer against the S3 documentation examples and against our own verifier. */
import { describe, expect, test } from 'bun:test'
import ex from '../fixtures/sigv4/s3-examples.json'
import { EMPTY_SHA256 } from '../../src/s3/canonical.ts'
import { presignUrl, signRequest } from '../../src/s3/sign.ts'
import { verifyRequest } from '../../src/s3proxy/sigv4/verify.ts'

const { accessKeyId, secretAccessKey } = ex.credentials
const DOC_DATE = new Date('2013-05-24T00:00:00Z')

describe('signRequest', () => {
  test('reproduces the documented GET object signature', () => {
    const headers = new Headers({ range: 'bytes=0-9', 'user-agent': 'stowage', 'content-length': '0' })
    signRequest({
      method: 'GET',
      url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
      headers,
      payloadHash: EMPTY_SHA256,
      accessKeyId,
      secretKey: secretAccessKey,
      region: 'us-east-1',
      now: DOC_DATE,
    })
    expect(headers.get('authorization')).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    )
    expect(headers.get('host')).toBe('examplebucket.s3.amazonaws.com')
    expect(headers.get('x-amz-date')).toBe('20130524T000000Z')
  })

  test('reproduces the documented PUT object signature (a $ in the key, a Date header, a storage class)', () => {
    const e = ex.header.find((h) => h.name === 'PUT object')!
    const headers = new Headers({ date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY' })
    signRequest({
      method: 'PUT',
      url: new URL('https://examplebucket.s3.amazonaws.com/test$file.text'),
      headers,
      payloadHash: e.headers['x-amz-content-sha256'],
      accessKeyId,
      secretKey: secretAccessKey,
      region: 'us-east-1',
      now: DOC_DATE,
    })
    expect(headers.get('authorization')).toEndWith(`SignedHeaders=${e.signedHeaders}, Signature=${e.signature}`)
  })

  test('reproduces the documented list-objects signature', () => {
    const headers = new Headers()
    signRequest({
      method: 'GET',
      url: new URL('https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J'),
      headers,
      payloadHash: EMPTY_SHA256,
      accessKeyId,
      secretKey: secretAccessKey,
      region: 'us-east-1',
      now: DOC_DATE,
    })
    expect(headers.get('authorization')).toEndWith('Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7')
  })

  test('replaces an existing Authorization header and leaves hop-by-hop headers and User-Agent unsigned', () => {
    const headers = new Headers({
      authorization: 'Bearer x',
      'user-agent': 'u',
      connection: 'keep-alive',
      'transfer-encoding': 'chunked',
      'content-length': '5',
      'x-amz-meta-a': '1',
    })
    signRequest({
      method: 'PUT',
      url: new URL('http://127.0.0.1:7480/b/k'),
      headers,
      payloadHash: 'UNSIGNED-PAYLOAD',
      accessKeyId,
      secretKey: secretAccessKey,
      region: 'us-east-1',
    })
    expect(headers.get('authorization')).toContain('SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-meta-a,')
  })

  test('signedHeaderNames limits what is signed; the required three are always signed', () => {
    const headers = new Headers({ 'content-type': 'text/plain', 'x-amz-meta-a': '1' })
    signRequest({
      method: 'PUT',
      url: new URL('http://127.0.0.1:7480/b/k'),
      headers,
      payloadHash: 'UNSIGNED-PAYLOAD',
      accessKeyId,
      secretKey: secretAccessKey,
      region: 'eu-west-1',
      signedHeaderNames: ['Content-Type', 'x-absent'],
    })
    expect(headers.get('authorization')).toContain('/eu-west-1/s3/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date,')
  })

  test('a session token is set and signed', () => {
    const headers = new Headers()
    signRequest({
      method: 'GET',
      url: new URL('http://127.0.0.1:7480/'),
      headers,
      payloadHash: EMPTY_SHA256,
      accessKeyId,
      secretKey: secretAccessKey,
      region: 'us-east-1',
      sessionToken: 'tok',
    })
    expect(headers.get('x-amz-security-token')).toBe('tok')
    expect(headers.get('authorization')).toContain(';x-amz-security-token,')
  })

  test('what it signs, the verifier accepts', () => {
    const url = new URL('http://127.0.0.1:7480/bucket/caf%C3%A9%20%2B%3D.txt?uploads&prefix=a%20b')
    const headers = new Headers({ 'content-type': 'text/plain', 'x-amz-acl': 'private' })
    const now = new Date()
    signRequest({ method: 'POST', url, headers, payloadHash: EMPTY_SHA256, accessKeyId, secretKey: secretAccessKey, region: 'us-east-1', now })
    const v = verifyRequest({ method: 'POST', rawPath: url.pathname, rawQuery: url.search.slice(1), headers, now }, () => secretAccessKey)
    expect(v.ok).toBe(true)
  })
})

describe('presignUrl', () => {
  test('reproduces the documented presigned URL', () => {
    const url = presignUrl({
      method: 'GET',
      url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
      accessKeyId,
      secretKey: secretAccessKey,
      region: 'us-east-1',
      now: DOC_DATE,
      expiresSeconds: 86400,
    })
    expect(url.toString()).toBe(`https://examplebucket.s3.amazonaws.com/test.txt?${ex.presigned.query}`)
  })
  test('keeps existing query parameters and verifies', () => {
    const now = new Date()
    const url = presignUrl({
      method: 'GET',
      url: new URL('http://127.0.0.1:7480/b/a%20b.txt?response-content-disposition=attachment%3B%20filename%3D%22x%22'),
      accessKeyId,
      secretKey: secretAccessKey,
      region: 'us-east-1',
      now,
      expiresSeconds: 60,
    })
    expect(url.search).toStartWith('?response-content-disposition=attachment%3B%20filename%3D%22x%22&X-Amz-Algorithm=')
    const v = verifyRequest(
      { method: 'GET', rawPath: url.pathname, rawQuery: url.search.slice(1), headers: new Headers({ host: url.host }), now },
      () => secretAccessKey,
    )
    expect(v.ok).toBe(true)
  })
  test('refuses an expiry outside 1..604800 seconds', () => {
    for (const expiresSeconds of [0, 604801, 1.5]) {
      expect(() =>
        presignUrl({ method: 'GET', url: new URL('http://h/b/k'), accessKeyId, secretKey: secretAccessKey, region: 'us-east-1', expiresSeconds }),
      ).toThrow(RangeError)
    }
  })
})
