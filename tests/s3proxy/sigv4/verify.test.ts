// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * One describe block per item of the "Security contract" at the top of
 * src/s3proxy/sigv4/verify.ts, in the same order.
 */
import { describe, expect, test } from 'bun:test'
import {
  EMPTY_SHA256,
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  deriveSigningKey,
  hmac,
  parseQuery,
  stringToSign,
} from '../../../src/s3/canonical.ts'
import { signingKeyCacheSize } from '../../../src/s3/signing-key.ts'
import { presignUrl, signRequest } from '../../../src/s3/sign.ts'
import { clearSigningKeyCache, hasSignature, verifyRequest, type SigV4Request, type VerifyFail } from '../../../src/s3proxy/sigv4/verify.ts'

const AKID = 'STOWAGEKEY1'
const SECRET = 'stowage/secret+key=0123456789abcdefghij'
const NOW = new Date('2026-03-01T12:00:00Z')
const MIN = 60 * 1000
const lookup = (id: string): string | undefined => (id === AKID ? SECRET : undefined)

type Options = { method?: string; url?: string; headers?: Record<string, string>; payloadHash?: string; signedAt?: Date; now?: Date; secret?: string }

/** A request signed by our own signer (checked against the AWS vectors and RGW elsewhere). */
function headerSigned(o: Options = {}): SigV4Request {
  const url = new URL(o.url ?? 'http://127.0.0.1:8090/bucket/photos/cat%20pic.jpg?versionId=3&acl')
  const headers = new Headers(o.headers ?? {})
  signRequest({
    method: o.method ?? 'GET',
    url,
    headers,
    payloadHash: o.payloadHash ?? EMPTY_SHA256,
    accessKeyId: AKID,
    secretKey: o.secret ?? SECRET,
    region: 'us-east-1',
    now: o.signedAt ?? NOW,
  })
  return { method: o.method ?? 'GET', rawPath: url.pathname, rawQuery: url.search.slice(1), headers, now: o.now ?? NOW }
}

function presigned(o: Options & { expires?: number } = {}): SigV4Request {
  const url = presignUrl({
    method: o.method ?? 'GET',
    url: new URL(o.url ?? 'http://127.0.0.1:8090/bucket/report.pdf?response-content-type=application%2Fpdf'),
    accessKeyId: AKID,
    secretKey: o.secret ?? SECRET,
    region: 'us-east-1',
    now: o.signedAt ?? NOW,
    expiresSeconds: o.expires ?? 3600,
  })
  return { method: o.method ?? 'GET', rawPath: url.pathname, rawQuery: url.search.slice(1), headers: new Headers({ host: url.host }), now: o.now ?? NOW }
}

/** Signs by hand from the canonical pieces, for shapes our signer does not produce. */
function manualSignature(req: SigV4Request, signed: string[], payloadLine: string, amzDate: string): string {
  const creq = canonicalRequest({
    method: req.method,
    uri: canonicalUri(req.rawPath),
    query: canonicalQuery(parseQuery(req.rawQuery), 'X-Amz-Signature'),
    headers: canonicalHeaders(signed, (n) => req.headers.get(n)),
    signedHeaders: signed.join(';'),
    payloadHash: payloadLine,
  })
  const scope = { date: amzDate.slice(0, 8), region: 'us-east-1', service: 's3' }
  return hmac(deriveSigningKey(SECRET, scope), stringToSign(amzDate, scope, creq)).toString('hex')
}

function failure(req: SigV4Request, lookupFn = lookup): VerifyFail {
  const v = verifyRequest(req, lookupFn)
  if (v.ok) throw new Error('expected the request to be refused')
  return v
}

function withAuthorization(req: SigV4Request, edit: (value: string) => string): SigV4Request {
  const headers = new Headers(req.headers)
  headers.set('authorization', edit(headers.get('authorization')!))
  return { ...req, headers }
}

function withQuery(req: SigV4Request, edit: (query: string) => string): SigV4Request {
  return { ...req, rawQuery: edit(req.rawQuery) }
}

describe('sanity', () => {
  test('a correctly signed header request and a presigned URL verify', () => {
    expect(verifyRequest(headerSigned(), lookup)).toMatchObject({ ok: true, accessKeyId: AKID, authMode: 'header' })
    expect(verifyRequest(presigned(), lookup)).toMatchObject({ ok: true, accessKeyId: AKID, authMode: 'presigned' })
  })
})

