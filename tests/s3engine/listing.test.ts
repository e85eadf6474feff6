// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * ListObjects V1 and V2 and ListObjectVersions through the engine: prefix,
 * delimiter, marker / start-after / continuation-token paging, max-keys,
 * encoding-type=url and fetch-owner, on keys that XML cannot carry as text.
 */
import { describe, expect, test } from 'bun:test'
import { children, parseXml, textOf, type XmlElement } from '../../src/s3/xml.ts'
import { engineFixture, path, type EngineFixture } from './fixture.ts'

const KEYS = ['a', 'a/1', 'a/2', 'b/x/1', 'b/y', 'c d', 'e+f', '~', 'é']

async function seeded(): Promise<EngineFixture> {
  const f = await engineFixture()
  for (const k of KEYS) await f.send('PUT', `/bkt/${path(k)}`, { body: k })
  return f
}

function entries(doc: XmlElement, decode = (s: string): string => s): string[] {
  return [...children(doc, 'Contents').map((c) => decode(textOf(c, 'Key')!)), ...children(doc, 'CommonPrefixes').map((p) => decode(textOf(p, 'Prefix')!))].sort(
    (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)),
  )
}

/** Pages through a listing the way a client does, with V2 tokens or V1 markers. */
async function pages(f: EngineFixture, v2: boolean, query: string): Promise<string[][]> {
  const out: string[][] = []
  let next = ''
  for (let i = 0; i < 50; i++) {
    const doc = (await f.send('GET', `/bkt?${v2 ? 'list-type=2&' : ''}${query}${next}`)).xml()
    const page = entries(doc)
    out.push(page)
    if (textOf(doc, 'IsTruncated') !== 'true') return out
    next = v2
      ? `&continuation-token=${encodeURIComponent(textOf(doc, 'NextContinuationToken')!)}`
      : `&marker=${encodeURIComponent(textOf(doc, 'NextMarker') ?? page.at(-1)!)}`
  }
  throw new Error('no end to the listing')
}

