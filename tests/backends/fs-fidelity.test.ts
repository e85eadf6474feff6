// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What the S3 engine needs from the fs driver beyond the shared contract:
 * part layouts (`partNumber` reads), multipart checksums of both types, S3's
 * completion error codes, header values kept byte for byte, sidecars of the
 * first format still read, time-ordered upload ids and the sweep of
 * abandoned uploads.
 */
import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { lstat, mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { BackendError, type Backend, type ChecksumAlgorithm } from '../../src/backends/backend.ts'
import { checksumBase64, createChecksum } from '../../src/lib/checksum.ts'
import { body, fixture, kindOf, MiB, put, read } from './fs-fixture.ts'

function sum(algorithm: ChecksumAlgorithm, ...parts: Uint8Array[]): string {
  const c = createChecksum(algorithm)
  for (const p of parts) c.update(p)
  return checksumBase64(c)
}

async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call
    return 'resolved'
  } catch (err) {
    return err instanceof BackendError ? `${err.kind} ${err.code ?? ''}`.trim() : String(err)
  }
}

async function bytes(b: Backend, key: string, opts: Parameters<Backend['getObject']>[2] = {}): Promise<{ status: number; data: Buffer; range?: unknown }> {
  const got = await b.getObject('bkt', key, opts)
  if (got.status === 304) return { status: 304, data: Buffer.alloc(0) }
  return { status: got.status, data: Buffer.from(await new Response(got.body).arrayBuffer()), range: got.range }
}

/** Three parts: 5 MiB, 5 MiB, 3 bytes, each of its own fill. */
const PARTS = [new Uint8Array(5 * MiB).fill(1), new Uint8Array(5 * MiB).fill(2), new Uint8Array([7, 8, 9])]

async function multipart(b: Backend, key: string, opts: Parameters<Backend['createMultipartUpload']>[2] = {}): Promise<{ etag: string; checksum?: unknown }> {
  const id = await b.createMultipartUpload('bkt', key, opts)
  const done = []
  for (const [i, p] of PARTS.entries()) done.push(await b.uploadPart('bkt', key, id, i + 1, body(p), { size: p.byteLength }))
  return b.completeMultipartUpload(
    'bkt',
    key,
    id,
    done.map(({ partNumber, etag }) => ({ partNumber, etag })),
  )
}

