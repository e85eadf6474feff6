// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The behaviour every Backend driver owes its callers, written as S3 behaves
 * (the same suite runs on the fs driver and, through the s3 driver, on a real
 * Ceph RGW), so it asserts what a client can observe and never how a driver
 * stores things. Each test works in its own bucket, named `ct-<run>-<n>`, and
 * everything is removed afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { BackendError, type Backend, type GetResult, type ListOptions, type ListResult, type PutOptions } from '../../src/backends/backend.ts'
import { checksumBase64, createChecksum, type ChecksumAlgorithm } from '../../src/lib/checksum.ts'
import { measureStreaming, type BackendSpec } from '../helpers/stream-probe.ts'

export type ContractTarget = {
  backend: Backend
  cleanup(): Promise<void>
  /** How a fresh process builds the same backend, for memory measurements. */ spec: BackendSpec
}

const MiB = 1024 * 1024

function body(content: string | Uint8Array): ReadableStream<Uint8Array> {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes)
      controller.close()
    },
  })
}

function size(content: string | Uint8Array): number {
  return typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength
}

function md5hex(data: Uint8Array | string): string {
  return createHash('md5').update(data).digest('hex')
}

/**
 * `total` bytes produced on demand in 1 MiB chunks; every chunk is tagged
 * with the seed and its index so a misplaced part changes the digest.
 */
function generated(total: number, seed: number): { stream: ReadableStream<Uint8Array>; md5: () => string } {
  const hash = createHash('md5')
  let sent = 0
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent >= total) return controller.close()
        const n = Math.min(MiB, total - sent)
        const chunk = new Uint8Array(n).fill((seed * 31 + sent / MiB) & 0xff)
        new DataView(chunk.buffer).setUint32(0, seed)
        if (n >= 8) new DataView(chunk.buffer).setUint32(4, sent / MiB)
        hash.update(chunk)
        sent += n
        controller.enqueue(chunk)
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, md5: () => hash.digest('hex') }
}

async function digest(stream: ReadableStream<Uint8Array>): Promise<{ md5: string; size: number }> {
  const hash = createHash('md5')
  let n = 0
  for await (const chunk of stream) {
    hash.update(chunk)
    n += chunk.byteLength
  }
  return { md5: hash.digest('hex'), size: n }
}

async function text(result: GetResult): Promise<string> {
  if (result.status === 304) throw new Error('expected a body, got 304')
  return new Response(result.body).text()
}

function checksumOf(algorithm: ChecksumAlgorithm, ...data: Array<Uint8Array | string>): string {
  const c = createChecksum(algorithm)
  for (const d of data) c.update(typeof d === 'string' ? new TextEncoder().encode(d) : d)
  return checksumBase64(c)
}

/** `kind` and, when the driver gave one, the S3 code of a failure ('resolved' when it did not fail). */
async function failureOf(call: Promise<unknown>): Promise<string> {
  try {
    await call
    return 'resolved'
  } catch (err) {
    return err instanceof BackendError ? `${err.kind}${err.code ? ` ${err.code}` : ''}` : `not a BackendError: ${String(err)}`
  }
}

/** The error kind a call failed with ('resolved' when it did not fail). */
async function kindOf(call: Promise<unknown>): Promise<string> {
  try {
    const value = await call
    if (value && typeof value === 'object' && 'body' in value && value.body instanceof ReadableStream) await value.body.cancel()
    return 'resolved'
  } catch (err) {
    return err instanceof BackendError ? err.kind : `not a BackendError: ${String(err)}`
  }
}

/** Every item of a listing in order, objects and common prefixes interleaved as S3 sorts them. */
function items(page: ListResult): string[] {
  const all = [...page.objects.map((o) => o.key), ...page.commonPrefixes]
  return all.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
}

async function listAll(backend: Backend, bucket: string, opts: ListOptions): Promise<{ pages: string[][]; truncations: boolean[] }> {
  const pages: string[][] = []
  const truncations: boolean[] = []
  let token: string | undefined
  do {
    const page = await backend.listObjects(bucket, { ...opts, token })
    pages.push(items(page))
    truncations.push(page.isTruncated)
    token = page.isTruncated ? page.nextToken : undefined
    if (page.isTruncated) expect(token).toBeString()
  } while (token !== undefined && pages.length < 100)
  return { pages, truncations }
}

/**
 * Registers the suite for one driver; `make` runs once, `cleanup` after the last test.
 *
 * @example
 * backendContract('fs', async () => {
 *   const backend = createFsBackend({ id: 'fs', root: await mkdtemp(join(tmpdir(), 'ct-')) })
 *   return { backend, cleanup: () => backend.close() }
 * })
 */
