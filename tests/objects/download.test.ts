// SPDX-License-Identifier: AGPL-3.0-or-later
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { CONTENT_CSP, PDF_CSP } from '../../src/http/security-headers.ts'
import { errorCode } from '../helpers/app.ts'
import { json, KINDS, objectEnv, q, type Env } from './fixture.ts'

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, ...new Array(200).fill(7)])
const PDF = new TextEncoder().encode('%PDF-1.4\n' + 'x'.repeat(3000))
const BODY = 'abcdefghijklmnopqrstuvwxyz'

describe.each(KINDS)('downloads on %s', (kind) => {
  let e: Env
  beforeAll(async () => {
    e = await objectEnv(kind)
    const uploads: Array<[string, string | Uint8Array, string]> = [
      ['alpha.txt', BODY, 'text/plain'],
      ['page.html', '<html><script>alert(1)</script></html>', 'text/html'],
      ['logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'image/svg+xml'],
      ['real.png', PNG, 'image/png'],
      ['fake.png', '<html><script>alert(1)</script></html>', 'image/png'],
      ['doc.pdf', PDF, 'application/pdf'],
      ['markup.txt', '  <html><body>hi</body></html>', 'text/plain'],
      ['data.json', '{"a":1}', 'application/json'],
      ['app.js', 'alert(1)', 'application/javascript'],
      ['feed.xml', '<?xml version="1.0"?><x/>', 'application/xml'],
      ['naïve résumé.txt', 'unicode', 'text/plain'],
      ['empty.txt', '', 'text/plain'],
    ]
    for (const [key, body, type] of uploads) {
      const res = await e.put(key, body, { type })
      if (res.status !== 201) throw new Error(`${key}: ${res.status} ${await res.text()}`)
    }
  }, 60_000)
  afterAll(() => e.close(), 60_000)

  const get = (key: string, extra = '', headers: Record<string, string> = {}, method = 'GET'): Promise<Response> =>
    e.t.call(method, `${e.base}/object${q(key, extra)}`, { as: e.reader, headers })
  /** Status only; the body is cancelled so the driver releases the object. */
  const status = async (key: string, extra = '', headers: Record<string, string> = {}, method = 'GET'): Promise<number> => {
    const res = await get(key, extra, headers, method)
    await res.body?.cancel()
    return res.status
  }

  test('a full GET has the exact length, validators and the safety headers', async () => {
    const res = await get('alpha.txt')
    expect(res.status).toBe(200)
    expect(await res.clone().text()).toBe(BODY)
    const h = res.headers
    expect(h.get('content-length')).toBe(String(BODY.length))
    expect(h.get('accept-ranges')).toBe('bytes')
    expect(h.get('etag')).toMatch(/^"[^"]+"$/)
    expect(Number.isNaN(Date.parse(h.get('last-modified')!))).toBe(false)
    expect(h.get('content-disposition')).toBe('attachment; filename="alpha.txt"')
    expect(h.get('content-security-policy')).toBe(CONTENT_CSP)
    expect(h.get('x-content-type-options')).toBe('nosniff')
    expect(h.get('cache-control')).toContain('private')
  })

  test('HEAD matches GET without a body; /object/info is the same as JSON', async () => {
    const res = await get('alpha.txt', '', {}, 'HEAD')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-length')).toBe(String(BODY.length))
    const full = await get('alpha.txt')
    await full.body?.cancel()
    expect(res.headers.get('etag')).toBe(full.headers.get('etag'))
    expect(await res.text()).toBe('')
    const info = await json<Record<string, unknown>>(await e.t.call('GET', `${e.base}/object/info${q('alpha.txt')}`, { as: e.reader }))
    expect(info).toMatchObject({ key: 'alpha.txt', size: BODY.length })
    expect(typeof info.etag).toBe('string')
    expect(typeof info.last_modified).toBe('string')
  })

  test('single ranges: a-b, a-, -n give 206 with Content-Range and the exact length', async () => {
    for (const [range, want, cr] of [
      ['bytes=0-4', 'abcde', 'bytes 0-4/26'],
      ['bytes=20-', 'uvwxyz', 'bytes 20-25/26'],
      ['bytes=-3', 'xyz', 'bytes 23-25/26'],
      ['bytes=24-100', 'yz', 'bytes 24-25/26'],
    ] as const) {
      const res = await get('alpha.txt', '', { range })
      expect(res.status).toBe(206)
      expect(res.headers.get('content-range')).toBe(cr)
      expect(res.headers.get('content-length')).toBe(String(want.length))
      expect(await res.text()).toBe(want)
    }
    const head = await get('alpha.txt', '', { range: 'bytes=2-5' }, 'HEAD')
    expect(head.status).toBe(206)
    expect(head.headers.get('content-range')).toBe('bytes 2-5/26')
    expect(head.headers.get('content-length')).toBe('4')
  })

  test('several ranges give the whole object; another unit is ignored', async () => {
    const multi = await get('alpha.txt', '', { range: 'bytes=0-1,5-6' })
    expect(multi.status).toBe(200)
    expect(await multi.text()).toBe(BODY)
    expect(await status('alpha.txt', '', { range: 'items=0-1' })).toBe(200)
  })

  test('unsatisfiable or malformed byte ranges are 416 bad_range with Content-Range */size', async () => {
    for (const range of ['bytes=26-', 'bytes=100-200', 'bytes=5-2', 'bytes=abc', 'bytes=-0']) {
      const res = await get('alpha.txt', '', { range })
      expect(res.status).toBe(416)
      expect(await errorCode(res)).toBe('bad_range')
      expect(res.headers.get('content-range')).toBe('bytes */26')
      expect(await status('alpha.txt', '', { range }, 'HEAD')).toBe(416)
    }
  })

  test('conditional requests: 304 for If-None-Match / If-Modified-Since, 412 for If-Match / If-Unmodified-Since', async () => {
    const first = await get('alpha.txt')
    await first.body?.cancel()
    const etag = first.headers.get('etag')!
    const lastModified = first.headers.get('last-modified')!
    for (const method of ['GET', 'HEAD']) {
      const nm = await get('alpha.txt', '', { 'if-none-match': etag }, method)
      expect(nm.status).toBe(304)
      expect(nm.headers.get('etag')).toBe(etag)
      expect(nm.headers.get('x-content-type-options')).toBe('nosniff')
      expect(await status('alpha.txt', '', { 'if-none-match': '"nope"' }, method)).toBe(200)
      expect(await status('alpha.txt', '', { 'if-modified-since': lastModified }, method)).toBe(304)
      expect(await status('alpha.txt', '', { 'if-modified-since': new Date(Date.parse(lastModified) - 60_000).toUTCString() }, method)).toBe(200)
      expect(await status('alpha.txt', '', { 'if-match': etag }, method)).toBe(200)
      expect(await status('alpha.txt', '', { 'if-match': '"other"' }, method)).toBe(412)
      expect(await status('alpha.txt', '', { 'if-unmodified-since': new Date(Date.parse(lastModified) - 60_000).toUTCString() }, method)).toBe(412)
    }
    expect(await errorCode(await get('alpha.txt', '', { 'if-match': '"other"' }))).toBe('precondition_failed')
  })

  test('inline is honoured for inert types whose bytes agree', async () => {
    const png = await get('real.png', '&disposition=inline')
    expect(png.headers.get('content-disposition')).toBe('inline; filename="real.png"')
    expect(png.headers.get('content-type')).toBe('image/png')
    expect(png.headers.get('content-security-policy')).toBe(CONTENT_CSP)
    expect(new Uint8Array(await png.arrayBuffer())).toEqual(PNG)
    const pdf = await get('doc.pdf', '&disposition=inline')
    expect(pdf.headers.get('content-disposition')).toStartWith('inline')
    expect(pdf.headers.get('content-security-policy')).toBe(PDF_CSP)
    expect((await pdf.arrayBuffer()).byteLength).toBe(PDF.byteLength)
    const txt = await get('alpha.txt', '&disposition=inline')
    expect(txt.headers.get('content-disposition')).toStartWith('inline')
    expect(txt.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    const ranged = await get('real.png', '&disposition=inline', { range: 'bytes=100-' })
    await ranged.body?.cancel()
    expect(ranged.status).toBe(206)
    expect(ranged.headers.get('content-disposition')).toStartWith('inline')
    const head = await get('real.png', '&disposition=inline', {}, 'HEAD')
    expect(head.headers.get('content-disposition')).toStartWith('inline')
  })

  test('active or unknown content is forced to attachment even when inline is asked (stored-XSS guard)', async () => {
    for (const key of ['page.html', 'logo.svg', 'fake.png', 'markup.txt', 'data.json', 'app.js', 'feed.xml']) {
      for (const method of ['GET', 'HEAD']) {
        const res = await get(key, '&disposition=inline', {}, method)
        await res.body?.cancel()
        expect(res.status).toBe(200)
        expect(res.headers.get('content-disposition')).toStartWith('attachment;')
        expect(res.headers.get('content-security-policy')).toBe(CONTENT_CSP)
        expect(res.headers.get('content-security-policy')).toContain('sandbox')
        expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      }
    }
    const fake = await get('fake.png', '&disposition=inline', { range: 'bytes=5-' })
    await fake.body?.cancel()
    expect(fake.headers.get('content-disposition')).toStartWith('attachment;')
  })

  test('non-ASCII names use RFC 6266 filename*', async () => {
    const res = await get('naïve résumé.txt')
    await res.body?.cancel()
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="na_ve r_sum_.txt"; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.txt`)
  })

  test('an empty object downloads as 0 bytes', async () => {
    const res = await get('empty.txt')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-length')).toBe('0')
    expect(await res.text()).toBe('')
  })

  test('unknown key, bucket or backend is 404; a missing key parameter is 400', async () => {
    const missing = await get('nope.txt')
    expect(missing.status).toBe(404)
    expect(await errorCode(missing)).toBe('not_found')
    expect(await status('nope.txt', '', {}, 'HEAD')).toBe(404)
    expect((await e.t.call('GET', `/api/backends/${e.bid}/buckets/no-such-bucket-x/object${q('a')}`, { as: e.reader })).status).toBe(404)
    expect((await e.t.call('GET', `/api/backends/nope/buckets/${e.bucket}/object${q('a')}`, { as: e.reader })).status).toBe(404)
    const noKey = await e.t.call('GET', `${e.base}/object`, { as: e.reader })
    expect(noKey.status).toBe(400)
    expect(await errorCode(noKey)).toBe('bad_request')
    const badBucket = await e.t.call('GET', `/api/backends/${e.bid}/buckets/Bad_Bucket/object${q('a')}`, { as: e.reader })
    expect(badBucket.status).toBe(400)
    expect(await errorCode(badBucket)).toBe('invalid_bucket_name')
  })
})
