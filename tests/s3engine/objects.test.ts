// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * PutObject, GetObject, HeadObject and DeleteObject through the engine, from
 * calls built as the pipeline builds them: content and user headers kept byte
 * for byte, tags, Content-MD5 and flexible checksums, ranges, conditions,
 * part reads, response overrides, refusals of what a directory cannot do,
 * and keys that try to escape.
 */
import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { checksumBase64, createChecksum } from '../../src/lib/checksum.ts'
import { SigV4StreamError } from '../../src/s3proxy/sigv4/errors.ts'
import { buildCall, credential, engineFixture, MiB, path, serve } from './fixture.ts'

const md5b64 = (s: string | Uint8Array): string => createHash('md5').update(s).digest('base64')
const md5hex = (s: string | Uint8Array): string => createHash('md5').update(s).digest('hex')

function crc32(s: string): string {
  const c = createChecksum('crc32')
  c.update(new TextEncoder().encode(s))
  return checksumBase64(c)
}

describe('PutObject and GetObject', () => {
  test('content headers, metadata and tags are stored and returned as sent', async () => {
    const f = await engineFixture()
    const latin = 'caf\xe9 \xff'
    const put = await f.send('PUT', '/bkt/doc.txt', {
      body: 'hello',
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'max-age=60',
        'content-disposition': `attachment; filename="${latin}"`,
        'content-encoding': 'gzip',
        'content-language': 'de-CH',
        expires: 'Wed, 21 Oct 2037 07:28:00 GMT',
        'x-amz-meta-note': latin,
        'x-amz-meta-Mixed-Case': 'v',
        'x-amz-tagging': 'project=stowage&two%20words=a%2Bb',
      },
    })
    expect(put.status).toBe(200)
    expect(put.headers.etag).toBe(`"${md5hex('hello')}"`)
    const got = await f.send('GET', '/bkt/doc.txt')
    expect(got.status).toBe(200)
    expect(got.text).toBe('hello')
    expect(got.headers).toMatchObject({
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'max-age=60',
      'content-disposition': `attachment; filename="${latin}"`,
      'content-encoding': 'gzip',
      'content-language': 'de-CH',
      expires: 'Wed, 21 Oct 2037 07:28:00 GMT',
      'x-amz-meta-note': latin,
      'x-amz-meta-mixed-case': 'v',
      'x-amz-tagging-count': '2',
      'content-length': '5',
      'accept-ranges': 'bytes',
      etag: `"${md5hex('hello')}"`,
    })
    expect(got.headers['last-modified']).toMatch(/GMT$/)
    expect(await f.backend.getObjectTags('bkt', 'doc.txt')).toEqual({ project: 'stowage', 'two words': 'a+b' })
    const head = await f.send('HEAD', '/bkt/doc.txt')
    expect(head.status).toBe(200)
    expect(head.bytes.byteLength).toBe(0)
    expect(head.headers['content-length']).toBe('5')
    expect(head.headers['x-amz-meta-note']).toBe(latin)
  })

  test('without Content-Type an object is binary/octet-stream; aws-chunked is not stored as an encoding', async () => {
    const f = await engineFixture()
    await f.send('PUT', '/bkt/plain.json', { body: '{}' })
    expect((await f.send('HEAD', '/bkt/plain.json')).headers['content-type']).toBe('binary/octet-stream')
    await f.send('PUT', '/bkt/chunked', { body: 'x', headers: { 'content-encoding': 'aws-chunked' } })
    expect((await f.send('HEAD', '/bkt/chunked')).headers['content-encoding']).toBeUndefined()
    await f.send('PUT', '/bkt/gz', { body: 'x', headers: { 'content-encoding': 'aws-chunked,gzip' } })
    expect((await f.send('HEAD', '/bkt/gz')).headers['content-encoding']).toBe('gzip')
  })

  test('a streamed body of several MiB is stored whole, and an empty one as an empty object', async () => {
    const f = await engineFixture()
    const data = new Uint8Array(3 * MiB + 7).map((_, i) => i % 251)
    const put = await f.send('PUT', '/bkt/big.bin', { body: data, stream: true })
    expect(put.headers.etag).toBe(`"${md5hex(data)}"`)
    const got = await f.send('GET', '/bkt/big.bin')
    expect(Buffer.from(got.bytes).equals(Buffer.from(data))).toBe(true)
    await f.send('PUT', '/bkt/empty')
    const empty = await f.send('GET', '/bkt/empty')
    expect(empty.status).toBe(200)
    expect(empty.headers['content-length']).toBe('0')
    expect(empty.headers.etag).toBe(`"${md5hex('')}"`)
  })

  test('Content-MD5: a mismatch is BadDigest, a malformed one InvalidDigest; nothing is stored', async () => {
    const f = await engineFixture()
    expect((await f.send('PUT', '/bkt/ok', { body: 'data', headers: { 'content-md5': md5b64('data') } })).status).toBe(200)
    const bad = await f.send('PUT', '/bkt/bad', { body: 'data', headers: { 'content-md5': md5b64('other') } })
    expect([bad.status, bad.code]).toEqual([400, 'BadDigest'])
    const malformed = await f.send('PUT', '/bkt/bad', { body: 'data', headers: { 'content-md5': 'not base64!' } })
    expect([malformed.status, malformed.code]).toEqual([400, 'InvalidDigest'])
    expect((await f.send('HEAD', '/bkt/bad')).status).toBe(404)
  })

  test('checksums: verified from a header, computed for a trailer, returned with checksum mode', async () => {
    const f = await engineFixture()
    const put = await f.send('PUT', '/bkt/sum', { body: 'checked', headers: { 'x-amz-checksum-crc32': crc32('checked') } })
    expect(put.headers['x-amz-checksum-crc32']).toBe(crc32('checked'))
    const bad = await f.send('PUT', '/bkt/bad-sum', { body: 'tampered', headers: { 'x-amz-checksum-crc32': crc32('checked') } })
    expect([bad.status, bad.code]).toEqual([400, 'BadDigest'])
    expect((await f.send('HEAD', '/bkt/bad-sum')).status).toBe(404)
    const trailer = await f.send('PUT', '/bkt/trailed', {
      body: 'from a trailer',
      headers: { 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-sdk-checksum-algorithm': 'CRC32' },
    })
    expect(trailer.headers['x-amz-checksum-crc32']).toBe(crc32('from a trailer'))
    expect((await f.send('HEAD', '/bkt/trailed')).headers['x-amz-checksum-crc32']).toBeUndefined()
    const enabled = await f.send('GET', '/bkt/trailed', { headers: { 'x-amz-checksum-mode': 'ENABLED' } })
    expect(enabled.headers['x-amz-checksum-crc32']).toBe(crc32('from a trailer'))
    expect(enabled.headers['x-amz-checksum-type']).toBe('FULL_OBJECT')
    expect(
      (await f.send('GET', '/bkt/trailed', { headers: { 'x-amz-checksum-mode': 'ENABLED', range: 'bytes=0-1' } })).headers['x-amz-checksum-crc32'],
    ).toBeUndefined()
    const refusals: Array<Record<string, string>> = [
      { 'x-amz-checksum-crc32': 'short' },
      { 'x-amz-checksum-crc32': crc32('a'), 'x-amz-checksum-sha1': 'x' },
      { 'x-amz-sdk-checksum-algorithm': 'MD4' },
    ]
    for (const headers of refusals) {
      const refused = await f.send('PUT', '/bkt/refused', { body: 'a', headers })
      expect([refused.status, refused.code]).toEqual([400, 'InvalidRequest'])
    }
  })

  test('If-None-Match: * writes once', async () => {
    const f = await engineFixture()
    expect((await f.send('PUT', '/bkt/once', { body: 'first', headers: { 'if-none-match': '*' } })).status).toBe(200)
    const again = await f.send('PUT', '/bkt/once', { body: 'second', headers: { 'if-none-match': '*' } })
    expect([again.status, again.code]).toEqual([412, 'PreconditionFailed'])
    expect((await f.send('GET', '/bkt/once')).text).toBe('first')
  })

  test('If-Match and If-None-Match with ETags: checked against the object the key holds', async () => {
    const f = await engineFixture()
    const etag = (await f.send('PUT', '/bkt/c', { body: 'bar' })).headers.etag!
    const put = (body: string, headers: Record<string, string>, key = 'c'): Promise<{ status: number; code?: string }> =>
      f.send('PUT', `/bkt/${key}`, { body, headers })
    // If-Match: the current ETag (quoted or not, or in a list) or *; anything else is 412, and nothing changes.
    expect(await put('no', { 'if-match': '"ABCORZ"' })).toMatchObject({ status: 412, code: 'PreconditionFailed' })
    expect((await f.send('GET', '/bkt/c')).text).toBe('bar')
    expect((await put('zar', { 'if-match': etag.replaceAll('"', '') })).status).toBe(200)
    const zar = (await f.send('HEAD', '/bkt/c')).headers.etag!
    expect((await put('car', { 'if-match': `"other", ${zar}` })).status).toBe(200)
    expect((await put('dar', { 'if-match': '*' })).status).toBe(200)
    expect((await f.send('GET', '/bkt/c')).text).toBe('dar')
    // No object: If-Match is NoSuchKey (AWS), and nothing is written.
    expect(await put('x', { 'if-match': '*' }, 'absent')).toMatchObject({ status: 404, code: 'NoSuchKey' })
    expect(await put('x', { 'if-match': etag }, 'absent')).toMatchObject({ status: 404, code: 'NoSuchKey' })
    expect((await f.send('HEAD', '/bkt/absent')).status).toBe(404)
    // If-None-Match with ETags: refused only when the current one is listed.
    const dar = (await f.send('HEAD', '/bkt/c')).headers.etag!
    expect(await put('no', { 'if-none-match': dar.replaceAll('"', '') })).toMatchObject({ status: 412, code: 'PreconditionFailed' })
    expect((await put('ear', { 'if-none-match': 'ABCORZ' })).status).toBe(200)
    expect((await put('new', { 'if-none-match': 'ABCORZ' }, 'fresh')).status).toBe(200)
    expect((await f.send('GET', '/bkt/c')).text).toBe('ear')
  })

  test('what a directory cannot do is refused with NotImplemented, and nothing is written', async () => {
    const f = await engineFixture()
    const unsupported: Array<Record<string, string>> = [
      { 'x-amz-server-side-encryption': 'AES256' },
      { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' },
      { 'x-amz-object-lock-mode': 'GOVERNANCE' },
      { 'x-amz-website-redirect-location': '/x' },
      { 'x-amz-storage-class': 'GLACIER' },
      { 'x-amz-write-offset-bytes': '0' },
    ]
    for (const headers of unsupported) {
      const r = await f.send('PUT', '/bkt/no', { body: 'x', headers })
      expect([r.status, r.code]).toEqual([501, 'NotImplemented'])
    }
    expect((await f.send('PUT', '/bkt/std', { body: 'x', headers: { 'x-amz-storage-class': 'STANDARD' } })).status).toBe(200)
    expect((await f.send('HEAD', '/bkt/no')).status).toBe(404)
  })

  test('retention and legal holds: a bucket without Object Lock, as S3 answers for one', async () => {
    const f = await engineFixture()
    await f.send('PUT', '/bkt/std', { body: 'x' })
    for (const op of ['retention', 'legal-hold']) {
      const got = await f.send('GET', `/bkt/std?${op}`)
      expect([got.status, got.code, got.text]).toEqual([400, 'InvalidRequest', 'Bucket is missing Object Lock Configuration'])
      const put = await f.send('PUT', `/bkt/std?${op}`, { body: '<x/>' })
      expect([put.status, put.code]).toEqual([400, 'InvalidRequest'])
      expect((await f.send('GET', `/bkt/gone?${op}`)).code).toBe('NoSuchKey')
      expect((await f.send('GET', `/nobucket/std?${op}`)).code).toBe('NoSuchBucket')
      expect((await f.send('PUT', `/nobucket/std?${op}`, { body: '<x/>' })).code).toBe('NoSuchBucket')
    }
  })
})

describe('reads', () => {
  test('ranges: closed, open, suffix, the first of several, unsatisfiable, unparseable', async () => {
    const f = await engineFixture()
    await f.send('PUT', '/bkt/r', { body: '0123456789' })
    const cases: Array<[string, number, string, string | undefined]> = [
      ['bytes=2-4', 206, '234', 'bytes 2-4/10'],
      ['bytes=7-', 206, '789', 'bytes 7-9/10'],
      ['bytes=-3', 206, '789', 'bytes 7-9/10'],
      ['bytes=-30', 206, '0123456789', 'bytes 0-9/10'],
      ['bytes=8-100', 206, '89', 'bytes 8-9/10'],
      ['bytes=0-1,4-5', 206, '01', 'bytes 0-1/10'],
      ['junk', 200, '0123456789', undefined],
    ]
    for (const [range, status, body, contentRange] of cases) {
      const r = await f.send('GET', '/bkt/r', { headers: { range } })
      expect([range, r.status, r.text, r.headers['content-range']]).toEqual([range, status, body, contentRange])
    }
    for (const range of ['bytes=10-', 'bytes=5-2', 'bytes=-0']) {
      const r = await f.send('GET', '/bkt/r', { headers: { range } })
      expect([range, r.status, r.code]).toEqual([range, 416, 'InvalidRange'])
    }
    const head = await f.send('HEAD', '/bkt/r', { headers: { range: 'bytes=2-4' } })
    expect([head.status, head.headers['content-length'], head.headers['content-range']]).toEqual([206, '3', 'bytes 2-4/10'])
  })

  test('conditions: 304 with ETag and Last-Modified, 412 as S3 orders them', async () => {
    const f = await engineFixture()
    const etag = (await f.send('PUT', '/bkt/c', { body: 'cond' })).headers.etag!
    const modified = new Date((await f.send('HEAD', '/bkt/c')).headers['last-modified']!)
    const before = new Date(modified.getTime() - 3600_000).toUTCString()
    const after = new Date(modified.getTime() + 3600_000).toUTCString()
    const status = async (headers: Record<string, string>): Promise<number> => (await f.send('GET', '/bkt/c', { headers })).status
    expect(await status({ 'if-none-match': etag })).toBe(304)
    expect(await status({ 'if-none-match': '"nope"' })).toBe(200)
    expect(await status({ 'if-modified-since': after })).toBe(304)
    expect(await status({ 'if-modified-since': before })).toBe(200)
    expect(await status({ 'if-match': etag })).toBe(200)
    expect(await status({ 'if-match': '"nope"' })).toBe(412)
    expect(await status({ 'if-unmodified-since': before })).toBe(412)
    expect(await status({ 'if-match': etag, 'if-unmodified-since': before })).toBe(200)
    expect(await status({ 'if-none-match': '"nope"', 'if-modified-since': after })).toBe(200)
    expect(await status({ 'if-modified-since': 'not a date' })).toBe(200)
    const notModified = await f.send('GET', '/bkt/c', { headers: { 'if-none-match': etag } })
    expect(notModified.headers.etag).toBe(etag)
    expect(notModified.headers['last-modified']).toBe(modified.toUTCString())
    expect(notModified.bytes.byteLength).toBe(0)
    expect((await f.send('HEAD', '/bkt/c', { headers: { 'if-match': '"nope"' } })).status).toBe(412)
  })

  test('response-* overrides for signed requests only, and only as header-safe bytes', async () => {
    const f = await engineFixture()
    await f.send('PUT', '/bkt/o.bin', { body: 'o', headers: { 'content-type': 'application/octet-stream' } })
    const r = await f.send(
      'GET',
      `/bkt/o.bin?response-content-type=text%2Fplain&response-content-disposition=${encodeURIComponent('attachment; filename="é.txt"')}&response-cache-control=no-store&response-expires=0&response-content-language=fr&response-content-encoding=identity`,
    )
    expect(r.headers).toMatchObject({
      'content-type': 'text/plain',
      'content-disposition': 'attachment; filename="\xc3\xa9.txt"',
      'cache-control': 'no-store',
      expires: '0',
      'content-language': 'fr',
      'content-encoding': 'identity',
    })
    const anonymous = await f.send('GET', '/bkt/o.bin?response-content-type=text%2Fhtml', { anonymous: true })
    expect([anonymous.status, anonymous.code]).toEqual([400, 'InvalidRequest'])
    const injected = await f.send('GET', '/bkt/o.bin?response-content-type=text%2Fplain%0D%0ASet-Cookie%3A%20x%3D1')
    expect([injected.status, injected.code]).toEqual([400, 'InvalidArgument'])
  })

  test('partNumber on a single-part object: 1 is the whole object, others are out of range', async () => {
    const f = await engineFixture()
    await f.send('PUT', '/bkt/single', { body: 'one part' })
    const one = await f.send('GET', '/bkt/single?partNumber=1')
    expect([one.status, one.text]).toEqual([200, 'one part'])
    expect((await f.send('GET', '/bkt/single?partNumber=2')).code).toBe('InvalidPartNumber')
    expect((await f.send('GET', '/bkt/single?partNumber=0')).code).toBe('InvalidArgument')
    expect((await f.send('GET', '/bkt/single?partNumber=x')).code).toBe('InvalidArgument')
    expect((await f.send('GET', '/bkt/single?partNumber=1', { headers: { range: 'bytes=0-1' } })).code).toBe('InvalidRequest')
  })

  test('missing things: NoSuchKey, NoSuchBucket, and the only version is null', async () => {
    const f = await engineFixture()
    expect(await f.send('GET', '/bkt/missing')).toMatchObject({ status: 404, code: 'NoSuchKey' })
    expect(await f.send('HEAD', '/bkt/missing')).toMatchObject({ status: 404 })
    expect(await f.send('GET', '/nobucket/k')).toMatchObject({ status: 404, code: 'NoSuchBucket' })
    expect(await f.send('PUT', '/nobucket/k', { body: 'x' })).toMatchObject({ status: 404, code: 'NoSuchBucket' })
    await f.send('PUT', '/bkt/v', { body: 'v' })
    expect((await f.send('GET', '/bkt/v?versionId=null')).text).toBe('v')
    expect(await f.send('GET', '/bkt/v?versionId=3HL4kqtJlcpXroDTDmJ')).toMatchObject({ status: 404, code: 'NoSuchVersion' })
  })
})

describe('bodies that fail', () => {
  test('a body whose stream fails its checks leaves nothing, and says why', async () => {
    const f = await engineFixture()
    const failing = (err: Error): ReadableStream<Uint8Array> => {
      let sent = false
      return new ReadableStream({
        pull(c) {
          if (sent) return c.error(err)
          sent = true
          c.enqueue(new Uint8Array(1000).fill(1))
        },
      })
    }
    for (const [err, status, code] of [
      [new SigV4StreamError('SignatureDoesNotMatch', 'chunk signature'), 403, 'SignatureDoesNotMatch'],
      [new SigV4StreamError('BadDigest', 'trailer checksum'), 400, 'BadDigest'],
      [new Error('socket hang up'), 400, 'IncompleteBody'],
    ] as const) {
      const call = buildCall('PUT', '/bkt/failed', {}, credential(['bkt']))
      call.body = { kind: 'stream', length: 5000, stream: failing(err), decoded: true }
      expect(await serve(f.engine, call)).toMatchObject({ status, code })
      const part = buildCall('PUT', `/bkt/failed?partNumber=1&uploadId=${'0'.repeat(32)}`, {}, credential(['bkt']))
      expect((await serve(f.engine, part)).code).toBe('NoSuchUpload')
    }
    const short = buildCall('PUT', '/bkt/failed', {}, credential(['bkt']))
    short.body = { kind: 'stream', length: 5000, stream: new Response('only this').body!, decoded: false }
    expect(await serve(f.engine, short)).toMatchObject({ status: 400, code: 'IncompleteBody' })
    expect((await f.send('HEAD', '/bkt/failed')).status).toBe(404)
    expect(await readdir(join(f.root, 'bkt'))).toEqual([])
  })
})

describe('DeleteObject', () => {
  test('deletes, and deleting what is not there succeeds too', async () => {
    const f = await engineFixture()
    await f.send('PUT', '/bkt/d/x', { body: 'x' })
    expect((await f.send('DELETE', '/bkt/d/x')).status).toBe(204)
    expect((await f.send('HEAD', '/bkt/d/x')).status).toBe(404)
    expect((await f.send('DELETE', '/bkt/d/x')).status).toBe(204)
    expect(await readdir(join(f.root, 'bkt'))).toEqual([])
  })
})

describe('keys from strangers', () => {
  test('escape attempts are keys like any other, stored inside the bucket', async () => {
    const f = await engineFixture()
    const targets = [
      '/bkt/..%2F..%2Fescape',
      '/bkt/../../escape',
      '/bkt/%2e%2e/x',
      '/bkt//etc/passwd',
      '/bkt/a%00b',
      '/bkt/back%5Cslash',
      '/bkt/..',
      '/bkt/.stowage/meta',
      '/bkt/%EF%BC%8E%EF%BC%8E/x',
    ]
    for (const t of targets) {
      const put = await f.send('PUT', t, { body: t })
      expect([t, put.status]).toEqual([t, 200])
      expect((await f.send('GET', t)).text).toBe(t)
    }
    const listed = (await f.send('GET', '/bkt?list-type=2&encoding-type=url')).xml()
    // `..%2F..%2Fescape` and `../../escape` are the same key.
    expect(listed.children.filter((c) => c.name === 'Contents')).toHaveLength(targets.length - 1)
    expect((await readdir(f.root)).sort()).toEqual(['.stowage', 'bkt', 'other'])
    for (const t of targets) expect((await f.send('DELETE', t)).status).toBe(204)
    expect(await readdir(join(f.root, 'bkt'))).toEqual([])
  })

  test('non-ASCII and control characters round-trip; overlong keys and bad encodings are refused', async () => {
    const f = await engineFixture()
    for (const key of ['日本語/ファイル.txt', 'emoji 😀', 'tab\there', 'bell\x07', 'nl\nline', 'cr\rx']) {
      expect((await f.send('PUT', `/bkt/${path(key)}`, { body: key })).status).toBe(200)
      expect((await f.send('GET', `/bkt/${path(key)}`)).text).toBe(key)
    }
    expect(await f.send('PUT', `/bkt/${'k'.repeat(1025)}`, { body: 'x' })).toMatchObject({ status: 400, code: 'KeyTooLongError' })
    expect((await f.send('PUT', `/bkt/${'k'.repeat(1024)}`, { body: 'x' })).status).toBe(200)
    // Not UTF-8: the pipeline's parser refuses it before any path runs.
    expect(() => f.send('GET', '/bkt/%FF%FE')).toThrow(expect.objectContaining({ code: 'InvalidURI' }))
  })
})
