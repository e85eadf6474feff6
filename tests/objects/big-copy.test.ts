// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Copies of objects larger than one CopyObject allows, through the API on
 * RGW. The app's backend is swapped for one with an 8 MiB single-copy limit
 * (5 MiB parts) behind an HTTP gate, so a 12 MiB object takes the multipart
 * path and a test can interfere between its parts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash, randomBytes } from 'node:crypto'
import type { Backend } from '../../src/backends/backend.ts'
import { createS3Backend } from '../../src/backends/s3/driver.ts'
import { errorCode } from '../helpers/app.ts'
import { afterFirstPart, emptyAndDelete, type GateHooks, httpGate, MiB, s3Env } from '../helpers/s3.ts'
import { auditRows, json, ndjson, objectEnv, q, type Env } from './fixture.ts'

type Obj = { key: string; size: number; etag?: string; content_type?: string; metadata?: Record<string, string>; version_id?: string }

const SIZE = 12 * MiB + 7
const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex')

describe('copies above the single-copy limit through the API on rgw', () => {
  const data = randomBytes(SIZE)
  let e: Env
  let gate: Awaited<ReturnType<typeof httpGate>>
  let hooks: GateHooks = {}
  let backend: Backend

  beforeAll(async () => {
    e = await objectEnv('rgw')
    const s3 = s3Env()
    gate = await httpGate(s3.endpoint, { before: (r) => hooks.before?.(r) ?? Promise.resolve(undefined), after: (r, status) => hooks.after?.(r, status) })
    const entry = e.t.s.registry.entry(e.bid)!
    const original = entry.backend!
    backend = createS3Backend({
      id: e.bid,
      endpoint: gate.endpoint,
      region: s3.region,
      accessKey: s3.accessKey,
      secretKey: s3.secretKey,
      pathStyle: true,
      copies: { singleCopyMaxBytes: 8 * MiB, partBytes: 5 * MiB },
    })
    entry.backend = backend
    await original.close()
  }, 60_000)

  afterAll(async () => {
    await e.close()
    await gate.stop()
  }, 60_000)

  async function putSource(key: string, body = data, bucket = e.bucket): Promise<void> {
    await backend.putObject(bucket, key, new Response(body).body!, { size: body.length, contentType: 'application/x-big', metadata: { origin: 'big' } })
  }

  const copy = (body: Record<string, unknown>, bucket = e.bucket): Promise<Response> =>
    e.t.call('POST', `/api/backends/${e.bid}/buckets/${bucket}/object/copy`, { as: e.user, json: body })
  const info = async (key: string, bucket = e.bucket): Promise<Obj> =>
    json<Obj>(await e.t.call('GET', `/api/backends/${e.bid}/buckets/${bucket}/object/info${q(key)}`, { as: e.reader }))
  const md5At = async (key: string, bucket = e.bucket): Promise<string> =>
    md5(new Uint8Array(await (await e.t.call('GET', `/api/backends/${e.bid}/buckets/${bucket}/object${q(key)}`, { as: e.reader })).arrayBuffer()))

  test('object/copy: parts server-side, with the bytes, content type and metadata', async () => {
    await putSource('big/src.bin')
    const res = await copy({ src_key: 'big/src.bin', dst_key: 'big/copy.bin' })
    expect(res.status).toBe(200)
    const body = await json<{ object: Obj }>(res)
    expect(body.object).toMatchObject({ key: 'big/copy.bin', size: SIZE, content_type: 'application/x-big', metadata: { origin: 'big' } })
    expect(body.object.etag).toMatch(/-3"$/)
    expect(await md5At('big/copy.bin')).toBe(md5(data))
    expect((await auditRows(e.t, 'object.copy'))[0]).toMatchObject({ status: 'ok', key: 'big/src.bin', detail: { dst_key: 'big/copy.bin', size: SIZE } })
  }, 30_000)

  test('object/copy into another bucket with new metadata keeps the content type', async () => {
    const other = await e.newBucket('bigdst')
    await putSource('big/meta.bin')
    const res = await copy({ src_key: 'big/meta.bin', dst_key: 'meta.bin', dst_bucket: other, metadata: { Owner: 'ann' } })
    expect(res.status).toBe(200)
    const o = await info('meta.bin', other)
    expect(o).toMatchObject({ size: SIZE, content_type: 'application/x-big', metadata: { owner: 'ann' } })
    expect(o.etag).toMatch(/-3"$/)
    expect(await md5At('meta.bin', other)).toBe(md5(data))
  }, 30_000)

  test('object/metadata on a big object replaces the metadata in place and keeps the content type', async () => {
    await putSource('big/edit.bin')
    const res = await e.t.call('PUT', `${e.base}/object/metadata${q('big/edit.bin')}`, { as: e.user, json: { metadata: { reviewed: 'yes' } } })
    expect(res.status).toBe(200)
    const o = await json<Obj>(res)
    expect(o).toMatchObject({ size: SIZE, content_type: 'application/x-big', metadata: { reviewed: 'yes' } })
    expect(o.metadata).not.toHaveProperty('origin')
    expect(o.etag).toMatch(/-3"$/)
    expect(await md5At('big/edit.bin')).toBe(md5(data))
  }, 30_000)

  test('object/copy with version_id copies that version of a versioned source', async () => {
    const vb = await e.newBucket('bigver')
    try {
      await backend.setVersioning(vb, true)
      await putSource('doc.bin', data, vb)
      const first = (await backend.listObjectVersions(vb, 'doc.bin'))[0]!.versionId
      const newer = randomBytes(SIZE)
      await putSource('doc.bin', newer, vb)
      const res = await copy({ src_key: 'doc.bin', dst_key: 'old.bin', version_id: first }, vb)
      expect(res.status).toBe(200)
      expect((await json<{ object: Obj }>(res)).object.etag).toMatch(/-3"$/)
      expect(await md5At('old.bin', vb)).toBe(md5(data))
      expect(await md5At('doc.bin', vb)).toBe(md5(newer))
    } finally {
      // The fixture's clean-up leaves versions behind, so the bucket would stay.
      await emptyAndDelete(backend, vb, ['doc.bin'])
    }
  }, 30_000)

  test('copy-prefix copies a big object in parts too', async () => {
    await putSource('tree/big.bin')
    const res = await e.t.call('POST', `${e.base}/objects/copy-prefix`, { as: e.user, json: { src_prefix: 'tree/', dst_prefix: 'tree-copy/' } })
    expect(res.status).toBe(200)
    expect((await ndjson(res)).at(-1)).toEqual({ event: 'done', copied: 1, failed: 0, bytes: SIZE })
    expect((await info('tree-copy/big.bin')).etag).toMatch(/-3"$/)
    expect(await md5At('tree-copy/big.bin')).toBe(md5(data))
  }, 30_000)

  test('a source deleted midway is 404 and leaves no multipart upload', async () => {
    await putSource('big/gone.bin')
    const held = afterFirstPart(() => e.backend().deleteObject(e.bucket, 'big/gone.bin'))
    hooks = held.hooks
    try {
      const res = await copy({ src_key: 'big/gone.bin', dst_key: 'big/gone.copy' })
      expect(res.status).toBe(404)
      expect(await errorCode(res)).toBe('not_found')
    } finally {
      hooks = {}
    }
    expect(held.parts).toContainEqual([1, 200])
    const uploads = await json<{ uploads: unknown[] }>(await e.t.call('GET', `${e.base}/multipart?prefix=big/gone`, { as: e.reader }))
    expect(uploads.uploads).toEqual([])
    expect((await e.t.call('GET', `${e.base}/object/info${q('big/gone.copy')}`, { as: e.reader })).status).toBe(404)
    expect((await auditRows(e.t, 'object.copy'))[0]).toMatchObject({ status: 'error', key: 'big/gone.bin' })
  }, 30_000)
})
