// SPDX-License-Identifier: AGPL-3.0-or-later
/** The pure pieces behind the object routes: Range, presentation rules, filenames, the form reader. */
import { describe, expect, test } from 'bun:test'
import { contentDisposition, present } from '../../src/objects/content-safety.ts'
import { readForm } from '../../src/objects/form-data.ts'
import { parseRange, resolveRange } from '../../src/objects/range.ts'
import { evaluate } from '../../src/objects/conditions.ts'
import { CONTENT_CSP, PDF_CSP } from '../../src/http/security-headers.ts'

describe('Range', () => {
  test.each([
    [null, { kind: 'none' }],
    ['bytes=0-9', { kind: 'one', range: { start: 0, end: 9 } }],
    ['bytes=5-', { kind: 'one', range: { start: 5 } }],
    ['bytes=-5', { kind: 'one', range: { suffix: 5 } }],
    ['bytes = 1-2', { kind: 'one', range: { start: 1, end: 2 } }],
    ['bytes=0-1, 4-5', { kind: 'none' }],
    ['items=0-1', { kind: 'none' }],
    ['bytes=5-2', { kind: 'invalid' }],
    ['bytes=-0', { kind: 'invalid' }],
    ['bytes=-', { kind: 'invalid' }],
    ['bytes=a-b', { kind: 'invalid' }],
    ['bytes=', { kind: 'invalid' }],
    ['garbage', { kind: 'invalid' }],
    ['bytes=99999999999999999999-', { kind: 'invalid' }],
  ] as const)('%p', (header, want) => {
    expect(parseRange(header)).toEqual(want as never)
  })

  test('resolveRange clamps and refuses past the end', () => {
    expect(resolveRange({ start: 5, end: 100 }, 10)).toEqual({ start: 5, end: 9 })
    expect(resolveRange({ suffix: 100 }, 10)).toEqual({ start: 0, end: 9 })
    expect(resolveRange({ start: 10 }, 10)).toBeNull()
    expect(resolveRange({ suffix: 1 }, 0)).toBeNull()
  })
})

describe('conditions', () => {
  const info = { key: 'k', size: 1, etag: '"abc"', lastModified: new Date('2026-01-02T03:04:05Z') }
  test('If-Match beats If-Unmodified-Since; If-None-Match beats If-Modified-Since', () => {
    expect(evaluate({ ifMatch: '"abc"', ifUnmodifiedSince: new Date('2020-01-01') }, info)).toBe(200)
    expect(evaluate({ ifMatch: 'W/"abc", "x"' }, info)).toBe(200)
    expect(evaluate({ ifMatch: '"zzz"' }, info)).toBe(412)
    expect(evaluate({ ifNoneMatch: '"x", "abc"' }, info)).toBe(304)
    expect(evaluate({ ifNoneMatch: '*' }, info)).toBe(304)
    expect(evaluate({ ifNoneMatch: '"x"', ifModifiedSince: new Date('2030-01-01') }, info)).toBe(200)
    expect(evaluate({ ifModifiedSince: new Date('2026-01-02T03:04:05.900Z') }, info)).toBe(304)
    expect(evaluate({ ifUnmodifiedSince: new Date('2026-01-02T03:04:04Z') }, info)).toBe(412)
  })
})

describe('presentation (stored-XSS guard)', () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])
  const mp4 = new Uint8Array([0, 0, 0, 0x20, ...new TextEncoder().encode('ftypisom')])
  const html = new TextEncoder().encode('<!DOCTYPE html><script>alert(1)</script>')
  test.each([
    ['image/png', png, 'inline', 'image/png', CONTENT_CSP],
    ['IMAGE/PNG; x=y', png, 'inline', 'image/png', CONTENT_CSP],
    ['video/mp4', mp4, 'inline', 'video/mp4', CONTENT_CSP],
    ['audio/mpeg', new TextEncoder().encode('ID3\x03'), 'inline', 'audio/mpeg', CONTENT_CSP],
    ['application/pdf', new TextEncoder().encode('%PDF-1.7'), 'inline', 'application/pdf', PDF_CSP],
    ['text/plain', new TextEncoder().encode('just text'), 'inline', 'text/plain; charset=utf-8', CONTENT_CSP],
    ['text/plain; charset=latin1', new Uint8Array(), 'inline', 'text/plain; charset=utf-8', CONTENT_CSP],
    ['text/plain', new TextEncoder().encode('\ufeff  <html>'), 'attachment', 'text/plain', CONTENT_CSP],
    ['image/png', html, 'attachment', 'image/png', CONTENT_CSP],
    ['image/svg+xml', new TextEncoder().encode('<svg/>'), 'attachment', 'image/svg+xml', CONTENT_CSP],
    ['text/html', html, 'attachment', 'text/html', CONTENT_CSP],
    ['application/xhtml+xml', html, 'attachment', 'application/xhtml+xml', CONTENT_CSP],
    ['text/xml', html, 'attachment', 'text/xml', CONTENT_CSP],
    ['application/javascript', html, 'attachment', 'application/javascript', CONTENT_CSP],
    ['application/pdf', html, 'attachment', 'application/pdf', CONTENT_CSP],
    ['video/mp4', html, 'attachment', 'video/mp4', CONTENT_CSP],
    [undefined, png, 'attachment', 'application/octet-stream', CONTENT_CSP],
    ['text/html\r\nx-evil: 1', html, 'attachment', 'application/octet-stream', CONTENT_CSP],
  ] as const)('%p asked inline', (type, head, disposition, contentType, csp) => {
    expect(present('inline', type, head)).toEqual({ disposition, contentType, csp })
  })

  test('attachment stays attachment', () => {
    expect(present('attachment', 'image/png', null).disposition).toBe('attachment')
  })
})

