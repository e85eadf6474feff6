// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Multipart uploads through the engine: the XML of each step, S3's ETag and
 * checksums, part reads and GetObjectAttributes afterwards, UploadPartCopy,
 * the completion rules with S3's error codes, and the paged listings.
 */
import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { children, textOf } from '../../src/s3/xml.ts'
import { checksumBase64, createChecksum } from '../../src/lib/checksum.ts'
import { engineFixture, MiB, type EngineFixture } from './fixture.ts'

const md5 = (b: Uint8Array | string): Buffer => createHash('md5').update(b).digest()

function crc32(...parts: Uint8Array[]): string {
  const c = createChecksum('crc32')
  for (const p of parts) c.update(p)
  return checksumBase64(c)
}

const PART1 = new Uint8Array(5 * MiB).fill(1)
const PART2 = new TextEncoder().encode('the last part')

async function create(f: EngineFixture, key: string, headers: Record<string, string> = {}): Promise<string> {
  const r = await f.send('POST', `/bkt/${key}?uploads`, { headers })
  expect(r.status).toBe(200)
  const doc = r.xml()
  expect(doc.name).toBe('InitiateMultipartUploadResult')
  expect([textOf(doc, 'Bucket'), textOf(doc, 'Key')]).toEqual(['bkt', decodeURIComponent(key)])
  return textOf(doc, 'UploadId')!
}

async function part(f: EngineFixture, key: string, id: string, n: number, body: Uint8Array, headers: Record<string, string> = {}): Promise<string> {
  const r = await f.send('PUT', `/bkt/${key}?partNumber=${n}&uploadId=${id}`, { body, stream: body.byteLength > MiB, headers })
  expect([r.status, r.code]).toEqual([200, undefined])
  return r.headers.etag!
}

function completion(parts: Array<{ n: number; etag: string; extra?: string }>): string {
  return `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.map((p) => `<Part><PartNumber>${p.n}</PartNumber><ETag>${p.etag}</ETag>${p.extra ?? ''}</Part>`).join('')}</CompleteMultipartUpload>`
}