describe('part layout', () => {
  test('partNumber reads one part of a multipart object, and all of any other', async () => {
    const f = await fixture()
    await multipart(f.b, 'mp')
    const info = await f.b.headObject('bkt', 'mp')
    expect(info.parts).toEqual(PARTS.map((p) => ({ size: p.byteLength })))
    let start = 0
    for (const [i, p] of PARTS.entries()) {
      const got = await bytes(f.b, 'mp', { partNumber: i + 1 })
      expect(got.status).toBe(206)
      expect(got.range).toEqual({ start, end: start + p.byteLength - 1, total: 10 * MiB + 3 })
      expect(got.data.equals(Buffer.from(p))).toBe(true)
      start += p.byteLength
    }
    expect(await codeOf(f.b.getObject('bkt', 'mp', { partNumber: 4 }))).toBe('bad_range InvalidPartNumber')
    expect(await codeOf(f.b.getObject('bkt', 'mp', { partNumber: 0 }))).toBe('bad_range InvalidPartNumber')
    expect(await codeOf(f.b.getObject('bkt', 'mp', { partNumber: 1, range: { start: 0, end: 1 } }))).toBe('invalid InvalidRequest')

    await put(f.b, 'single', 'just one')
    expect((await f.b.headObject('bkt', 'single')).parts).toBeUndefined()
    expect(await bytes(f.b, 'single', { partNumber: 1 })).toMatchObject({ status: 200, data: Buffer.from('just one') })
    expect(await codeOf(f.b.getObject('bkt', 'single', { partNumber: 2 }))).toBe('bad_range InvalidPartNumber')
  })

  test('completion follows S3: order, duplicates, ETags, sizes, an empty list', async () => {
    const f = await fixture()
    const id = await f.b.createMultipartUpload('bkt', 'k', {})
    const parts = []
    for (const [i, p] of PARTS.entries()) parts.push(await f.b.uploadPart('bkt', 'k', id, i + 1, body(p), { size: p.byteLength }))
    const named = parts.map(({ partNumber, etag }) => ({ partNumber, etag }))
    expect(await codeOf(f.b.completeMultipartUpload('bkt', 'k', id, [named[1]!, named[0]!]))).toBe('invalid InvalidPartOrder')
    expect(await codeOf(f.b.completeMultipartUpload('bkt', 'k', id, [named[0]!, named[1]!, named[0]!]))).toBe('invalid InvalidPartOrder')
    // A number named twice in a row counts as its last entry (RGW): here the last names no stored part.
    expect(await codeOf(f.b.completeMultipartUpload('bkt', 'k', id, [named[0]!, { ...named[0]!, etag: '"0"' }]))).toBe('invalid InvalidPart')
    expect(await codeOf(f.b.completeMultipartUpload('bkt', 'k', id, [{ ...named[0]!, etag: '"0"' }]))).toBe('invalid InvalidPart')
    expect(await codeOf(f.b.completeMultipartUpload('bkt', 'k', id, [named[2]!, { partNumber: 4, etag: named[0]!.etag }]))).toBe('invalid InvalidPart')
    expect(await codeOf(f.b.completeMultipartUpload('bkt', 'k', id, []))).toBe('invalid MalformedXML')
    await f.b.uploadPart('bkt', 'k', id, 4, body('x'), { size: 1 })
    expect(
      await codeOf(f.b.completeMultipartUpload('bkt', 'k', id, [named[2]!, { partNumber: 4, etag: `"${createHash('md5').update('x').digest('hex')}"` }])),
    ).toBe('invalid EntityTooSmall')
    expect(await codeOf(f.b.uploadPart('bkt', 'k', id, 10_001, body('x'), { size: 1 }))).toBe('invalid InvalidArgument')
    expect(await codeOf(f.b.uploadPart('bkt', 'k', id, 0, body('x'), { size: 1 }))).toBe('invalid InvalidArgument')
    const resent = [{ ...named[0]!, etag: '"0"' }, ...named]
    const done = await f.b.completeMultipartUpload('bkt', 'k', id, resent)
    const md5s = Buffer.concat(PARTS.map((p) => createHash('md5').update(p).digest()))
    expect(done.etag).toBe(`"${createHash('md5').update(md5s).digest('hex')}-3"`)
    // Repeated after it succeeded: the same answer (S3, RGW), while the key holds what it made and the same parts are named.
    expect(await f.b.completeMultipartUpload('bkt', 'k', id, resent)).toEqual(done)
    expect(await f.b.completeMultipartUpload('bkt', 'k', id, named)).toEqual(done)
    expect(await codeOf(f.b.completeMultipartUpload('bkt', 'k', id, named.slice(0, 2)))).toBe('not_found NoSuchUpload')
  })

  test('a completion with ifNoneMatch does not replace an object', async () => {
    const f = await fixture()
    await put(f.b, 'taken', 'first')
    const id = await f.b.createMultipartUpload('bkt', 'taken', {})
    const p = await f.b.uploadPart('bkt', 'taken', id, 1, body('second'), { size: 6 })
    expect(await kindOf(f.b.completeMultipartUpload('bkt', 'taken', id, [{ partNumber: p.partNumber, etag: p.etag }], { ifNoneMatch: '*' }))).toBe(
      'precondition',
    )
    expect(await read(f.b, 'taken')).toBe('first')
  })
})