describe('ListObjectsV2', () => {
  test('a page has S3’s fields, in S3’s order', async () => {
    const f = await seeded()
    const r = await f.send('GET', '/bkt?list-type=2&prefix=a&delimiter=%2F&max-keys=5&fetch-owner=true')
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('application/xml')
    expect(r.text).toStartWith(
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix>a</Prefix><KeyCount>2</KeyCount><MaxKeys>5</MaxKeys><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated><Contents><Key>a</Key>',
    )
    const doc = r.xml()
    expect(entries(doc)).toEqual(['a', 'a/'])
    const c = children(doc, 'Contents')[0]!
    expect(textOf(c, 'ETag')).toMatch(/^"[0-9a-f]{32}"$/)
    expect(textOf(c, 'Size')).toBe('1')
    expect(textOf(c, 'LastModified')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(textOf(c, 'StorageClass')).toBe('STANDARD')
    expect(
      textOf(
        c.children.find((x) => x.name === 'Owner'),
        'ID',
      ),
    ).toBe('STWTESTKEY0000000000')
    expect(children((await f.send('GET', '/bkt?list-type=2')).xml(), 'Contents')[0]!.children.some((x) => x.name === 'Owner')).toBe(false)
  })

  test('continuation tokens page through everything exactly once, with and without a delimiter', async () => {
    const f = await seeded()
    expect((await pages(f, true, 'max-keys=2')).flat()).toEqual(KEYS)
    expect(await pages(f, true, 'max-keys=2&delimiter=%2F')).toEqual([['a', 'a/'], ['b/', 'c d'], ['e+f', '~'], ['é']])
    expect(await pages(f, true, 'max-keys=1&prefix=b%2F&delimiter=%2F')).toEqual([['b/x/'], ['b/y']])
  })

  test('start-after, max-keys 0 and above 1000, bad tokens and parameters', async () => {
    const f = await seeded()
    expect(entries((await f.send('GET', '/bkt?list-type=2&start-after=b%2Fx%2F1')).xml())).toEqual(['b/y', 'c d', 'e+f', '~', 'é'])
    const startDoc = (await f.send('GET', '/bkt?list-type=2&start-after=a')).xml()
    expect(textOf(startDoc, 'StartAfter')).toBe('a')
    const zero = (await f.send('GET', '/bkt?list-type=2&max-keys=0')).xml()
    expect([textOf(zero, 'KeyCount'), textOf(zero, 'IsTruncated'), entries(zero)]).toEqual(['0', 'false', []])
    expect(textOf((await f.send('GET', '/bkt?list-type=2&max-keys=5000')).xml(), 'MaxKeys')).toBe('1000')
    expect(await f.send('GET', '/bkt?list-type=2&continuation-token=bogus')).toMatchObject({ status: 400, code: 'InvalidArgument' })
    expect(await f.send('GET', '/bkt?list-type=2&max-keys=-1')).toMatchObject({ status: 400, code: 'InvalidArgument' })
    expect(await f.send('GET', '/bkt?list-type=2&encoding-type=base64')).toMatchObject({ status: 400, code: 'InvalidArgument' })
    expect(await f.send('GET', '/nobucket?list-type=2')).toMatchObject({ status: 404, code: 'NoSuchBucket' })
  })

  test('encoding-type=url encodes keys, prefixes and the delimiter; without it control characters are references', async () => {
    const f = await engineFixture()
    const odd = ['ctl\x01x', 'cr\rlf\n', 'sp ace', 'plus+', 'amp&<>', 'ü/x']
    for (const k of odd) await f.send('PUT', `/bkt/${path(k)}`, { body: 'x' })
    const encoded = (await f.send('GET', '/bkt?list-type=2&encoding-type=url&delimiter=%2F')).xml()
    expect(textOf(encoded, 'EncodingType')).toBe('url')
    expect(entries(encoded, decodeURIComponent)).toEqual(['amp&<>', 'cr\rlf\n', 'ctl\x01x', 'plus+', 'sp ace', 'ü/'])
    expect(children(encoded, 'Contents').map((c) => textOf(c, 'Key'))).toContain('ctl%01x')
    const plain = await f.send('GET', '/bkt?list-type=2')
    expect(plain.text).toContain('<Key>ctl&#x1;x</Key>')
    expect(plain.text).toContain('<Key>cr&#xD;lf\n</Key>')
    expect(plain.text).toContain('<Key>amp&amp;&lt;&gt;</Key>')
  })

  test('an empty continuation token is no token, and is echoed (as RGW answers)', async () => {
    const f = await seeded()
    const doc = (await f.send('GET', '/bkt?list-type=2&continuation-token=')).xml()
    expect([doc.name, textOf(doc, 'ContinuationToken'), textOf(doc, 'IsTruncated'), entries(doc)]).toEqual([
      'ListBucketResult',
      '',
      'false',
      [...KEYS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    ])
  })

  test('allow-unordered (RGW) lists in order, and cannot be used with a delimiter', async () => {
    const f = await seeded()
    for (const v of ['', 'list-type=2&']) {
      expect(entries((await f.send('GET', `/bkt?${v}allow-unordered=true&prefix=a`)).xml())).toEqual(['a', 'a/1', 'a/2'])
      expect(await f.send('GET', `/bkt?${v}allow-unordered=true&delimiter=%2F`)).toMatchObject({ status: 400, code: 'InvalidArgument' })
      expect((await f.send('GET', `/bkt?${v}allow-unordered=false&delimiter=%2F`)).status).toBe(200)
    }
  })
})

describe('ListObjects (V1)', () => {
  test('markers page through everything once; a marker that is a common prefix skips its keys', async () => {
    const f = await seeded()
    expect((await pages(f, false, 'max-keys=2')).flat()).toEqual(KEYS)
    expect(await pages(f, false, 'max-keys=2&delimiter=%2F')).toEqual([['a', 'a/'], ['b/', 'c d'], ['e+f', '~'], ['é']])
    const first = (await f.send('GET', '/bkt?max-keys=2&delimiter=%2F')).xml()
    expect([textOf(first, 'Marker'), textOf(first, 'NextMarker'), textOf(first, 'IsTruncated')]).toEqual(['', 'a/', 'true'])
    expect(entries((await f.send('GET', '/bkt?delimiter=%2F&marker=b%2F')).xml())).toEqual(['c d', 'e+f', '~', 'é'])
    const owned = children((await f.send('GET', '/bkt')).xml(), 'Contents')[0]!
    expect(
      textOf(
        owned.children.find((x) => x.name === 'Owner'),
        'ID',
      ),
    ).toBe('STWTESTKEY0000000000')
  })
})

describe('ListObjectVersions', () => {
  test('an unversioned bucket lists each object once, as its latest null version', async () => {
    const f = await seeded()
    const doc = (await f.send('GET', '/bkt?versions&prefix=a')).xml()
    expect(doc.name).toBe('ListVersionsResult')
    const versions = children(doc, 'Version')
    expect(versions.map((v) => [textOf(v, 'Key'), textOf(v, 'VersionId'), textOf(v, 'IsLatest')])).toEqual([
      ['a', 'null', 'true'],
      ['a/1', 'null', 'true'],
      ['a/2', 'null', 'true'],
    ])
    const paged = (await f.send('GET', '/bkt?versions&max-keys=1&key-marker=a%2F1')).xml()
    expect([children(paged, 'Version').map((v) => textOf(v, 'Key')), textOf(paged, 'NextKeyMarker'), textOf(paged, 'NextVersionIdMarker')]).toEqual([
      ['a/2'],
      'a/2',
      'null',
    ])
    expect(await f.send('GET', '/bkt?versions&version-id-marker=null')).toMatchObject({ status: 400, code: 'InvalidArgument' })
  })
})

describe('big folders', () => {
  test('a folder of files dropped in from outside pages in order, and a file dropped in later appears', async () => {
    const f = await engineFixture()
    const { mkdir, writeFile } = await import('node:fs/promises')
    const dir = `${f.root}/bkt/drop`
    await mkdir(dir)
    const names = Array.from({ length: 2500 }, (_, i) => `f${String(i).padStart(5, '0')}`)
    for (const n of names) await writeFile(`${dir}/${n}`, n)
    const listed = (await pages(f, true, 'prefix=drop%2F&max-keys=1000')).flat()
    expect(listed).toEqual(names.map((n) => `drop/${n}`))
    await writeFile(`${dir}/f01234x`, 'late')
    const around = (await f.send('GET', '/bkt?list-type=2&prefix=drop%2F&start-after=drop%2Ff01234&max-keys=2')).xml()
    expect(entries(around)).toEqual(['drop/f01234x', 'drop/f01235'])
    const etag = textOf(children(around, 'Contents')[0]!, 'ETag')!
    expect(etag).toMatch(/^"[0-9a-f]{32}-1"$/)
    expect(parseXml((await f.send('GET', '/bkt?list-type=2&prefix=drop%2F&start-after=drop%2Ff01234&max-keys=1')).text).name).toBe('ListBucketResult')
  })
})