describe('Content-Disposition', () => {
  test.each([
    ['a/b/report.pdf', 'attachment; filename="report.pdf"'],
    ['folder/', 'attachment; filename="folder"'],
    ['quote"and\\slash;semi.txt', 'attachment; filename="quote_and_slash_semi.txt"'],
    ['tab\there.txt', 'attachment; filename="tab_here.txt"'],
    ['日本.txt', `attachment; filename="__.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt`],
    ["it's (1)*.txt", `attachment; filename="it's (1)*.txt"`],
    ['100%.txt', `attachment; filename="100_.txt"; filename*=UTF-8''100%25.txt`],
    ['a/..', 'attachment; filename="download"'],
  ])('%p', (key, want) => {
    expect(contentDisposition('attachment', key)).toBe(want)
  })
})

describe('streaming form reader', () => {
  const boundary = 'XyZ-boundary'
  const raw = [
    `preamble\r\n--${boundary}\r\n`,
    'Content-Disposition: form-data; name="key"\r\n\r\nmy/key.txt\r\n',
    `--${boundary}\r\n`,
    'Content-Disposition: form-data; name="file"; filename="na\\"me.txt"; filename*=UTF-8\'\'n%C3%A4me.txt\r\nContent-Type: text/plain\r\n\r\n',
    `line one\r\n--XyZ-bound (almost a boundary)\r\n`,
    `\r\n--${boundary}--\r\nepilogue`,
  ].join('')

  async function read(chunkSize: number): Promise<{ fields: Record<string, string>; file?: { filename: string; contentType?: string; text: string } }> {
    const bytes = new TextEncoder().encode(raw)
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += chunkSize) c.enqueue(bytes.subarray(i, i + chunkSize))
        c.close()
      },
    })
    const form = await readForm(stream, `multipart/form-data; boundary="${boundary}"`, { fileBytes: 1024, fieldBytes: 64, totalBytes: 4096, fileField: 'file' })
    try {
      return {
        fields: Object.fromEntries(form.fields),
        ...(form.file
          ? {
              file: {
                filename: form.file.filename,
                ...(form.file.contentType ? { contentType: form.file.contentType } : {}),
                text: await new Response(await form.file.spool.stream()).text(),
              },
            }
          : {}),
      }
    } finally {
      await form.file?.spool.dispose()
    }
  }

  test.each([1, 2, 3, 7, 13, 64, 4096])('split into %p-byte chunks', async (size) => {
    expect(await read(size)).toEqual({
      fields: { key: 'my/key.txt' },
      file: { filename: 'näme.txt', contentType: 'text/plain', text: 'line one\r\n--XyZ-bound (almost a boundary)\r\n' },
    })
  })

  test('limits: file, field and total sizes', async () => {
    const stream = (s: string): ReadableStream<Uint8Array> => new Response(s).body!
    const file = `--b\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n${'x'.repeat(2000)}\r\n--b--\r\n`
    await expect(
      readForm(stream(file), 'multipart/form-data; boundary=b', { fileBytes: 1000, fieldBytes: 10, totalBytes: 10_000, fileField: 'file' }),
    ).rejects.toMatchObject({ code: 'too_large' })
    const field = `--b\r\nContent-Disposition: form-data; name="key"\r\n\r\n${'x'.repeat(20)}\r\n--b--\r\n`
    await expect(
      readForm(stream(field), 'multipart/form-data; boundary=b', { fileBytes: 1000, fieldBytes: 10, totalBytes: 10_000, fileField: 'file' }),
    ).rejects.toMatchObject({ code: 'too_large' })
    await expect(
      readForm(stream(file), 'multipart/form-data; boundary=b', { fileBytes: 5000, fieldBytes: 10, totalBytes: 100, fileField: 'file' }),
    ).rejects.toMatchObject({ code: 'too_large' })
    await expect(
      readForm(stream(file), 'multipart/form-data', { fileBytes: 5000, fieldBytes: 10, totalBytes: 10_000, fileField: 'file' }),
    ).rejects.toMatchObject({ code: 'bad_request' })
  })
})