describe('multipart checksums', () => {
  test('COMPOSITE: the digest of the part digests, with the part count', async () => {
    const f = await fixture()
    const done = await multipart(f.b, 'comp', { checksum: { algorithm: 'crc32', type: 'COMPOSITE' } })
    const partSums = PARTS.map((p) => sum('crc32', p))
    const composite = createChecksum('crc32')
    for (const s of partSums) composite.update(Buffer.from(s, 'base64'))
    const expected = { algorithm: 'crc32', value: `${checksumBase64(composite)}-3`, type: 'COMPOSITE' } as const
    expect(done.checksum).toEqual(expected)
    const info = await f.b.headObject('bkt', 'comp')
    expect(info.checksum).toEqual(expected)
    expect(info.parts).toEqual(PARTS.map((p, i) => ({ size: p.byteLength, checksum: partSums[i] })))
  })

  test('FULL_OBJECT: the checksum of the whole object', async () => {
    const f = await fixture()
    const done = await multipart(f.b, 'full', { checksum: { algorithm: 'crc64nvme', type: 'FULL_OBJECT' } })
    expect(done.checksum).toEqual({ algorithm: 'crc64nvme', value: sum('crc64nvme', ...PARTS), type: 'FULL_OBJECT' })
  })

  test('parts are checked against the upload’s algorithm and the values sent', async () => {
    const f = await fixture()
    const id = await f.b.createMultipartUpload('bkt', 'k', { checksum: { algorithm: 'sha256', type: 'COMPOSITE' } })
    expect(await codeOf(f.b.uploadPart('bkt', 'k', id, 1, body('x'), { size: 1, checksum: { algorithm: 'crc32' } }))).toBe('invalid InvalidRequest')
    expect(
      await codeOf(f.b.uploadPart('bkt', 'k', id, 1, body('x'), { size: 1, checksum: { algorithm: 'sha256', value: sum('sha256', Buffer.from('y')) } })),
    ).toBe('bad_digest BadDigest')
    const part = await f.b.uploadPart('bkt', 'k', id, 1, body('x'), { size: 1, checksum: { algorithm: 'sha256', value: sum('sha256', Buffer.from('x')) } })
    expect(part.checksum).toEqual({ algorithm: 'sha256', value: sum('sha256', Buffer.from('x')) })
    expect((await f.b.listParts('bkt', 'k', id))[0]!.checksum).toEqual(part.checksum)
    expect(
      await codeOf(
        f.b.completeMultipartUpload('bkt', 'k', id, [
          { partNumber: 1, etag: part.etag, checksum: { algorithm: 'sha256', value: sum('sha256', Buffer.from('z')) } },
        ]),
      ),
    ).toBe('invalid InvalidPart')
    expect(
      await codeOf(
        f.b.completeMultipartUpload('bkt', 'k', id, [{ partNumber: 1, etag: part.etag, checksum: { algorithm: 'crc32', value: part.checksum!.value } }]),
      ),
    ).toBe('invalid InvalidPart')
    await f.b.completeMultipartUpload('bkt', 'k', id, [part])
    expect(await codeOf(f.b.createMultipartUpload('bkt', 'k', { checksum: { algorithm: 'crc64nvme', type: 'COMPOSITE' } }))).toBe('invalid InvalidRequest')
    expect(await codeOf(f.b.createMultipartUpload('bkt', 'k', { checksum: { algorithm: 'sha1', type: 'FULL_OBJECT' } }))).toBe('invalid InvalidRequest')
  })

  test('copies keep the source’s algorithm, or take the one asked for', async () => {
    const f = await fixture()
    await f.b.putObject('bkt', 'src', body('copy me'), { size: 7, checksum: { algorithm: 'crc32c' } })
    await f.b.copyObject({ bucket: 'bkt', key: 'src' }, { bucket: 'bkt', key: 'kept' })
    expect((await f.b.headObject('bkt', 'kept')).checksum).toEqual({ algorithm: 'crc32c', value: sum('crc32c', Buffer.from('copy me')), type: 'FULL_OBJECT' })
    await f.b.copyObject({ bucket: 'bkt', key: 'src' }, { bucket: 'bkt', key: 'sha' }, { checksumAlgorithm: 'sha1' })
    expect((await f.b.headObject('bkt', 'sha')).checksum).toEqual({ algorithm: 'sha1', value: sum('sha1', Buffer.from('copy me')), type: 'FULL_OBJECT' })
    await f.b.copyObject({ bucket: 'bkt', key: 'src' }, { bucket: 'bkt', key: 'src' }, { checksumAlgorithm: 'sha256' })
    expect((await f.b.headObject('bkt', 'src')).checksum?.algorithm).toBe('sha256')
    expect(await read(f.b, 'src')).toBe('copy me')
  })
})