describe('multipart uploads', () => {
  test('create, upload, complete: S3’s ETag, the object’s headers, part reads and attributes', async () => {
    const f = await engineFixture()
    const id = await create(f, 'mp.bin', {
      'content-type': 'application/x-mp',
      'x-amz-meta-origin': 'engine',
      'cache-control': 'no-cache',
      'x-amz-tagging': 't=1',
    })
    const e1 = await part(f, 'mp.bin', id, 1, PART1)
    const e2 = await part(f, 'mp.bin', id, 2, PART2)
    expect(e1).toBe(`"${md5(PART1).toString('hex')}"`)
    const done = await f.send('POST', `/bkt/mp.bin?uploadId=${id}`, {
      body: completion([
        { n: 1, etag: e1 },
        { n: 2, etag: e2 },
      ]),
    })
    expect(done.status).toBe(200)
    const doc = done.xml()
    const etag = `"${md5(Buffer.concat([md5(PART1), md5(PART2)])).toString('hex')}-2"`
    expect([doc.name, textOf(doc, 'Location'), textOf(doc, 'Bucket'), textOf(doc, 'Key'), textOf(doc, 'ETag')]).toEqual([
      'CompleteMultipartUploadResult',
      'http://localhost:8090/bkt/mp.bin',
      'bkt',
      'mp.bin',
      etag,
    ])
    const head = await f.send('HEAD', '/bkt/mp.bin')
    expect(head.headers).toMatchObject({
      etag,
      'content-type': 'application/x-mp',
      'x-amz-meta-origin': 'engine',
      'cache-control': 'no-cache',
      'x-amz-tagging-count': '1',
      'content-length': String(PART1.byteLength + PART2.byteLength),
    })
    const second = await f.send('GET', '/bkt/mp.bin?partNumber=2')
    expect([second.status, second.text, second.headers['x-amz-mp-parts-count'], second.headers['content-range']]).toEqual([
      206,
      'the last part',
      '2',
      `bytes ${5 * MiB}-${5 * MiB + 12}/${5 * MiB + 13}`,
    ])
    const headPart = await f.send('HEAD', '/bkt/mp.bin?partNumber=1')
    expect([headPart.status, headPart.headers['content-length'], headPart.headers['x-amz-mp-parts-count']]).toEqual([206, String(5 * MiB), '2'])
    expect((await f.send('GET', '/bkt/mp.bin?partNumber=3')).code).toBe('InvalidPartNumber')
    const attrs = (await f.send('GET', '/bkt/mp.bin?attributes', { headers: { 'x-amz-object-attributes': 'ETag,ObjectParts,ObjectSize,StorageClass' } })).xml()
    expect(attrs.name).toBe('GetObjectAttributesResponse')
    expect(textOf(attrs, 'ETag')).toBe(etag.slice(1, -1))
    expect(textOf(attrs, 'ObjectSize')).toBe(String(5 * MiB + 13))
    const parts = attrs.children.find((c) => c.name === 'ObjectParts')!
    expect([textOf(parts, 'PartsCount'), children(parts, 'Part').map((p) => textOf(p, 'Size'))]).toEqual(['2', [String(5 * MiB), '13']])
    expect((await f.send('GET', `/bkt?uploads`)).xml().children.filter((c) => c.name === 'Upload')).toEqual([])
  })

  test('checksums: COMPOSITE by default, verified per part, returned by complete, HEAD and attributes', async () => {
    const f = await engineFixture()
    const id = await create(f, 'sum', { 'x-amz-checksum-algorithm': 'CRC32' })
    const bad = await f.send('PUT', `/bkt/sum?partNumber=1&uploadId=${id}`, { body: PART2, headers: { 'x-amz-checksum-crc32': crc32(PART1) } })
    expect([bad.status, bad.code]).toEqual([400, 'BadDigest'])
    const wrongAlgorithm = await f.send('PUT', `/bkt/sum?partNumber=1&uploadId=${id}`, {
      body: PART2,
      headers: { 'x-amz-checksum-sha256': createHash('sha256').update(PART2).digest('base64') },
    })
    expect([wrongAlgorithm.status, wrongAlgorithm.code]).toEqual([400, 'InvalidRequest'])
    const e1 = await part(f, 'sum', id, 1, PART1, { 'x-amz-checksum-crc32': crc32(PART1) })
    const p2 = await f.send('PUT', `/bkt/sum?partNumber=2&uploadId=${id}`, {
      body: PART2,
      headers: { 'x-amz-sdk-checksum-algorithm': 'CRC32', 'x-amz-trailer': 'x-amz-checksum-crc32' },
    })
    expect(p2.headers['x-amz-checksum-crc32']).toBe(crc32(PART2))
    const listed = (await f.send('GET', `/bkt/sum?uploadId=${id}`)).xml()
    expect(textOf(listed, 'ChecksumAlgorithm')).toBe('CRC32')
    expect(children(listed, 'Part').map((p) => textOf(p, 'ChecksumCRC32'))).toEqual([crc32(PART1), crc32(PART2)])
    const mismatch = await f.send('POST', `/bkt/sum?uploadId=${id}`, {
      body: completion([
        { n: 1, etag: e1, extra: `<ChecksumCRC32>${crc32(PART2)}</ChecksumCRC32>` },
        { n: 2, etag: p2.headers.etag! },
      ]),
    })
    expect([mismatch.status, mismatch.code]).toEqual([400, 'InvalidPart'])
    const done = (
      await f.send('POST', `/bkt/sum?uploadId=${id}`, {
        body: completion([
          { n: 1, etag: e1, extra: `<ChecksumCRC32>${crc32(PART1)}</ChecksumCRC32>` },
          { n: 2, etag: p2.headers.etag! },
        ]),
      })
    ).xml()
    const composite = createChecksum('crc32')
    composite.update(Buffer.from(crc32(PART1), 'base64'))
    composite.update(Buffer.from(crc32(PART2), 'base64'))
    const value = `${checksumBase64(composite)}-2`
    expect([textOf(done, 'ChecksumCRC32'), textOf(done, 'ChecksumType')]).toEqual([value, 'COMPOSITE'])
    const head = await f.send('HEAD', '/bkt/sum', { headers: { 'x-amz-checksum-mode': 'ENABLED' } })
    expect([head.headers['x-amz-checksum-crc32'], head.headers['x-amz-checksum-type']]).toEqual([value, 'COMPOSITE'])
    expect((await f.send('GET', '/bkt/sum?partNumber=2', { headers: { 'x-amz-checksum-mode': 'ENABLED' } })).headers['x-amz-checksum-crc32']).toBe(crc32(PART2))
    const attrs = (
      await f.send('GET', '/bkt/sum?attributes', {
        headers: { 'x-amz-object-attributes': 'Checksum,ObjectParts', 'x-amz-max-parts': '1', 'x-amz-part-number-marker': '1' },
      })
    ).xml()
    const sum = attrs.children.find((c) => c.name === 'Checksum')!
    expect([textOf(sum, 'ChecksumCRC32'), textOf(sum, 'ChecksumType')]).toEqual([value, 'COMPOSITE'])
    const parts = attrs.children.find((c) => c.name === 'ObjectParts')!
    expect([
      textOf(parts, 'PartNumberMarker'),
      textOf(parts, 'NextPartNumberMarker'),
      textOf(parts, 'IsTruncated'),
      children(parts, 'Part').map((p) => textOf(p, 'ChecksumCRC32')),
    ]).toEqual(['1', '2', 'false', [crc32(PART2)]])

    const full = await create(f, 'full', { 'x-amz-checksum-algorithm': 'CRC64NVME' })
    const created = await f.send('POST', '/bkt/other-full?uploads', { headers: { 'x-amz-checksum-algorithm': 'CRC32', 'x-amz-checksum-type': 'FULL_OBJECT' } })
    expect([created.headers['x-amz-checksum-algorithm'], created.headers['x-amz-checksum-type']]).toEqual(['CRC32', 'FULL_OBJECT'])
    expect((await f.send('POST', '/bkt/x?uploads', { headers: { 'x-amz-checksum-algorithm': 'CRC64NVME', 'x-amz-checksum-type': 'COMPOSITE' } })).code).toBe(
      'InvalidRequest',
    )
    const f1 = await part(f, 'full', full, 1, PART2)
    const fullDone = (await f.send('POST', `/bkt/full?uploadId=${full}`, { body: completion([{ n: 1, etag: f1 }]) })).xml()
    expect(textOf(fullDone, 'ChecksumType')).toBe('FULL_OBJECT')
    expect(textOf(fullDone, 'ChecksumCRC64NVME')).toMatch(/^[A-Za-z0-9+/]{11}=$/)
  })

  test('completion rules, with S3’s codes; abort; unknown uploads', async () => {
    const f = await engineFixture()
    const id = await create(f, 'rules')
    const e1 = await part(f, 'rules', id, 1, PART2)
    const e2 = await part(f, 'rules', id, 2, PART2)
    const complete = (body: string): Promise<{ status: number; code?: string }> => f.send('POST', `/bkt/rules?uploadId=${id}`, { body })
    expect(
      await complete(
        completion([
          { n: 1, etag: e1 },
          { n: 2, etag: e2 },
        ]),
      ),
    ).toMatchObject({ status: 400, code: 'EntityTooSmall' })
    expect(
      await complete(
        completion([
          { n: 2, etag: e2 },
          { n: 1, etag: e1 },
        ]),
      ),
    ).toMatchObject({ status: 400, code: 'InvalidPartOrder' })
    expect(await complete(completion([{ n: 1, etag: '"00000000000000000000000000000000"' }]))).toMatchObject({ status: 400, code: 'InvalidPart' })
    expect(await complete(completion([{ n: 3, etag: e1 }]))).toMatchObject({ status: 400, code: 'InvalidPart' })
    expect(await complete(completion([]))).toMatchObject({ status: 400, code: 'MalformedXML' })
    expect(await complete('<not-xml')).toMatchObject({ status: 400, code: 'MalformedXML' })
    expect(await complete('<Other/>')).toMatchObject({ status: 400, code: 'MalformedXML' })
    expect(await f.send('PUT', `/bkt/rules?partNumber=10001&uploadId=${id}`, { body: 'x' })).toMatchObject({ status: 400, code: 'InvalidArgument' })
    expect(await f.send('PUT', `/bkt/rules?partNumber=1&uploadId=ffffffffffffffffffffffffffffffff`, { body: 'x' })).toMatchObject({
      status: 404,
      code: 'NoSuchUpload',
    })
    expect(await f.send('PUT', `/bkt/other-key?partNumber=1&uploadId=${id}`, { body: 'x' })).toMatchObject({ status: 404, code: 'NoSuchUpload' })
    expect((await complete(completion([{ n: 2, etag: e2 }]))).status).toBe(200)
    expect(await complete(completion([{ n: 2, etag: '"00000000000000000000000000000000"' }]))).toMatchObject({ status: 404, code: 'NoSuchUpload' })
    const gone = await create(f, 'gone')
    expect((await f.send('DELETE', `/bkt/gone?uploadId=${gone}`)).status).toBe(204)
    expect(await f.send('DELETE', `/bkt/gone?uploadId=${gone}`)).toMatchObject({ status: 404, code: 'NoSuchUpload' })
    expect(await f.send('GET', `/bkt/gone?uploadId=${gone}`)).toMatchObject({ status: 404, code: 'NoSuchUpload' })
    const taken = await create(f, 'taken')
    await f.send('PUT', '/bkt/taken', { body: 'here first' })
    const e = await part(f, 'taken', taken, 1, PART2)
    expect(await f.send('POST', `/bkt/taken?uploadId=${taken}`, { body: completion([{ n: 1, etag: e }]), headers: { 'if-none-match': '*' } })).toMatchObject({
      status: 412,
      code: 'PreconditionFailed',
    })
  })

  test('a completion repeated after it succeeded succeeds again with the same answer, as on S3 and RGW', async () => {
    const f = await engineFixture()
    const id = await create(f, 'again', { 'x-amz-checksum-algorithm': 'CRC32' })
    const parts = [
      { n: 1, etag: await part(f, 'again', id, 1, PART1) },
      { n: 2, etag: await part(f, 'again', id, 2, PART2) },
    ]
    const complete = (body: string) => f.send('POST', `/bkt/again?uploadId=${id}`, { body })
    const first = await complete(completion(parts))
    expect(first.status).toBe(200)
    const again = await complete(completion(parts))
    expect(again.status).toBe(200)
    for (const field of ['ETag', 'ChecksumCRC32', 'ChecksumType', 'Key']) expect(textOf(again.xml(), field)).toBe(textOf(first.xml(), field)!)
    expect((await f.send('GET', '/bkt/again')).bytes.byteLength).toBe(PART1.byteLength + PART2.byteLength)
    // Other parts than the ones completed, or an object since replaced: the upload is gone.
    expect(await complete(completion(parts.slice(0, 1)))).toMatchObject({ status: 404, code: 'NoSuchUpload' })
    expect(await f.send('POST', `/bkt/elsewhere?uploadId=${id}`, { body: completion(parts) })).toMatchObject({ status: 404, code: 'NoSuchUpload' })
    await f.send('PUT', '/bkt/again', { body: 'replaced' })
    expect(await complete(completion(parts))).toMatchObject({ status: 404, code: 'NoSuchUpload' })
    expect((await f.send('GET', '/bkt/again')).text).toBe('replaced')
  })

  test('ListParts and ListMultipartUploads page with S3’s markers', async () => {
    const f = await engineFixture()
    const id = await create(f, 'lp')
    for (let n = 1; n <= 5; n++) await part(f, 'lp', id, n, new TextEncoder().encode(`part ${n}`))
    const first = (await f.send('GET', `/bkt/lp?uploadId=${id}&max-parts=2`)).xml()
    expect([
      children(first, 'Part').map((p) => textOf(p, 'PartNumber')),
      textOf(first, 'IsTruncated'),
      textOf(first, 'NextPartNumberMarker'),
      textOf(first, 'MaxParts'),
    ]).toEqual([['1', '2'], 'true', '2', '2'])
    const rest = (await f.send('GET', `/bkt/lp?uploadId=${id}&part-number-marker=2`)).xml()
    expect([children(rest, 'Part').map((p) => textOf(p, 'PartNumber')), textOf(rest, 'IsTruncated')]).toEqual([['3', '4', '5'], 'false'])
    const p3 = children(rest, 'Part')[0]!
    expect([textOf(p3, 'Size'), textOf(p3, 'ETag'), textOf(p3, 'LastModified')?.endsWith('Z')]).toEqual(['6', `"${md5('part 3').toString('hex')}"`, true])

    const ids: Record<string, string[]> = {}
    for (const key of ['a/1', 'a/1', 'a/2', 'b', 'c d']) (ids[key] ??= []).push(await create(f, encodeURIComponent(key).replace('%2F', '/')))
    const all = async (query: string): Promise<string[]> => {
      const out: string[] = []
      let next = ''
      for (let i = 0; i < 20; i++) {
        const doc = (await f.send('GET', `/bkt?uploads&${query}${next}`)).xml()
        const page = [
          ...children(doc, 'Upload').map((u) => `${decodeURIComponent(textOf(u, 'Key')!)} ${textOf(u, 'UploadId')}`),
          ...children(doc, 'CommonPrefixes').map((p) => decodeURIComponent(textOf(p, 'Prefix')!)),
        ]
        out.push(...page.sort())
        if (textOf(doc, 'IsTruncated') !== 'true') return out
        next = `&key-marker=${encodeURIComponent(decodeURIComponent(textOf(doc, 'NextKeyMarker')!))}&upload-id-marker=${textOf(doc, 'NextUploadIdMarker')}`
      }
      throw new Error('no end')
    }
    const expected = [`a/1 ${ids['a/1']![0]}`, `a/1 ${ids['a/1']![1]}`, `a/2 ${ids['a/2']![0]}`, `b ${ids.b![0]}`, `c d ${ids['c d']![0]}`, `lp ${id}`]
    expect(await all('encoding-type=url')).toEqual(expected)
    expect(await all('encoding-type=url&max-uploads=1')).toEqual(expected)
    expect(await all('encoding-type=url&max-uploads=2&delimiter=%2F')).toEqual(['a/', `b ${ids.b![0]}`, `c d ${ids['c d']![0]}`, `lp ${id}`])
    expect(await all('encoding-type=url&prefix=a%2F')).toEqual(expected.slice(0, 3))
  })
})