export function backendContract(name: string, make: () => Promise<ContractTarget>): void {
  describe(`backend contract: ${name}`, () => {
    let target: ContractTarget
    let b: Backend
    const run = `ct-${Math.random().toString(36).slice(2, 8)}`
    const created: string[] = []
    let counter = 0

    /** A new, empty bucket for one test. */
    async function bucket(): Promise<string> {
      const name = `${run}-${++counter}`
      await b.createBucket(name)
      created.push(name)
      return name
    }

    async function put(bucketName: string, key: string, content: string | Uint8Array, opts: Omit<PutOptions, 'size'> = {}): Promise<string> {
      return (await b.putObject(bucketName, key, body(content), { size: size(content), ...opts })).etag
    }

    async function read(bucketName: string, key: string): Promise<string> {
      return text(await b.getObject(bucketName, key))
    }

    async function empty(bucketName: string): Promise<void> {
      for (const upload of await b.listMultipartUploads(bucketName, {})) await b.abortMultipartUpload(bucketName, upload.key, upload.uploadId)
      for (;;) {
        const page = await b.listObjects(bucketName, {})
        if (page.objects.length === 0) return
        await b.deleteObjects(
          bucketName,
          page.objects.map((o) => ({ key: o.key })),
        )
      }
    }

    beforeAll(async () => {
      target = await make()
      b = target.backend
    })

    afterAll(async () => {
      for (const name of created) {
        if (!(await b.bucketExists(name))) continue
        await empty(name)
        await b.deleteBucket(name)
      }
      await target.cleanup()
    })

    test('buckets are created, listed, found, refused twice and deleted only when empty', async () => {
      const name = `${run}-buckets`
      expect(await b.bucketExists(name)).toBe(false)
      await b.createBucket(name)
      created.push(name)
      expect(await b.bucketExists(name)).toBe(true)
      expect((await b.listBuckets()).map((x) => x.name)).toContain(name)
      expect(await kindOf(b.createBucket(name))).toBe('exists')
      await put(name, 'k', 'v')
      expect(await kindOf(b.deleteBucket(name))).toBe('not_empty')
      await b.deleteObject(name, 'k')
      await b.deleteBucket(name)
      expect(await b.bucketExists(name)).toBe(false)
      expect((await b.listBuckets()).map((x) => x.name)).not.toContain(name)
      expect(await kindOf(b.deleteBucket(name))).toBe('bucket_not_found')
    })

    test('an invalid bucket name is refused', async () => {
      expect(await kindOf(b.createBucket('x'))).toBe('invalid')
      expect(await kindOf(b.createBucket('Not_Valid'))).toBe('invalid')
    })

    test('put, head, get and delete with exact lengths', async () => {
      const bk = await bucket()
      const content = 'hello, wörld\n'
      const etag = await put(bk, 'greeting.txt', content, { contentType: 'text/plain' })
      expect(etag).toBe(`"${md5hex(content)}"`)
      const info = await b.headObject(bk, 'greeting.txt')
      expect(info.size).toBe(size(content))
      expect(info.etag).toBe(etag)
      expect(info.lastModified).toBeInstanceOf(Date)
      const got = await b.getObject(bk, 'greeting.txt')
      expect(got.status).toBe(200)
      if (got.status === 304) return
      expect(got.contentLength).toBe(size(content))
      expect(got.info.etag).toBe(etag)
      expect(await new Response(got.body).text()).toBe(content)

      await put(bk, 'empty', '')
      const nothing = await b.getObject(bk, 'empty')
      if (nothing.status === 304) throw new Error('unexpected 304')
      expect(nothing.contentLength).toBe(0)
      expect(await new Response(nothing.body).text()).toBe('')

      await put(bk, 'greeting.txt', 'replaced')
      expect(await read(bk, 'greeting.txt')).toBe('replaced')
      await b.deleteObject(bk, 'greeting.txt')
      expect(await kindOf(b.headObject(bk, 'greeting.txt'))).toBe('not_found')
      await b.deleteObject(bk, 'greeting.txt')
    })

    test('ranges: closed, open-ended, suffix, clamped and unsatisfiable', async () => {
      const bk = await bucket()
      const content = '0123456789'.repeat(10)
      await put(bk, 'r', content)
      const cases = [
        { range: { start: 10, end: 19 }, span: [10, 19] },
        { range: { start: 90 }, span: [90, 99] },
        { range: { suffix: 5 }, span: [95, 99] },
        { range: { suffix: 500 }, span: [0, 99] },
        { range: { start: 95, end: 1000 }, span: [95, 99] },
        { range: { start: 0, end: 0 }, span: [0, 0] },
      ] as const
      for (const { range, span } of cases) {
        const got = await b.getObject(bk, 'r', { range })
        expect(got.status).toBe(206)
        if (got.status === 304) return
        expect(got.range).toEqual({ start: span[0], end: span[1], total: 100 })
        expect(got.contentLength).toBe(span[1] - span[0] + 1)
        expect(await new Response(got.body).text()).toBe(content.slice(span[0], span[1] + 1))
      }
      expect(await kindOf(b.getObject(bk, 'r', { range: { start: 100 } }))).toBe('bad_range')
      expect(await kindOf(b.getObject(bk, 'r', { range: { start: 1000, end: 2000 } }))).toBe('bad_range')
    })

    test('conditional GET answers 304 or fails the precondition', async () => {
      const bk = await bucket()
      await put(bk, 'c', 'conditional')
      const info = await b.headObject(bk, 'c')
      const etag = info.etag!
      const modified = info.lastModified!
      const hourBefore = new Date(modified.getTime() - 3600_000)
      const hourAfter = new Date(modified.getTime() + 3600_000)
      const status = async (opts: Parameters<Backend['getObject']>[2]): Promise<number> => {
        const got = await b.getObject(bk, 'c', opts)
        if (got.status !== 304) await got.body.cancel()
        return got.status
      }
      expect(await status({ ifNoneMatch: etag })).toBe(304)
      expect(await status({ ifNoneMatch: '"00000000000000000000000000000000"' })).toBe(200)
      expect(await status({ ifModifiedSince: modified })).toBe(304)
      expect(await status({ ifModifiedSince: hourBefore })).toBe(200)
      expect(await status({ ifMatch: etag })).toBe(200)
      expect(await status({ ifUnmodifiedSince: hourAfter })).toBe(200)
      expect(await kindOf(b.getObject(bk, 'c', { ifMatch: '"00000000000000000000000000000000"' }))).toBe('precondition')
      expect(await kindOf(b.getObject(bk, 'c', { ifUnmodifiedSince: hourBefore }))).toBe('precondition')
      const notModified = await b.getObject(bk, 'c', { ifNoneMatch: etag })
      expect(notModified.info.etag).toBe(etag)
    })

    test("ifNoneMatch '*' writes only when the key is free", async () => {
      const bk = await bucket()
      await put(bk, 'once', 'first', { ifNoneMatch: '*' })
      expect(await kindOf(put(bk, 'once', 'second', { ifNoneMatch: '*' }))).toBe('precondition')
      expect(await read(bk, 'once')).toBe('first')
    })

    test('content type and user metadata round-trip', async () => {
      const bk = await bucket()
      await put(bk, 'm.bin', 'meta', { contentType: 'application/x-stowage-test', metadata: { color: 'blue', 'multi-word': 'a b c' } })
      const info = await b.headObject(bk, 'm.bin')
      expect(info.contentType).toBe('application/x-stowage-test')
      expect(info.metadata).toEqual({ color: 'blue', 'multi-word': 'a b c' })
      const got = await b.getObject(bk, 'm.bin')
      expect(got.info.metadata).toEqual({ color: 'blue', 'multi-word': 'a b c' })
      expect(got.info.contentType).toBe('application/x-stowage-test')
      if (got.status !== 304) await got.body.cancel()
      const listed = await b.listObjects(bk, { withMetadata: true })
      expect(listed.objects[0]!.metadata).toEqual({ color: 'blue', 'multi-word': 'a b c' })
      await put(bk, 'plain', 'no metadata')
      expect((await b.headObject(bk, 'plain')).metadata ?? {}).toEqual({})
    })

    test('tags are stored, replaced and cleared', async () => {
      const bk = await bucket()
      if (!b.capabilities.tagging) {
        expect(await kindOf(b.getObjectTags(bk, 'x'))).toBe('not_supported')
        return
      }
      await put(bk, 't', 'tagged')
      expect(await b.getObjectTags(bk, 't')).toEqual({})
      await b.putObjectTags(bk, 't', { project: 'stowage', 'two words': 'a value' })
      expect(await b.getObjectTags(bk, 't')).toEqual({ project: 'stowage', 'two words': 'a value' })
      await b.putObjectTags(bk, 't', { only: 'one' })
      expect(await b.getObjectTags(bk, 't')).toEqual({ only: 'one' })
      await b.putObjectTags(bk, 't', {})
      expect(await b.getObjectTags(bk, 't')).toEqual({})
      expect(await kindOf(b.getObjectTags(bk, 'missing'))).toBe('not_found')
      expect(await kindOf(b.putObjectTags(bk, 'missing', { a: 'b' }))).toBe('not_found')
    })

    test('copy keeps or replaces metadata, and onto itself edits it in place', async () => {
      const bk = await bucket()
      const other = await bucket()
      const etag = await put(bk, 'src.txt', 'copy me', { contentType: 'text/plain', metadata: { color: 'blue' } })

      const kept = await b.copyObject({ bucket: bk, key: 'src.txt' }, { bucket: other, key: 'kept.txt' })
      expect(kept.etag).toBe(etag)
      const keptInfo = await b.headObject(other, 'kept.txt')
      expect(keptInfo.contentType).toBe('text/plain')
      expect(keptInfo.metadata).toEqual({ color: 'blue' })
      expect(await read(other, 'kept.txt')).toBe('copy me')

      await b.copyObject(
        { bucket: bk, key: 'src.txt' },
        { bucket: bk, key: 'replaced.json' },
        { metadata: { color: 'red', size: 'xl' }, contentType: 'application/json' },
      )
      const replaced = await b.headObject(bk, 'replaced.json')
      expect(replaced.contentType).toBe('application/json')
      expect(replaced.metadata).toEqual({ color: 'red', size: 'xl' })
      expect(await read(bk, 'replaced.json')).toBe('copy me')

      await b.copyObject({ bucket: bk, key: 'src.txt' }, { bucket: bk, key: 'src.txt' }, { metadata: { color: 'green' } })
      const edited = await b.headObject(bk, 'src.txt')
      expect(edited.metadata).toEqual({ color: 'green' })
      expect(edited.contentType).toBe('text/plain')
      expect(edited.etag).toBe(etag)
      expect(await read(bk, 'src.txt')).toBe('copy me')

      expect(await kindOf(b.copyObject({ bucket: bk, key: 'missing' }, { bucket: bk, key: 'x' }))).toBe('not_found')
    })

    describe('listing', () => {
      const keys = ['a', 'a/b', 'a!', 'A', 'é', '~', 'a/c/d', 'b']
      let bk: string
      beforeAll(async () => {
        bk = await bucket()
        for (const key of keys) await put(bk, key, key)
      })

      test('flat listing is in UTF-8 byte order', async () => {
        const page = await b.listObjects(bk, {})
        expect(page.objects.map((o) => o.key)).toEqual(['A', 'a', 'a!', 'a/b', 'a/c/d', 'b', '~', 'é'])
        expect(page.commonPrefixes).toEqual([])
        expect(page.isTruncated).toBe(false)
        const first = page.objects[0]!
        expect(first.size).toBe(1)
        expect(first.etag).toBe(`"${md5hex('A')}"`)
        expect(first.lastModified).toBeInstanceOf(Date)
      })

      test('prefix filters, delimiter rolls up', async () => {
        const byPrefix = await b.listObjects(bk, { prefix: 'a/' })
        expect(byPrefix.objects.map((o) => o.key)).toEqual(['a/b', 'a/c/d'])
        const top = await b.listObjects(bk, { delimiter: '/' })
        expect(top.objects.map((o) => o.key)).toEqual(['A', 'a', 'a!', 'b', '~', 'é'])
        expect(top.commonPrefixes).toEqual(['a/'])
        const inside = await b.listObjects(bk, { prefix: 'a/', delimiter: '/' })
        expect(inside.objects.map((o) => o.key)).toEqual(['a/b'])
        expect(inside.commonPrefixes).toEqual(['a/c/'])
        const partial = await b.listObjects(bk, { prefix: 'a', delimiter: '/' })
        expect(partial.objects.map((o) => o.key)).toEqual(['a', 'a!'])
        expect(partial.commonPrefixes).toEqual(['a/'])
        const none = await b.listObjects(bk, { prefix: 'zzz' })
        expect(none).toMatchObject({ objects: [], commonPrefixes: [], isTruncated: false })
      })

      test('maxKeys 1 pages through objects and common prefixes alike', async () => {
        const { pages, truncations } = await listAll(b, bk, { delimiter: '/', maxKeys: 1 })
        expect(pages).toEqual([['A'], ['a'], ['a!'], ['a/'], ['b'], ['~'], ['é']])
        expect(truncations).toEqual([true, true, true, true, true, true, false])
      })

      test('pages of two, with and without a delimiter', async () => {
        const rolled = await listAll(b, bk, { delimiter: '/', maxKeys: 2 })
        expect(rolled.pages).toEqual([['A', 'a'], ['a!', 'a/'], ['b', '~'], ['é']])
        const flat = await listAll(b, bk, { maxKeys: 3 })
        expect(flat.pages).toEqual([
          ['A', 'a', 'a!'],
          ['a/b', 'a/c/d', 'b'],
          ['~', 'é'],
        ])
        const inside = await listAll(b, bk, { prefix: 'a/', delimiter: '/', maxKeys: 1 })
        expect(inside.pages).toEqual([['a/b'], ['a/c/']])
      })

      test('any string can be the delimiter', async () => {
        const other = await bucket()
        for (const key of ['x-1-a', 'x-1-b', 'x-2', 'y']) await put(other, key, key)
        const page = await b.listObjects(other, { prefix: 'x-', delimiter: '-' })
        expect(page.objects.map((o) => o.key)).toEqual(['x-2'])
        expect(page.commonPrefixes).toEqual(['x-1-'])
        const long = await b.listObjects(other, { delimiter: '-1-' })
        expect(long.objects.map((o) => o.key)).toEqual(['x-2', 'y'])
        expect(long.commonPrefixes).toEqual(['x-1-'])
      })
    })

    test('deleteObjects removes a batch and counts missing keys as deleted', async () => {
      const bk = await bucket()
      for (const key of ['d1', 'd2', 'dir/d3']) await put(bk, key, key)
      const result = await b.deleteObjects(bk, [{ key: 'd1' }, { key: 'd2' }, { key: 'dir/d3' }, { key: 'never-existed' }])
      expect(result.errors).toEqual([])
      expect(result.deleted.map((d) => d.key).sort()).toEqual(['d1', 'd2', 'dir/d3', 'never-existed'])
      expect((await b.listObjects(bk, {})).objects).toEqual([])
    })

    test('multipart: parts, listings, completion, S3 ETag, abort', async () => {
      const bk = await bucket()
      const key = 'multi/part.bin'
      const id = await b.createMultipartUpload(bk, key, { contentType: 'application/x-multipart', metadata: { origin: 'contract' } })
      expect((await b.listMultipartUploads(bk, { prefix: 'multi/' })).map((u) => [u.key, u.uploadId])).toContainEqual([key, id])

      const sizes = [5 * MiB, 5 * MiB, MiB]
      const whole = createHash('md5')
      const partMd5s: string[] = []
      for (const [i, n] of sizes.entries()) {
        const data = generated(n, i + 1)
        const again = generated(n, i + 1)
        const uploaded = await b.uploadPart(bk, key, id, i + 1, data.stream, { size: n })
        for await (const chunk of again.stream) whole.update(chunk)
        partMd5s.push(data.md5())
        expect(uploaded).toMatchObject({ partNumber: i + 1, etag: `"${partMd5s[i]}"`, size: n })
      }
      const parts = await b.listParts(bk, key, id)
      expect(parts.map(({ partNumber, etag, size }) => ({ partNumber, etag, size }))).toEqual(
        sizes.map((n, i) => ({ partNumber: i + 1, etag: `"${partMd5s[i]}"`, size: n })),
      )

      const wrong = parts.map((p, i) => ({ partNumber: p.partNumber, etag: i === 1 ? `"${md5hex('nope')}"` : p.etag }))
      expect(await kindOf(b.completeMultipartUpload(bk, key, id, wrong))).toBe('invalid')
      expect(
        await kindOf(
          b.completeMultipartUpload(bk, key, id, [...parts.map(({ partNumber, etag }) => ({ partNumber, etag })), { partNumber: 4, etag: parts[0]!.etag }]),
        ),
      ).toBe('invalid')

      const done = await b.completeMultipartUpload(
        bk,
        key,
        id,
        parts.map(({ partNumber, etag }) => ({ partNumber, etag })),
      )
      const expected = createHash('md5')
        .update(Buffer.concat(partMd5s.map((h) => Buffer.from(h, 'hex'))))
        .digest('hex')
      expect(done.etag).toBe(`"${expected}-3"`)
      const info = await b.headObject(bk, key)
      expect(info.size).toBe(11 * MiB)
      expect(info.etag).toBe(done.etag)
      expect(info.contentType).toBe('application/x-multipart')
      expect(info.metadata).toEqual({ origin: 'contract' })
      const got = await b.getObject(bk, key)
      if (got.status === 304) throw new Error('unexpected 304')
      expect(await digest(got.body)).toEqual({ md5: whole.digest('hex'), size: 11 * MiB })
      expect((await b.listMultipartUploads(bk, {})).map((u) => u.uploadId)).not.toContain(id)

      const abandoned = await b.createMultipartUpload(bk, 'multi/abandoned', {})
      await b.uploadPart(bk, 'multi/abandoned', abandoned, 1, body('part'), { size: 4 })
      await b.abortMultipartUpload(bk, 'multi/abandoned', abandoned)
      expect((await b.listMultipartUploads(bk, {})).map((u) => u.uploadId)).not.toContain(abandoned)
      expect(await kindOf(b.listParts(bk, 'multi/abandoned', abandoned))).toBe('not_found')
      expect(await kindOf(b.headObject(bk, 'multi/abandoned'))).toBe('not_found')
    }, 120_000)

    test('a 64 MiB object streams in and out without being held in memory', async () => {
      const bk = await bucket()
      const r = await measureStreaming(target.spec, bk, 64 * MiB)
      expect(r.contentLength).toBe(64 * MiB)
      expect(r.intact).toBe(true)
      // Well under the object's 64 MiB; the collector is asked for a full collection only once
      // garbage reaches 32 MiB (src/lib/garbage-bound.ts), checked every 8 MiB moved.
      expect(r.putGrowthMiB).toBeLessThan(48)
      expect(r.getGrowthMiB).toBeLessThan(48)
    }, 120_000)

    test('error kinds', async () => {
      const bk = await bucket()
      const gone = `${run}-gone`
      expect(await kindOf(b.headObject(bk, 'missing'))).toBe('not_found')
      expect(await kindOf(b.getObject(bk, 'missing'))).toBe('not_found')
      expect(await kindOf(b.getObject(gone, 'k'))).toBe('bucket_not_found')
      expect(await kindOf(b.headObject(gone, 'k'))).toBe('bucket_not_found')
      expect(await kindOf(b.listObjects(gone, {}))).toBe('bucket_not_found')
      expect(await kindOf(put(gone, 'k', 'v'))).toBe('bucket_not_found')
      expect(await kindOf(b.listParts(bk, 'k', 'no-such-upload'))).toBe('not_found')
      expect(await kindOf(b.abortMultipartUpload(bk, 'k', 'no-such-upload'))).toBe('not_found')
    })

    test('capabilities gate versioning, policies and lifecycle', async () => {
      const bk = await bucket()
      expect(await b.getPolicy(bk)).toBeNull()
      expect(await b.getLifecycle(bk)).toEqual([])
      if (!b.capabilities.bucket_policy) expect(await kindOf(b.setPolicy(bk, '{}'))).toBe('not_supported')
      if (!b.capabilities.lifecycle) expect(await kindOf(b.setLifecycle(bk, [{ enabled: true, expiration_days: 1 }]))).toBe('not_supported')
      if (!b.capabilities.versioning) {
        expect(await b.getVersioning(bk)).toBe(false)
        expect(await kindOf(b.setVersioning(bk, true))).toBe('not_supported')
        expect(await kindOf(b.listObjectVersions(bk, 'k'))).toBe('not_supported')
        return
      }
      await b.setVersioning(bk, true)
      expect(await b.getVersioning(bk)).toBe(true)
      await put(bk, 'v', 'one')
      await put(bk, 'v', 'two')
      const versions = await b.listObjectVersions(bk, 'v')
      expect(versions).toHaveLength(2)
      expect(versions.filter((v) => v.isLatest)).toHaveLength(1)
      expect(new Set(versions.map((v) => v.versionId)).size).toBe(2)
      for (const v of versions) await b.deleteObject(bk, 'v', { versionId: v.versionId })
      expect(await b.listObjectVersions(bk, 'v')).toEqual([])
    })

    test('content headers and tags given at PUT come back with the object', async () => {
      const bk = await bucket()
      const headers = {
        cacheControl: 'max-age=60',
        contentDisposition: 'attachment; filename="r.txt"',
        contentEncoding: 'identity',
        contentLanguage: 'de-CH',
        expires: 'Wed, 21 Oct 2037 07:28:00 GMT',
      }
      await put(bk, 'h.txt', 'with headers', { contentType: 'text/plain', headers, tags: { project: 'stowage', stage: 'two words' } })
      const info = await b.headObject(bk, 'h.txt')
      expect(info.headers).toEqual(headers)
      expect(info.contentType).toBe('text/plain')
      expect(await b.getObjectTags(bk, 'h.txt')).toEqual({ project: 'stowage', stage: 'two words' })
      if (info.tagCount !== undefined) expect(info.tagCount).toBe(2)
      const got = await b.getObject(bk, 'h.txt')
      expect(got.info.headers).toEqual(headers)
      if (got.status !== 304) await got.body.cancel()
      await put(bk, 'plain.txt', 'none')
      expect((await b.headObject(bk, 'plain.txt')).headers ?? {}).toEqual({})
    })

    test('a body that does not match its Content-MD5 is refused and not stored', async () => {
      const bk = await bucket()
      const md5 = createHash('md5').update('exact').digest('base64')
      await put(bk, 'md5-ok', 'exact', { md5 })
      expect(await read(bk, 'md5-ok')).toBe('exact')
      expect(await kindOf(put(bk, 'md5-bad', 'other', { md5 }))).toBe('bad_digest')
      expect(await kindOf(b.headObject(bk, 'md5-bad'))).toBe('not_found')
    })

    test('flexible checksums are verified, stored and returned', async () => {
      const bk = await bucket()
      if (!b.capabilities.checksums) return
      for (const algorithm of ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const) {
        const value = checksumOf(algorithm, `sum ${algorithm}`)
        const done = await b.putObject(bk, `sum-${algorithm}`, body(`sum ${algorithm}`), { size: size(`sum ${algorithm}`), checksum: { algorithm, value } })
        expect(done.checksum).toEqual({ algorithm, value, type: 'FULL_OBJECT' })
        expect((await b.headObject(bk, `sum-${algorithm}`)).checksum).toEqual({ algorithm, value, type: 'FULL_OBJECT' })
        expect(await kindOf(b.putObject(bk, `bad-${algorithm}`, body('tampered'), { size: 8, checksum: { algorithm, value } }))).toBe('bad_digest')
        expect(await kindOf(b.headObject(bk, `bad-${algorithm}`))).toBe('not_found')
      }
      const computed = await b.putObject(bk, 'computed', body('no value sent'), { size: 13, checksum: { algorithm: 'crc32c' } })
      expect(computed.checksum?.value).toBe(checksumOf('crc32c', 'no value sent'))
    })

    test('startAfter lists what sorts after a key, and after a whole common prefix', async () => {
      const bk = await bucket()
      for (const key of ['a', 'b/1', 'b/2', 'c', 'd']) await put(bk, key, key)
      expect((await b.listObjects(bk, { startAfter: 'a' })).objects.map((o) => o.key)).toEqual(['b/1', 'b/2', 'c', 'd'])
      expect((await b.listObjects(bk, { startAfter: 'b/1' })).objects.map((o) => o.key)).toEqual(['b/2', 'c', 'd'])
      const rolled = await b.listObjects(bk, { startAfter: 'b/', delimiter: '/' })
      expect([...rolled.commonPrefixes, ...rolled.objects.map((o) => o.key)]).toEqual(['c', 'd'])
      expect((await b.listObjects(bk, { startAfter: 'zzz' })).objects).toEqual([])
    })

    test('copies replace content headers and tags, and honour source conditions', async () => {
      const bk = await bucket()
      const etag = await put(bk, 'src', 'conditional copy', { contentType: 'text/plain', headers: { cacheControl: 'no-cache' }, tags: { a: '1' } })
      const modified = (await b.headObject(bk, 'src')).lastModified!
      const copied = await b.copyObject(
        { bucket: bk, key: 'src' },
        { bucket: bk, key: 'replaced' },
        { contentType: 'text/csv', metadata: {}, headers: { contentLanguage: 'fr' }, tags: { b: '2' } },
      )
      expect(copied.etag).toBe(etag)
      const info = await b.headObject(bk, 'replaced')
      expect(info.headers).toEqual({ contentLanguage: 'fr' })
      expect(info.contentType).toBe('text/csv')
      expect(await b.getObjectTags(bk, 'replaced')).toEqual({ b: '2' })
      await b.copyObject({ bucket: bk, key: 'src' }, { bucket: bk, key: 'kept' })
      expect((await b.headObject(bk, 'kept')).headers).toEqual({ cacheControl: 'no-cache' })
      expect(await b.getObjectTags(bk, 'kept')).toEqual({ a: '1' })

      const later = new Date(modified.getTime() + 3600_000)
      const earlier = new Date(modified.getTime() - 3600_000)
      const copy = (conditions: Parameters<Backend['copyObject']>[2]): Promise<string> =>
        kindOf(b.copyObject({ bucket: bk, key: 'src' }, { bucket: bk, key: 'cond' }, conditions))
      expect(await copy({ conditions: { ifMatch: etag } })).toBe('resolved')
      expect(await copy({ conditions: { ifMatch: `"${md5hex('other')}"` } })).toBe('precondition')
      expect(await copy({ conditions: { ifNoneMatch: etag } })).toBe('precondition')
      expect(await copy({ conditions: { ifNoneMatch: `"${md5hex('other')}"` } })).toBe('resolved')
      expect(await copy({ conditions: { ifModifiedSince: later } })).toBe('precondition')
      expect(await copy({ conditions: { ifModifiedSince: earlier } })).toBe('resolved')
      expect(await copy({ conditions: { ifUnmodifiedSince: earlier } })).toBe('precondition')
      expect(await copy({ conditions: { ifUnmodifiedSince: later } })).toBe('resolved')
    })

    test('multipart: part copies from ranges, content headers, and S3 error codes', async () => {
      const bk = await bucket()
      const source = new Uint8Array(6 * MiB).map((_, i) => (i * 7) & 0xff)
      await put(bk, 'source.bin', source)
      const id = await b.createMultipartUpload(bk, 'assembled.bin', {
        contentType: 'application/x-assembled',
        headers: { contentDisposition: 'inline' },
        metadata: { origin: 'copy' },
      })
      const first = await b.uploadPartCopy(
        { bucket: bk, key: 'assembled.bin', uploadId: id, partNumber: 1 },
        { bucket: bk, key: 'source.bin' },
        { range: { start: 0, end: 5 * MiB } },
      )
      expect(first).toMatchObject({ partNumber: 1, etag: `"${md5hex(source.subarray(0, 5 * MiB + 1))}"`, size: 5 * MiB + 1 })
      const second = await b.uploadPartCopy(
        { bucket: bk, key: 'assembled.bin', uploadId: id, partNumber: 2 },
        { bucket: bk, key: 'source.bin' },
        { range: { start: 10, end: 19 } },
      )
      expect(second.size).toBe(10)
      await b.completeMultipartUpload(
        bk,
        'assembled.bin',
        id,
        [first, second].map(({ partNumber, etag }) => ({ partNumber, etag })),
      )
      const info = await b.headObject(bk, 'assembled.bin')
      expect(info.size).toBe(5 * MiB + 1 + 10)
      expect(info.contentType).toBe('application/x-assembled')
      expect(info.headers).toEqual({ contentDisposition: 'inline' })
      expect(info.metadata).toEqual({ origin: 'copy' })
      const got = await b.getObject(bk, 'assembled.bin', { range: { start: 5 * MiB - 1 } })
      if (got.status === 304) throw new Error('unexpected 304')
      expect(Buffer.from(await new Response(got.body).arrayBuffer())).toEqual(
        Buffer.concat([source.subarray(5 * MiB - 1, 5 * MiB + 1), source.subarray(10, 20)]),
      )

      // RGW 16.2 refuses every later completion of an upload after one of these failures, so they get their own.
      const failing = await b.createMultipartUpload(bk, 'failing.bin', {})
      const whole = await b.uploadPartCopy({ bucket: bk, key: 'failing.bin', uploadId: failing, partNumber: 1 }, { bucket: bk, key: 'source.bin' })
      expect(whole.size).toBe(6 * MiB)
      const small = await b.uploadPart(bk, 'failing.bin', failing, 2, body('tail'), { size: 4, md5: createHash('md5').update('tail').digest('base64') })
      const last = await b.uploadPart(bk, 'failing.bin', failing, 3, body('last'), { size: 4 })
      expect(
        await kindOf(b.uploadPart(bk, 'failing.bin', failing, 4, body('tail'), { size: 4, md5: createHash('md5').update('other').digest('base64') })),
      ).toBe('bad_digest')
      expect(
        await failureOf(
          b.completeMultipartUpload(bk, 'failing.bin', failing, [
            { partNumber: 1, etag: whole.etag },
            { partNumber: 2, etag: `"${md5hex('x')}"` },
          ]),
        ),
      ).toBe('invalid InvalidPart')
      // S3 says EntityTooSmall; RGW 16.2 says InvalidPart.
      expect(
        await kindOf(
          b.completeMultipartUpload(
            bk,
            'failing.bin',
            failing,
            [small, last].map(({ partNumber, etag }) => ({ partNumber, etag })),
          ),
        ),
      ).toBe('invalid')
      await b.abortMultipartUpload(bk, 'failing.bin', failing)
      expect(await kindOf(b.uploadPart(bk, 'failing.bin', failing, 5, body('late'), { size: 4 }))).toBe('not_found')
    }, 120_000)

    test('keys with spaces, unicode, +, %, ?, #, // and a trailing / round-trip', async () => {
      const bk = await bucket()
      const keys = [
        'with space.txt',
        'unicodé/ファイル.txt',
        'é',
        'e\u0301',
        'a+b=c',
        '100%',
        '50%25 off',
        '%2e%2e/x',
        'q?x=1&y=2',
        'h#1',
        'd//e',
        'trail//',
        'folder/',
        'folder/inside',
        'quote\'s "double"',
        '~tilde/😀.png',
      ]
      for (const key of keys) await put(bk, key, `content of ${key}`)
      const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
      expect((await b.listObjects(bk, {})).objects.map((o) => o.key)).toEqual(expected)
      for (const key of keys) {
        expect(await read(bk, key)).toBe(`content of ${key}`)
        expect((await b.headObject(bk, key)).size).toBe(size(`content of ${key}`))
      }
      const top = await b.listObjects(bk, { delimiter: '/' })
      expect(top.commonPrefixes).toEqual(['%2e%2e/', 'd/', 'folder/', 'trail/', 'unicodé/', '~tilde/'])
      const folder = await b.listObjects(bk, { prefix: 'folder/', delimiter: '/' })
      expect(folder.objects.map((o) => o.key)).toEqual(['folder/', 'folder/inside'])
      for (const key of keys) await b.deleteObject(bk, key)
      expect((await b.listObjects(bk, {})).objects).toEqual([])
    })
  })
}