describe('1. only AWS4-HMAC-SHA256, one mechanism at a time', () => {
  test('SigV2 is unsupported', () => {
    const req = headerSigned()
    req.headers.set('authorization', 'AWS STOWAGEKEY1:frJIUN8DYpKDtOLCwo//yllqDzg=')
    expect(failure(req)).toMatchObject({ code: 'InvalidRequest', reason: 'unsupported' })
  })
  test('SigV4a (ECDSA) is unsupported', () => {
    const req = withAuthorization(headerSigned(), (v) => v.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256'))
    expect(failure(req)).toMatchObject({ code: 'InvalidRequest', reason: 'unsupported' })
  })
  test('a presigned URL with another X-Amz-Algorithm is unsupported', () => {
    const req = withQuery(presigned(), (q) => q.replace('X-Amz-Algorithm=AWS4-HMAC-SHA256', 'X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256'))
    expect(failure(req)).toMatchObject({ code: 'AuthorizationQueryParametersError', reason: 'unsupported' })
  })
  test('an Authorization header and a query signature together are refused', () => {
    const p = presigned()
    const h = headerSigned()
    expect(failure({ ...h, rawQuery: p.rawQuery })).toMatchObject({ code: 'InvalidRequest', reason: 'malformed' })
  })
})

describe('2. no signature material', () => {
  test('is MissingAuthenticationToken', () => {
    const req: SigV4Request = { method: 'GET', rawPath: '/bucket/key', rawQuery: 'list-type=2', headers: new Headers({ host: 'x' }), now: NOW }
    expect(failure(req)).toMatchObject({ code: 'MissingAuthenticationToken', reason: 'missing-auth' })
  })
  test('a SigV2 presigned query is signature material, refused as unsupported (InvalidRequest naming SigV4)', () => {
    const req: SigV4Request = {
      method: 'GET',
      rawPath: '/bucket/key',
      rawQuery: 'AWSAccessKeyId=STWKEY&Signature=c1pRySQ%2Bzc0RTXexNMmLP1YGAII%3D&Expires=1796546838',
      headers: new Headers({ host: 'x' }),
      now: NOW,
    }
    expect(hasSignature(req)).toBe(true)
    expect(failure(req)).toMatchObject({ code: 'InvalidRequest', reason: 'unsupported', message: expect.stringContaining('Signature Version 4') })
  })
  test('hasSignature recognises the header, either SigV4 query parameter and a SigV2 query, and nothing else', () => {
    const none = new Headers()
    expect(hasSignature({ headers: new Headers({ authorization: 'x' }), rawQuery: '' })).toBe(true)
    expect(hasSignature({ headers: none, rawQuery: 'a=1&X-Amz-Signature=abc' })).toBe(true)
    expect(hasSignature({ headers: none, rawQuery: 'X-Amz-Credential=a%2Fb' })).toBe(true)
    expect(hasSignature({ headers: none, rawQuery: 'Expires=1&AWSAccessKeyId=a&Signature=b' })).toBe(true)
    expect(hasSignature({ headers: none, rawQuery: 'prefix=X-Amz-Signature' })).toBe(false)
    expect(hasSignature({ headers: none, rawQuery: 'X-Amz-SignatureX=1' })).toBe(false)
    expect(hasSignature({ headers: none, rawQuery: 'AWSAccessKeyId=a' })).toBe(false)
    expect(hasSignature({ headers: none, rawQuery: '' })).toBe(false)
  })
})

describe('3. strict parsing of the auth material', () => {
  const malformed = { code: 'AuthorizationHeaderMalformed', reason: 'malformed' }
  const cases: Array<[string, (v: string) => string]> = [
    ['a duplicated Credential', (v) => v.replace(', SignedHeaders', `, Credential=OTHER/20260301/us-east-1/s3/aws4_request, SignedHeaders`)],
    ['a duplicated Signature', (v) => v + ', Signature=' + '0'.repeat(64)],
    ['a missing Signature', (v) => v.replace(/, Signature=[0-9a-f]+/, '')],
    ['an unknown component', (v) => v + ', Foo=bar'],
    ['a Credential with four parts', (v) => v.replace('/us-east-1/s3/aws4_request', '/us-east-1/aws4_request')],
    ['a Credential not ending in aws4_request', (v) => v.replace('aws4_request', 'aws4_reqest')],
    ['a Credential with a bad date', (v) => v.replace('/20260301/', '/2026031/')],
    ['an empty access key', (v) => v.replace(`Credential=${AKID}/`, 'Credential=/')],
    ['a non-hex signature', (v) => v.replace(/Signature=[0-9a-f]{64}/, 'Signature=' + 'z'.repeat(64))],
    ['an upper-case hex signature', (v) => v.replace(/Signature=([0-9a-f]{64})/, (_, s: string) => 'Signature=' + s.toUpperCase())],
    ['a short signature', (v) => v.replace(/Signature=([0-9a-f]{64})/, (_, s: string) => 'Signature=' + s.slice(2))],
    ['upper-case SignedHeaders', (v) => v.replace('SignedHeaders=host', 'SignedHeaders=Host')],
    ['SignedHeaders listing a header twice', (v) => v.replace('SignedHeaders=host', 'SignedHeaders=host;host')],
  ]
  for (const [name, edit] of cases) {
    test(`header auth: ${name}`, () => {
      expect(failure(withAuthorization(headerSigned(), edit))).toMatchObject(malformed)
    })
  }
  test('header auth: a Credential date other than the x-amz-date day', () => {
    const req = headerSigned()
    req.headers.set('x-amz-date', '20260302T000100Z')
    expect(failure({ ...req, now: new Date('2026-03-02T00:01:00Z') })).toMatchObject(malformed)
  })
  const queryCases: Array<[string, (q: string) => string]> = [
    ['a duplicated X-Amz-Signature', (q) => q + '&X-Amz-Signature=' + '0'.repeat(64)],
    ['a duplicated X-Amz-Credential', (q) => q + '&X-Amz-Credential=' + encodeURIComponent(`${AKID}/20260301/us-east-1/s3/aws4_request`)],
    ['a missing X-Amz-Expires', (q) => q.replace(/&X-Amz-Expires=\d+/, '')],
    ['a missing X-Amz-SignedHeaders', (q) => q.replace('&X-Amz-SignedHeaders=host', '')],
    ['a malformed X-Amz-Credential', (q) => q.replace('%2Faws4_request', '')],
    ['a non-hex X-Amz-Signature', (q) => q.replace(/X-Amz-Signature=[0-9a-f]+/, 'X-Amz-Signature=' + 'g'.repeat(64))],
    ['a malformed X-Amz-Date', (q) => q.replace('X-Amz-Date=20260301T120000Z', 'X-Amz-Date=2026-03-01T12:00:00Z')],
    ['an impossible X-Amz-Date', (q) => q.replace('X-Amz-Date=20260301T120000Z', 'X-Amz-Date=20260301T250000Z')],
    ['a Credential date other than the X-Amz-Date day', (q) => q.replace('X-Amz-Date=20260301T120000Z', 'X-Amz-Date=20260228T235900Z')],
  ]
  for (const [name, edit] of queryCases) {
    test(`presigned: ${name}`, () => {
      expect(failure(withQuery(presigned(), edit))).toMatchObject({ code: 'AuthorizationQueryParametersError', reason: 'malformed' })
    })
  }
})

describe('4. host and every x-amz-* header must be signed', () => {
  test('header auth without host in SignedHeaders', () => {
    const req = headerSigned({ headers: { 'x-amz-meta-a': '1' } })
    const edited = withAuthorization(req, (v) => v.replace('SignedHeaders=host;', 'SignedHeaders='))
    expect(failure(edited)).toMatchObject({ code: 'AccessDenied', reason: 'malformed' })
  })
  test('presigned without host in X-Amz-SignedHeaders', () => {
    const req = withQuery(presigned(), (q) => q.replace('X-Amz-SignedHeaders=host', 'X-Amz-SignedHeaders=x-amz-date'))
    expect(failure(req)).toMatchObject({ code: 'AccessDenied', reason: 'malformed' })
  })
  test('an x-amz-* header added after signing is refused, not ignored', () => {
    const req = headerSigned({ method: 'PUT', payloadHash: 'UNSIGNED-PAYLOAD' })
    req.headers.set('x-amz-copy-source', '/other-tenant/secret.txt')
    expect(failure(req)).toMatchObject({ code: 'AccessDenied', message: expect.stringContaining('x-amz-copy-source') })
    const p = presigned({ method: 'PUT' })
    p.headers.set('x-amz-acl', 'public-read')
    expect(failure(p)).toMatchObject({ code: 'AccessDenied' })
  })
  test('other unsigned headers are allowed', () => {
    const req = headerSigned()
    req.headers.set('user-agent', 'curl/8')
    req.headers.set('accept-encoding', 'gzip')
    expect(verifyRequest(req, lookup).ok).toBe(true)
  })
})

describe('5. header auth time window (±15 minutes)', () => {
  test('16 minutes off either way is RequestTimeTooSkewed', () => {
    expect(failure(headerSigned({ now: new Date(NOW.getTime() + 16 * MIN) }))).toMatchObject({ code: 'RequestTimeTooSkewed', reason: 'skew' })
    expect(failure(headerSigned({ now: new Date(NOW.getTime() - 16 * MIN) }))).toMatchObject({ code: 'RequestTimeTooSkewed', reason: 'skew' })
  })
  test('14 minutes off either way is accepted', () => {
    expect(verifyRequest(headerSigned({ now: new Date(NOW.getTime() + 14 * MIN) }), lookup).ok).toBe(true)
    expect(verifyRequest(headerSigned({ now: new Date(NOW.getTime() - 14 * MIN) }), lookup).ok).toBe(true)
  })
  test('the Date header is used when x-amz-date is absent', () => {
    const headers = new Headers({ host: '127.0.0.1:8090', date: 'Sun, 01 Mar 2026 12:00:00 GMT', 'x-amz-content-sha256': EMPTY_SHA256 })
    const req: SigV4Request = { method: 'GET', rawPath: '/bucket/k', rawQuery: '', headers, now: NOW }
    const signed = ['date', 'host', 'x-amz-content-sha256']
    headers.set(
      'authorization',
      `AWS4-HMAC-SHA256 Credential=${AKID}/20260301/us-east-1/s3/aws4_request, SignedHeaders=${signed.join(';')}, Signature=${manualSignature(req, signed, EMPTY_SHA256, '20260301T120000Z')}`,
    )
    expect(verifyRequest(req, lookup)).toMatchObject({ ok: true, amzDate: '20260301T120000Z' })
    expect(failure({ ...req, now: new Date(NOW.getTime() + 20 * MIN) })).toMatchObject({ code: 'RequestTimeTooSkewed' })
  })
  test('a missing or invalid date is AccessDenied', () => {
    const req = headerSigned()
    req.headers.delete('x-amz-date')
    expect(failure(req)).toMatchObject({ code: 'AccessDenied', reason: 'malformed' })
    req.headers.set('x-amz-date', '20260301T1200Z')
    expect(failure(req)).toMatchObject({ code: 'AccessDenied', reason: 'malformed' })
  })
})

describe('6. presigned URL lifetime', () => {
  test('valid 2 hours after signing with X-Amz-Expires=86400 (the original refused it after 15 minutes)', () => {
    expect(verifyRequest(presigned({ expires: 86400, now: new Date(NOW.getTime() + 120 * MIN) }), lookup)).toMatchObject({ ok: true })
  })
  test('expired one second after X-Amz-Date + X-Amz-Expires', () => {
    expect(verifyRequest(presigned({ expires: 600, now: new Date(NOW.getTime() + 600 * 1000) }), lookup).ok).toBe(true)
    expect(failure(presigned({ expires: 600, now: new Date(NOW.getTime() + 601 * 1000) }))).toMatchObject({
      code: 'AccessDenied',
      reason: 'expired',
      message: 'Request has expired',
    })
  })
  test('X-Amz-Expires must be 1..604800', () => {
    expect(verifyRequest(presigned({ expires: 604800 }), lookup).ok).toBe(true)
    for (const bad of ['604801', '0', '-1', '1.5', '', '99999999']) {
      const req = withQuery(presigned(), (q) => q.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=' + bad))
      expect(failure(req)).toMatchObject({ code: 'AuthorizationQueryParametersError', reason: 'malformed' })
    }
  })
  test('signed more than 15 minutes in the future is refused, less is fine', () => {
    expect(failure(presigned({ signedAt: new Date(NOW.getTime() + 16 * MIN) }))).toMatchObject({ code: 'AccessDenied', reason: 'skew' })
    expect(verifyRequest(presigned({ signedAt: new Date(NOW.getTime() + 14 * MIN) }), lookup).ok).toBe(true)
  })
})

describe('7. access key lookup', () => {
  test('an unknown key is InvalidAccessKeyId', () => {
    expect(failure(headerSigned(), () => undefined)).toMatchObject({ code: 'InvalidAccessKeyId', reason: 'unknown-akid' })
    expect(failure(presigned(), () => undefined)).toMatchObject({ code: 'InvalidAccessKeyId', reason: 'unknown-akid' })
  })
  test('malformed, skewed or expired requests never reach the lookup', () => {
    let calls = 0
    const counting = (id: string): string | undefined => {
      calls++
      return lookup(id)
    }
    failure(
      withAuthorization(headerSigned(), (v) => v + ', Foo=bar'),
      counting,
    )
    failure(headerSigned({ now: new Date(NOW.getTime() + 60 * MIN) }), counting)
    failure(presigned({ expires: 60, now: new Date(NOW.getTime() + 2 * MIN) }), counting)
    expect(calls).toBe(0)
    verifyRequest(headerSigned(), counting)
    expect(calls).toBe(1)
  })
})

describe('8. signature recomputed and compared in constant time', () => {
  const mismatch = { code: 'SignatureDoesNotMatch', reason: 'bad-sig' }
  test('a wrong secret', () => {
    expect(failure(headerSigned({ secret: SECRET + 'x' }))).toMatchObject(mismatch)
    expect(failure(presigned({ secret: 'nope' }))).toMatchObject(mismatch)
  })
  test('a tampered path, query, method or signed header', () => {
    expect(failure({ ...headerSigned(), rawPath: '/bucket/photos/dog%20pic.jpg' })).toMatchObject(mismatch)
    expect(failure({ ...headerSigned(), rawQuery: 'versionId=4&acl' })).toMatchObject(mismatch)
    expect(failure({ ...headerSigned(), method: 'DELETE' })).toMatchObject(mismatch)
    const req = headerSigned({ headers: { range: 'bytes=0-9' } })
    req.headers.set('range', 'bytes=0-99')
    expect(failure(req)).toMatchObject(mismatch)
    expect(failure({ ...presigned(), rawPath: '/bucket/other.pdf' })).toMatchObject(mismatch)
    expect(failure(withQuery(presigned(), (q) => q.replace('application%2Fpdf', 'text%2Fhtml')))).toMatchObject(mismatch)
  })
  test('a flipped signature digit', () => {
    const req = withAuthorization(headerSigned(), (v) => v.replace(/Signature=([0-9a-f])/, (_, d: string) => 'Signature=' + (d === '0' ? '1' : '0')))
    expect(failure(req)).toMatchObject(mismatch)
  })
  test('the path is not normalised: dot segments and double slashes are part of the key', () => {
    const req = headerSigned({ url: 'http://127.0.0.1:8090/bucket/a/../b//c' })
    expect(verifyRequest(req, lookup).ok).toBe(true)
    expect(failure({ ...req, rawPath: '/bucket/b/c' })).toMatchObject(mismatch)
  })
  test('equivalent encodings of the same path and query verify alike', () => {
    const req = headerSigned({ url: 'http://127.0.0.1:8090/bucket/caf%C3%A9%20menu.txt?prefix=a%20b' })
    expect(verifyRequest({ ...req, rawPath: '/bucket/caf%c3%a9 menu.txt', rawQuery: 'prefix=a+b' }, lookup).ok).toBe(true)
  })
  test('error messages do not echo the expected signature', () => {
    const req = headerSigned({ secret: 'other' })
    const good = headerSigned().headers.get('authorization')!.split('Signature=')[1]!
    expect(JSON.stringify(failure(req))).not.toContain(good)
  })
})

describe('9. payload mode', () => {
  test('header auth without x-amz-content-sha256 is InvalidRequest', () => {
    const req = headerSigned()
    req.headers.delete('x-amz-content-sha256')
    const edited = withAuthorization(req, (v) => v.replace(';x-amz-content-sha256', ''))
    expect(failure(edited)).toMatchObject({ code: 'InvalidRequest', reason: 'malformed', message: expect.stringContaining('x-amz-content-sha256') })
  })
  test('UNSIGNED-PAYLOAD, a hex digest and the three STREAMING modes', () => {
    expect(verifyRequest(headerSigned({ payloadHash: 'UNSIGNED-PAYLOAD' }), lookup)).toMatchObject({ payload: { kind: 'unsigned' } })
    const hex = 'A'.repeat(64)
    expect(verifyRequest(headerSigned({ payloadHash: hex }), lookup)).toMatchObject({ payload: { kind: 'signed', sha256Hex: 'a'.repeat(64) } })
    const streaming: Array<[string, string]> = [
      ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'streaming-signed'],
      ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'streaming-signed-trailer'],
      ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'streaming-unsigned-trailer'],
    ]
    for (const [value, kind] of streaming) {
      const req = headerSigned({
        method: 'PUT',
        payloadHash: value,
        headers: { 'x-amz-decoded-content-length': '1024', 'x-amz-trailer': 'x-amz-checksum-crc32' },
      })
      expect(verifyRequest(req, lookup)).toMatchObject({ ok: true, payload: { kind }, chunked: { decodedLength: 1024, trailerHeader: 'x-amz-checksum-crc32' } })
    }
  })
  test('ECDSA streaming is unsupported, garbage is malformed', () => {
    const ecdsa = headerSigned({ method: 'PUT', payloadHash: 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD', headers: { 'x-amz-decoded-content-length': '1' } })
    expect(failure(ecdsa)).toMatchObject({ code: 'InvalidRequest', reason: 'unsupported', message: expect.stringContaining('not supported') })
    expect(failure(headerSigned({ payloadHash: 'abc' }))).toMatchObject({ code: 'InvalidRequest', reason: 'malformed' })
  })
  test('streaming without a valid x-amz-decoded-content-length is InvalidRequest', () => {
    const cases: Array<Record<string, string>> = [{}, { 'x-amz-decoded-content-length': '-1' }, { 'x-amz-decoded-content-length': '12abc' }]
    for (const headers of cases) {
      expect(failure(headerSigned({ method: 'PUT', payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', headers }))).toMatchObject({ code: 'InvalidRequest' })
    }
  })
  test('presigned URLs are UNSIGNED-PAYLOAD unless X-Amz-Content-Sha256 is in the query', () => {
    expect(verifyRequest(presigned(), lookup)).toMatchObject({ ok: true, payload: { kind: 'unsigned' } })
    const hash = 'b'.repeat(64)
    const query = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=${hash}&X-Amz-Credential=${AKID}%2F20260301%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260301T120000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host`
    const req: SigV4Request = { method: 'PUT', rawPath: '/bucket/k', rawQuery: query, headers: new Headers({ host: '127.0.0.1:8090' }), now: NOW }
    const signature = manualSignature(req, ['host'], hash, '20260301T120000Z')
    expect(verifyRequest({ ...req, rawQuery: query + '&X-Amz-Signature=' + signature }, lookup)).toMatchObject({
      ok: true,
      payload: { kind: 'signed', sha256Hex: hash },
    })
    const streaming = query.replace(hash, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER')
    const sig2 = manualSignature({ ...req, rawQuery: streaming }, ['host'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', '20260301T120000Z')
    expect(failure({ ...req, rawQuery: streaming + '&X-Amz-Signature=' + sig2 })).toMatchObject({
      code: 'AuthorizationQueryParametersError',
      reason: 'unsupported',
    })
  })
})

describe('10. signing-key cache', () => {
  test('a changed secret never reuses the old derived key', () => {
    const req = headerSigned()
    expect(verifyRequest(req, lookup).ok).toBe(true)
    expect(failure(req, () => 'rotated-secret')).toMatchObject({ code: 'SignatureDoesNotMatch' })
    expect(verifyRequest(req, lookup).ok).toBe(true)
  })
  test('clearSigningKeyCache empties it and it stays bounded', () => {
    verifyRequest(headerSigned(), lookup)
    expect(signingKeyCacheSize()).toBeGreaterThan(0)
    clearSigningKeyCache()
    expect(signingKeyCacheSize()).toBe(0)
    for (let i = 0; i < 4200; i++) verifyRequest(headerSigned(), () => `secret-${i}`)
    expect(signingKeyCacheSize()).toBe(4096)
    expect(verifyRequest(headerSigned(), lookup).ok).toBe(true)
  })
  test('the returned signing key is a copy', () => {
    const v = verifyRequest(headerSigned(), lookup)
    if (!v.ok) throw new Error(v.message)
    v.signingKey.fill(0)
    expect(verifyRequest(headerSigned(), lookup).ok).toBe(true)
  })
})