describe('UploadPartCopy', () => {
  test('parts copied from ranges of other objects, with conditions, across buckets', async () => {
    const f = await engineFixture()
    const source = new Uint8Array(6 * MiB).map((_, i) => (i * 13) & 0xff)
    await f.send('PUT', '/other/source', { body: source, stream: true })
    const srcEtag = (await f.send('HEAD', '/other/source')).headers.etag!
    const id = await create(f, 'copied')
    const c1 = await f.send('PUT', `/bkt/copied?partNumber=1&uploadId=${id}`, {
      headers: { 'x-amz-copy-source': '/other/source', 'x-amz-copy-source-range': `bytes=0-${5 * MiB}` },
    })
    expect(c1.status).toBe(200)
    const r1 = c1.xml()
    expect([r1.name, textOf(r1, 'ETag')]).toEqual(['CopyPartResult', `"${md5(source.subarray(0, 5 * MiB + 1)).toString('hex')}"`])
    expect(textOf(r1, 'LastModified')).toMatch(/Z$/)
    const c2 = (
      await f.send('PUT', `/bkt/copied?partNumber=2&uploadId=${id}`, {
        headers: { 'x-amz-copy-source': 'other/source', 'x-amz-copy-source-if-match': srcEtag },
      })
    ).xml()
    expect(
      await f.send('PUT', `/bkt/copied?partNumber=3&uploadId=${id}`, {
        headers: { 'x-amz-copy-source': 'other/source', 'x-amz-copy-source-if-none-match': srcEtag },
      }),
    ).toMatchObject({ status: 412, code: 'PreconditionFailed' })
    expect(
      await f.send('PUT', `/bkt/copied?partNumber=3&uploadId=${id}`, {
        headers: { 'x-amz-copy-source': 'other/source', 'x-amz-copy-source-range': 'bytes=0-999999999' },
      }),
    ).toMatchObject({ status: 416, code: 'InvalidRange' })
    expect(
      await f.send('PUT', `/bkt/copied?partNumber=3&uploadId=${id}`, {
        headers: { 'x-amz-copy-source': 'other/source', 'x-amz-copy-source-range': 'bytes=5-' },
      }),
    ).toMatchObject({ status: 400, code: 'InvalidArgument' })
    expect(await f.send('PUT', `/bkt/copied?partNumber=3&uploadId=${id}`, { headers: { 'x-amz-copy-source': 'other/missing' } })).toMatchObject({
      status: 404,
      code: 'NoSuchKey',
    })
    await f.send('POST', `/bkt/copied?uploadId=${id}`, {
      body: completion([
        { n: 1, etag: textOf(r1, 'ETag')! },
        { n: 2, etag: textOf(c2, 'ETag')! },
      ]),
    })
    const got = await f.send('GET', '/bkt/copied')
    expect(Buffer.from(got.bytes).equals(Buffer.concat([source.subarray(0, 5 * MiB + 1), source]))).toBe(true)
  })
})
