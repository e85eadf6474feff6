// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The public AWS SigV4 test suite (service "service", us-east-1, 20150830T123600Z): canonical
 * request, string to sign and signature for every case. The suite's normalize-path cases are
 * for services that normalise paths; S3 does not (a/../b is a key of its own), so for them we
 * check that the path is kept as sent and that everything else matches.
 */
import { describe, expect, test } from 'bun:test'
import suite from '../fixtures/sigv4/aws-sig-v4-test-suite.json'
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  deriveSigningKey,
  hmac,
  parseQuery,
  sha256Hex,
  stringToSign,
  uriEncode,
} from '../../src/s3/canonical.ts'
import { authzParts, getter, parseReq } from '../s3proxy/sigv4/vectors.ts'

const { credentials } = suite
const scope = { date: credentials.amzDate.slice(0, 8), region: credentials.region, service: credentials.service }
const key = deriveSigningKey(credentials.secretAccessKey, scope)

function compute(req: string, authz: string, uri?: string): { creq: string; sts: string; signature: string } {
  const r = parseReq(req)
  const { signedHeaders } = authzParts(authz)
  const creq = canonicalRequest({
    method: r.method,
    uri: uri ?? canonicalUri(r.path),
    query: canonicalQuery(parseQuery(r.query)),
    headers: canonicalHeaders(signedHeaders, getter(r.headers)),
    signedHeaders: signedHeaders.join(';'),
    payloadHash: sha256Hex(r.body),
  })
  const sts = stringToSign(credentials.amzDate, scope, creq)
  return { creq, sts, signature: hmac(key, sts).toString('hex') }
}

describe('aws-sig-v4-test-suite', () => {
  for (const v of suite.basic) {
    test(v.name, () => {
      const got = compute(v.req, v.authz)
      expect(got.creq).toBe(v.creq)
      expect(got.sts).toBe(v.sts)
      expect(got.signature).toBe(authzParts(v.authz).signature)
    })
  }
})

describe('aws-sig-v4-test-suite normalize-path cases in S3 mode (no normalisation)', () => {
  for (const v of suite.normalizePath) {
    test(v.name, () => {
      const path = parseReq(v.req).path
      const uri = canonicalUri(path)
      // Only escaping changes; dot segments and repeated slashes stay.
      expect(uri).toBe(path.replaceAll(' ', '%20'))
      const expectedUri = v.creq.split('\n')[1]!
      const normalised = compute(v.req, v.authz, expectedUri)
      expect(normalised.creq).toBe(v.creq)
      expect(normalised.signature).toBe(authzParts(v.authz).signature)
      const s3 = compute(v.req, v.authz)
      expect(s3.creq.split('\n')[1]).toBe(uri)
      if (uri !== expectedUri) expect(s3.signature).not.toBe(authzParts(v.authz).signature)
    })
  }
})

describe('canonical URI', () => {
  test('already-encoded paths are not encoded again', () => {
    expect(canonicalUri('/bucket/a%20b/%E1%88%B4/c%2Bd%3De')).toBe('/bucket/a%20b/%E1%88%B4/c%2Bd%3De')
  })
  test('escapes are normalised to upper case and unreserved bytes are unescaped', () => {
    expect(canonicalUri('/b/%7euser/%e1%88%b4')).toBe('/b/~user/%E1%88%B4')
  })
  test('raw reserved characters are encoded the AWS way', () => {
    expect(canonicalUri("/b/a+b=c!'()*$&,;:@")).toBe('/b/a%2Bb%3Dc%21%27%28%29%2A%24%26%2C%3B%3A%40')
  })
  test('an escaped slash in a path signs as a separator, as RGW and MinIO decode it', () => {
    expect(canonicalUri('/b/a%2Fb/c')).toBe('/b/a/b/c')
    expect(canonicalQuery(parseQuery('p=a%2fb'))).toBe('p=a%2Fb')
  })
  test('a stray percent sign is escaped instead of failing', () => {
    expect(canonicalUri('/b/100%/x%zz')).toBe('/b/100%25/x%25zz')
  })
  test('invalid UTF-8 in escapes is kept byte for byte', () => {
    expect(canonicalUri('/b/%ff%FE')).toBe('/b/%FF%FE')
  })
  test('an empty path is /', () => {
    expect(canonicalUri('')).toBe('/')
  })
  test('dot segments and empty segments are kept', () => {
    expect(canonicalUri('/b/../a//./c')).toBe('/b/../a//./c')
  })
})

describe('canonical query', () => {
  const canon = (q: string, exclude?: string): string => canonicalQuery(parseQuery(q), exclude)
  test('a raw space and %20 canonicalise the same way', () => {
    expect(canon('a=b c')).toBe('a=b%20c')
    expect(canon('a=b%20c')).toBe('a=b%20c')
  })
  test("a literal '+' is a space, %2B is a plus", () => {
    expect(canon('prefix=a+b')).toBe('prefix=a%20b')
    expect(canon('prefix=a%2Bb')).toBe('prefix=a%2Bb')
  })
  test('keys without = get an empty value; empty parts are ignored', () => {
    expect(canon('uploads&&acl')).toBe('acl=&uploads=')
  })
  test('sorted by key, then value, by byte order', () => {
    expect(canon('b=2&a=2&a=1&B=0')).toBe('B=0&a=1&a=2&b=2')
  })
  test('slashes and reserved characters in values are encoded', () => {
    expect(canon('X-Amz-Credential=AKID/20130524/us-east-1/s3/aws4_request&v=a=b')).toBe(
      'X-Amz-Credential=AKID%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&v=a%3Db',
    )
  })
  test('one key can be left out (X-Amz-Signature)', () => {
    expect(canon('a=1&X-Amz-Signature=abc&b=2', 'X-Amz-Signature')).toBe('a=1&b=2')
  })
})

describe('uriEncode', () => {
  test('encodes everything but unreserved characters, slash optional', () => {
    expect(uriEncode('a b/c+d~é😀', { encodeSlash: false })).toBe('a%20b/c%2Bd~%C3%A9%F0%9F%98%80')
    expect(uriEncode('a/b', { encodeSlash: true })).toBe('a%2Fb')
  })
})