describe('metadata', () => {
  test('header values are kept byte for byte; what HTTP cannot carry is refused', async () => {
    const f = await fixture()
    const latin = 'caf\u00e9 \u00ff\t\u0080'
    await f.b.putObject('bkt', 'm', body('m'), { size: 1, metadata: { note: latin }, headers: { contentDisposition: `attachment; filename="${latin}"` } })
    const info = await f.b.headObject('bkt', 'm')
    expect(info.metadata).toEqual({ note: latin })
    expect(info.headers?.contentDisposition).toBe(`attachment; filename="${latin}"`)
    for (const bad of ['line\nbreak', 'nul\0', 'bell\u0007', 'wide \u20ac']) {
      expect(await kindOf(f.b.putObject('bkt', 'bad', body('x'), { size: 1, metadata: { note: bad } }))).toBe('invalid')
      expect(await kindOf(f.b.putObject('bkt', 'bad', body('x'), { size: 1, headers: { cacheControl: bad } }))).toBe('invalid')
    }
    expect(await codeOf(f.b.putObject('bkt', 'big', body('x'), { size: 1, metadata: { big: 'x'.repeat(2048) } }))).toBe('invalid MetadataTooLarge')
    expect(await codeOf(f.b.putObject('bkt', 'k'.repeat(1025), body('x'), { size: 1 }))).toBe('invalid KeyTooLongError')
    expect(await codeOf(f.b.putObjectTags('bkt', 'm', Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`t${i}`, 'v']))))).toBe('invalid InvalidTag')
  })

  test('sidecars of the first format are still read', async () => {
    const f = await fixture()
    const path = join(f.bucketDir(), 'old.txt')
    await writeFile(path, 'from an older version')
    const st = await lstat(path, { bigint: true })
    const h = createHash('sha256').update('old.txt').digest('hex')
    await mkdir(join(f.root, '.stowage', 'meta', 'bkt', h.slice(0, 2)), { recursive: true })
    const v1 = {
      v: 1,
      ino: String(st.ino),
      size: Number(st.size),
      mtimeNs: String(st.mtimeNs),
      etag: '"0123456789abcdef0123456789abcdef"',
      contentType: 'text/x-old',
      metadata: { kept: 'yes' },
      tags: { t: '1' },
      lastModified: 1_700_000_000_000,
    }
    await writeFile(join(f.root, '.stowage', 'meta', 'bkt', h.slice(0, 2), `${h}.json`), JSON.stringify(v1))
    const info = await f.b.headObject('bkt', 'old.txt')
    expect(info).toMatchObject({ etag: v1.etag, contentType: 'text/x-old', metadata: { kept: 'yes' }, lastModified: new Date(v1.lastModified), tagCount: 1 })
    expect(await f.b.getObjectTags('bkt', 'old.txt')).toEqual({ t: '1' })
    expect((await f.b.listObjects('bkt', {})).objects[0]!.etag).toBe(v1.etag)
  })
})

describe('uploads', () => {
  test('upload ids sort in the order the uploads began', async () => {
    const f = await fixture()
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      ids.push(await f.b.createMultipartUpload('bkt', 'same', {}))
      await Bun.sleep(2)
    }
    expect([...ids].sort()).toEqual(ids)
    expect((await f.b.listMultipartUploads('bkt', {})).map((u) => u.uploadId)).toEqual(ids)
  })

  test('uploads older than the configured age are aborted by the sweep; younger ones stay', async () => {
    const f = await fixture('bkt', { abandonedUploadAfterMs: 60 * 60 * 1000 })
    const old = await f.b.createMultipartUpload('bkt', 'old', { metadata: { a: '1' } })
    await f.b.uploadPart('bkt', 'old', old, 1, body('part'), { size: 4 })
    const young = await f.b.createMultipartUpload('bkt', 'young', {})
    const record = join(f.root, '.stowage', 'uploads', 'bkt', old, 'upload.json')
    const json = JSON.parse(await Bun.file(record).text()) as { initiated: number }
    await writeFile(record, JSON.stringify({ ...json, initiated: Date.now() - 2 * 60 * 60 * 1000 }))
    const reopened = f.open()
    await reopened.listBuckets()
    for (let i = 0; i < 100 && (await readdir(join(f.root, '.stowage', 'uploads', 'bkt'))).includes(old); i++) await Bun.sleep(20)
    expect(await readdir(join(f.root, '.stowage', 'uploads', 'bkt'))).toEqual([young])
    expect((await reopened.listMultipartUploads('bkt', {})).map((u) => u.uploadId)).toEqual([young])
    expect(await kindOf(reopened.listParts('bkt', 'old', old))).toBe('not_found')
  })
})
