// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Server-side copies above the single-copy limit, against a real Ceph RGW:
 * a multipart copy carries the bytes, content headers, metadata and tags,
 * honours versions, and a failure or abort midway leaves no upload behind.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash, randomBytes } from 'node:crypto'
import type { Backend } from '../../src/backends/backend.ts'
import { createS3Http, type S3Http } from '../../src/backends/s3/client.ts'
import {
  afterFirstPart as holdAfterFirstPart,
  bytes,
  caught,
  type GateHooks,
  httpGate,
  md5Of,
  MiB,
  partNumberOf,
  emptyAndDelete,
  rgwBackend as backend,
  s3Env,
  testBucket,
  useTestBucket,
} from '../helpers/s3.ts'

const env = s3Env()
const { bucket, backend: s3 } = useTestBucket('s3copy')

describe('copies above the single-copy limit', () => {
  const copies = { singleCopyMaxBytes: 8 * MiB, partBytes: 5 * MiB }
  const size = 12 * MiB + 7
  const data = randomBytes(size)
  const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex')
  // Every header CopyObject carries and a multipart upload would not.
  const CONTENT = {
    'content-type': 'application/x-big',
    'cache-control': 'max-age=60',
    'content-disposition': 'attachment; filename="big.bin"',
    'content-encoding': 'x-test',
    'content-language': 'en',
    expires: 'Wed, 21 Oct 2037 07:28:00 GMT',
  }
  let raw: S3Http
  let big: Backend

  beforeAll(() => {
    raw = createS3Http({
      endpoint: env.endpoint,
      region: env.region,
      accessKey: env.accessKey,
      secretKey: env.secretKey,
      pathStyle: true,
      timeouts: { idleMs: 30_000 },
    })
    big = backend({ copies })
  })

  afterAll(async () => {
    raw.close()
    await big.close()
  })

  /** A source with every content header, user metadata and a tag, put in one PUT so its ETag has no part count. */
  async function putSource(key: string, body: Uint8Array = data, b = bucket): Promise<string> {
    const res = await raw.call({ method: 'PUT', bucket: b, key, headers: { ...CONTENT, 'x-amz-meta-origin': 'big' }, body })
    await s3.putObjectTags(b, key, { team: 'blue' })
    return res.headers.etag!
  }

  async function contentOf(key: string, b = bucket): Promise<Record<string, string | undefined>> {
    const res = await raw.call({ method: 'HEAD', bucket: b, key })
    return Object.fromEntries(Object.keys(CONTENT).map((h) => [h, res.headers[h]]))
  }

  async function md5At(key: string, b = bucket, versionId?: string): Promise<{ md5: string; size: number }> {
    const got = await s3.getObject(b, key, versionId ? { versionId } : {})
    if (got.status === 304) throw new Error('unexpected 304')
    return md5Of(got.body)
  }

  test('a source over the limit is copied in parts with its bytes, content headers, metadata and tags', async () => {
    await putSource('mpc/src.bin')
    expect(await contentOf('mpc/src.bin')).toEqual(CONTENT)
    const copy = await big.copyObject({ bucket, key: 'mpc/src.bin' }, { bucket, key: 'mpc/copy.bin' })
    // Three 5 MiB ranges: the ETag of a three-part upload.
    expect(copy).toMatchObject({ key: 'mpc/copy.bin', size, contentType: 'application/x-big', metadata: { origin: 'big' } })
    expect(copy.etag).toMatch(/-3"$/)
    expect(await md5At('mpc/copy.bin')).toEqual({ md5: md5(data), size })
    expect(await contentOf('mpc/copy.bin')).toEqual(CONTENT)
    expect(await s3.getObjectTags(bucket, 'mpc/copy.bin')).toEqual({ team: 'blue' })
    expect(await s3.listMultipartUploads(bucket, { prefix: 'mpc/' })).toEqual([])
  }, 30_000)

  test('a source exactly at the limit is still one CopyObject', async () => {
    const at = data.subarray(0, copies.singleCopyMaxBytes)
    const etag = await putSource('mpc/at-limit.bin', at)
    const copy = await big.copyObject({ bucket, key: 'mpc/at-limit.bin' }, { bucket, key: 'mpc/at-limit.copy' })
    expect(copy.etag).toBe(etag)
    expect(await md5At('mpc/at-limit.copy')).toEqual({ md5: md5(at), size: at.length })
  }, 30_000)

  test('new metadata in place keeps the bytes, content headers and tags; a new content type keeps the metadata', async () => {
    await putSource('mpc/edit.bin')
    const edited = await big.copyObject({ bucket, key: 'mpc/edit.bin' }, { bucket, key: 'mpc/edit.bin' }, { metadata: { reviewed: 'yes' } })
    expect(edited.etag).toMatch(/-3"$/)
    expect(edited).toMatchObject({ size, contentType: 'application/x-big', metadata: { reviewed: 'yes' } })
    expect(edited.metadata).not.toHaveProperty('origin')
    expect(await contentOf('mpc/edit.bin')).toEqual(CONTENT)
    expect(await s3.getObjectTags(bucket, 'mpc/edit.bin')).toEqual({ team: 'blue' })
    expect(await md5At('mpc/edit.bin')).toEqual({ md5: md5(data), size })

    const retyped = await big.copyObject({ bucket, key: 'mpc/edit.bin' }, { bucket, key: 'mpc/retyped.txt' }, { contentType: 'text/plain' })
    expect(retyped.etag).toMatch(/-3"$/)
    expect(retyped).toMatchObject({ contentType: 'text/plain', metadata: { reviewed: 'yes' } })
    expect(await contentOf('mpc/retyped.txt')).toEqual({ ...CONTENT, 'content-type': 'text/plain' })
  }, 30_000)

  test('a chosen version of a versioned source is copied, not the latest', async () => {
    const vb = testBucket('mpcv')
    await s3.createBucket(vb)
    try {
      await s3.setVersioning(vb, true)
      await putSource('doc.bin', data, vb)
      const first = (await s3.listObjectVersions(vb, 'doc.bin'))[0]!.versionId
      const newer = randomBytes(size)
      await putSource('doc.bin', newer, vb)
      const copy = await big.copyObject({ bucket: vb, key: 'doc.bin' }, { bucket: vb, key: 'old.bin' }, { srcVersionId: first })
      expect(copy.etag).toMatch(/-3"$/)
      expect(copy.versionId).toBeString()
      expect(await md5At('old.bin', vb)).toEqual({ md5: md5(data), size })
      expect(await md5At('doc.bin', vb)).toEqual({ md5: md5(newer), size })
      expect(await s3.getObjectTags(vb, 'old.bin', { versionId: copy.versionId })).toEqual({ team: 'blue' })
    } finally {
      await emptyAndDelete(s3, vb, ['doc.bin'])
    }
  }, 30_000)

  test('tags RGW cannot list do not stop a copy', async () => {
    // RGW 16.2 answers GetObjectTagging with an empty body for an object whose upload was started with x-amz-tagging.
    const { body } = await raw.text({ method: 'POST', bucket, key: 'mpc/tagged-upload.bin', query: { uploads: '' }, headers: { 'x-amz-tagging': 'a=b' } })
    const uploadId = /<UploadId>(.*)<\/UploadId>/.exec(body)![1]!
    const parts = [await s3.uploadPart(bucket, 'mpc/tagged-upload.bin', uploadId, 1, new Response(data).body!, { size })]
    await s3.completeMultipartUpload(bucket, 'mpc/tagged-upload.bin', uploadId, parts)
    expect(await s3.getObjectTags(bucket, 'mpc/tagged-upload.bin')).toEqual({})
    await big.copyObject({ bucket, key: 'mpc/tagged-upload.bin' }, { bucket, key: 'mpc/tagged-upload.copy' })
    expect(await md5At('mpc/tagged-upload.copy')).toEqual({ md5: md5(data), size })
  }, 30_000)

  describe('behind a gate that watches the upstream calls (failures midway leave no upload behind)', () => {
    let gate: Awaited<ReturnType<typeof httpGate>>
    let hooks: GateHooks = {}
    let through: Backend

    beforeAll(async () => {
      gate = await httpGate(env.endpoint, { before: (r) => hooks.before?.(r) ?? Promise.resolve(undefined), after: (r, status) => hooks.after?.(r, status) })
      through = backend({ endpoint: gate.endpoint, copies })
    })

    afterAll(async () => {
      await through.close()
      await gate.stop()
    })

    test('a plain copy whose source the caller knows skips the source HEAD; without it it asks; neither reads the copy back', async () => {
      await s3.putObject(bucket, 'mpf/small.bin', new Response('small').body!, { size: 5, contentType: 'text/plain', metadata: { m: '1' } })
      const source = await s3.headObject(bucket, 'mpf/small.bin')
      const seen: string[] = []
      hooks = {
        async before(r) {
          seen.push(`${r.method} ${decodeURIComponent(r.url.pathname).split('/').pop()}`)
          return undefined
        },
      }
      try {
        const known = await through.copyObject({ bucket, key: 'mpf/small.bin' }, { bucket, key: 'mpf/small.known' }, { source })
        expect(seen).toEqual(['PUT small.known'])
        seen.length = 0
        const unknown = await through.copyObject({ bucket, key: 'mpf/small.bin' }, { bucket, key: 'mpf/small.unknown' })
        expect(seen).toEqual(['HEAD small.bin', 'PUT small.unknown'])
        // What the copies answered is what the objects are.
        for (const [key, info] of [
          ['mpf/small.known', known],
          ['mpf/small.unknown', unknown],
        ] as const) {
          const head = await s3.headObject(bucket, key)
          expect(info).toMatchObject({ key, size: 5, etag: head.etag, contentType: 'text/plain', metadata: { m: '1' } })
          expect(Math.abs(info.lastModified!.getTime() - head.lastModified!.getTime())).toBeLessThan(1000)
        }
      } finally {
        hooks = {}
      }
    })

    function afterFirstPart(midway: () => Promise<unknown>): { parts: Array<[number, number]> } {
      const held = holdAfterFirstPart(midway)
      hooks = held.hooks
      return held
    }

    async function expectNothingLeft(dstKey: string): Promise<void> {
      expect(await s3.listMultipartUploads(bucket, { prefix: dstKey })).toEqual([])
      expect((await caught(s3.headObject(bucket, dstKey))).kind).toBe('not_found')
    }

    test('the source deleted after the first part: not_found', async () => {
      await putSource('mpf/gone.bin')
      const seen = afterFirstPart(() => s3.deleteObject(bucket, 'mpf/gone.bin'))
      expect((await caught(through.copyObject({ bucket, key: 'mpf/gone.bin' }, { bucket, key: 'mpf/gone.copy' }))).kind).toBe('not_found')
      expect(seen.parts).toContainEqual([1, 200])
      expect(seen.parts).toContainEqual([2, 404])
      await expectNothingLeft('mpf/gone.copy')
    }, 30_000)

    test('the source rewritten after the first part: precondition, never a mix of two objects', async () => {
      await putSource('mpf/rewritten.bin')
      const seen = afterFirstPart(async () => {
        await s3.putObject(bucket, 'mpf/rewritten.bin', new Response(randomBytes(size)).body!, { size })
      })
      const err = await caught(through.copyObject({ bucket, key: 'mpf/rewritten.bin' }, { bucket, key: 'mpf/rewritten.copy' }))
      expect(err).toMatchObject({ kind: 'precondition', message: 'The source object changed during the copy.' })
      expect(seen.parts).toContainEqual([1, 200])
      await expectNothingLeft('mpf/rewritten.copy')
    }, 30_000)

    test('the source shrunk after the first part: precondition, not a range error', async () => {
      await putSource('mpf/shrunk.bin')
      const seen = afterFirstPart(async () => {
        await s3.putObject(bucket, 'mpf/shrunk.bin', bytes('short now'), { size: 9 })
      })
      const err = await caught(through.copyObject({ bucket, key: 'mpf/shrunk.bin' }, { bucket, key: 'mpf/shrunk.copy' }))
      expect(err).toMatchObject({ kind: 'precondition', message: 'The source object changed during the copy.' })
      expect(seen.parts).toContainEqual([1, 200])
      await expectNothingLeft('mpf/shrunk.copy')
    }, 30_000)

    test('an error sent inside a 200 for one part: failed', async () => {
      await putSource('mpf/broken.bin')
      hooks = {
        before: async (r) =>
          partNumberOf(r) === 2
            ? { status: 200, body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>copy failed</Message></Error>' }
            : undefined,
      }
      const err = await caught(through.copyObject({ bucket, key: 'mpf/broken.bin' }, { bucket, key: 'mpf/broken.copy' }))
      expect(err.kind).toBe('failed')
      expect(String(err.cause)).toContain('InternalError')
      await expectNothingLeft('mpf/broken.copy')
    }, 30_000)

    test('the caller aborting mid-copy: rejects with the abort reason', async () => {
      await putSource('mpf/aborted.bin')
      const ac = new AbortController()
      let partsSeen = 0
      hooks = {
        async before(r) {
          if (partNumberOf(r) === undefined) return undefined
          partsSeen++
          ac.abort()
          // A slow server: the answer comes after the caller has gone.
          await Bun.sleep(200)
          return { status: 500, body: '' }
        },
      }
      await expect(through.copyObject({ bucket, key: 'mpf/aborted.bin' }, { bucket, key: 'mpf/aborted.copy' }, { signal: ac.signal })).rejects.toHaveProperty(
        'name',
        'AbortError',
      )
      expect(partsSeen).toBeGreaterThan(0)
      await expectNothingLeft('mpf/aborted.copy')
    }, 30_000)
  })
})
