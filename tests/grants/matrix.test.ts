// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every storage path of the dashboard × {no grant, read, read-write, a grant
 * on the folder the request works in, a group's grant, a revoked grant} ×
 * {fs, RGW}. A path the grant allows answers what it answers for an admin;
 * one it does not is 403 `access_denied` (nothing granted) or
 * `read_only_access` (only read granted), and changes nothing. Listings
 * (backends, buckets, search, pins) show the bucket exactly when a grant
 * covers it. Each scenario has its own bucket and user.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Client } from '../helpers/app.ts'
import { KINDS, type Kind } from '../helpers/kinds.ts'
import { eventually } from '../quotas/storage-fixture.ts'
import { codeOf, grantsApp, type GrantsApp } from './fixture.ts'

setDefaultTimeout(60_000)

type Scenario = 'none' | 'read' | 'read-write' | 'prefix' | 'group' | 'revoked'
const SCENARIOS: Scenario[] = ['none', 'read', 'read-write', 'prefix', 'group', 'revoked']
/** What each scenario grants on the folder `in/` every path works in. */
const LEVEL: Record<Scenario, 0 | 1 | 2> = { none: 0, read: 1, 'read-write': 2, prefix: 2, group: 2, revoked: 0 }

type Ctx = {
  app: GrantsApp
  kind: Kind
  as: Client
  bucket: string
  base: string
  uploads: { part: string; complete: string; abort: string }
  etag: string
  tok: string
}
type Path = { name: string; level: 1 | 2; status: number; run(c: Ctx): Promise<Response> }

const up = (c: Ctx, key: string, id: string): string => `key=${encodeURIComponent(key)}&upload_id=${encodeURIComponent(id)}`

const PATHS: Path[] = [
  { name: 'list a folder', level: 1, status: 200, run: (c) => c.app.t.call('GET', `${c.base}/objects?prefix=in/`, { as: c.as }) },
  { name: 'download', level: 1, status: 200, run: (c) => c.app.t.call('GET', `${c.base}/object?key=in/a.txt`, { as: c.as }) },
  { name: 'HEAD', level: 1, status: 200, run: (c) => c.app.t.call('HEAD', `${c.base}/object?key=in/a.txt`, { as: c.as }) },
  { name: 'object info', level: 1, status: 200, run: (c) => c.app.t.call('GET', `${c.base}/object/info?key=in/a.txt`, { as: c.as }) },
  { name: 'read tags', level: 1, status: 200, run: (c) => c.app.t.call('GET', `${c.base}/object/tags?key=in/a.txt`, { as: c.as }) },
  { name: 'versions', level: 1, status: 200, run: (c) => c.app.t.call('GET', `${c.base}/object/versions?key=in/a.txt`, { as: c.as }) },
  { name: 'zip of keys and a folder', level: 1, status: 200, run: (c) => c.app.t.call('GET', `${c.base}/objects/zip?key=in/a.txt&key=in/dir/`, { as: c.as }) },
  { name: 'multipart uploads in progress', level: 1, status: 200, run: (c) => c.app.t.call('GET', `${c.base}/multipart?prefix=in/`, { as: c.as }) },
  {
    name: 'parts of an upload',
    level: 1,
    status: 200,
    run: (c) => c.app.t.call('GET', `${c.base}/multipart/parts?${up(c, 'in/mp-part.bin', c.uploads.part)}`, { as: c.as }),
  },
  { name: 'folder size', level: 1, status: 200, run: (c) => c.app.t.call('GET', `${c.base}/prefix-size?prefix=in/`, { as: c.as }) },
  { name: 'quota', level: 1, status: 200, run: (c) => c.app.t.call('GET', `${c.base}/quota`, { as: c.as }) },
  { name: 'size tracking', level: 1, status: 200, run: (c) => c.app.t.call('GET', `${c.base}/size-tracking`, { as: c.as }) },
  {
    name: 'share',
    level: 1,
    status: 201,
    run: (c) => c.app.t.call('POST', '/api/shares', { as: c.as, json: { backend_id: c.app.bid, bucket: c.bucket, key: 'in/a.txt' } }),
  },
  { name: 'pin', level: 1, status: 201, run: (c) => c.app.t.call('POST', '/api/me/pins', { as: c.as, json: { backend_id: c.app.bid, bucket: c.bucket } }) },
  {
    name: 'upload',
    level: 2,
    status: 201,
    run: (c) =>
      c.app.t.call('POST', `${c.base}/object?key=in/up.txt`, { as: c.as, body: 'data', headers: { 'content-type': 'text/plain', 'content-length': '4' } }),
  },
  { name: 'new folder', level: 2, status: 201, run: (c) => c.app.t.call('POST', `${c.base}/objects/folder`, { as: c.as, json: { key: 'in/new' } }) },
  { name: 'delete', level: 2, status: 204, run: (c) => c.app.t.call('DELETE', `${c.base}/object?key=in/del.txt`, { as: c.as }) },
  {
    name: 'bulk delete',
    level: 2,
    status: 200,
    run: (c) => c.app.t.call('POST', `${c.base}/objects/delete`, { as: c.as, json: { keys: [{ key: 'in/bulk.txt' }] } }),
  },
  {
    name: 'folder delete',
    level: 2,
    status: 200,
    run: (c) => c.app.t.call('POST', `${c.base}/objects/delete-prefix`, { as: c.as, json: { prefix: 'in/gone/' } }),
  },
  {
    name: 'copy',
    level: 2,
    status: 200,
    run: (c) => c.app.t.call('POST', `${c.base}/object/copy`, { as: c.as, json: { src_key: 'in/a.txt', dst_key: 'in/copy.txt' } }),
  },
  {
    name: 'folder copy',
    level: 2,
    status: 200,
    run: (c) => c.app.t.call('POST', `${c.base}/objects/copy-prefix`, { as: c.as, json: { src_prefix: 'in/dir/', dst_prefix: 'in/dir2/' } }),
  },
  { name: 'set tags', level: 2, status: 204, run: (c) => c.app.t.call('PUT', `${c.base}/object/tags?key=in/a.txt`, { as: c.as, json: { tags: { a: 'b' } } }) },
  {
    name: 'set metadata',
    level: 2,
    status: 200,
    run: (c) => c.app.t.call('PUT', `${c.base}/object/metadata?key=in/meta.txt`, { as: c.as, json: { metadata: { a: 'b' } } }),
  },
  {
    name: 'start a multipart upload',
    level: 2,
    status: 201,
    run: (c) => c.app.t.call('POST', `${c.base}/multipart?key=in/mp-new.bin`, { as: c.as, json: {} }),
  },
  {
    name: 'upload a part',
    level: 2,
    status: 200,
    run: (c) =>
      c.app.t.call('PUT', `${c.base}/multipart/parts/2?${up(c, 'in/mp-part.bin', c.uploads.part)}`, {
        as: c.as,
        body: 'part',
        headers: { 'content-length': '4' },
      }),
  },
  {
    name: 'complete an upload',
    level: 2,
    status: 200,
    run: (c) =>
      c.app.t.call('POST', `${c.base}/multipart/complete?${up(c, 'in/mp-complete.bin', c.uploads.complete)}`, {
        as: c.as,
        json: { parts: [{ PartNumber: 1, ETag: c.etag }] },
      }),
  },
  {
    name: 'abort an upload',
    level: 2,
    status: 204,
    run: (c) => c.app.t.call('DELETE', `${c.base}/multipart?${up(c, 'in/mp-abort.bin', c.uploads.abort)}`, { as: c.as }),
  },
]

/** What the admin sees of these keys after a refused write: nothing may have changed. */
const UNTOUCHED = ['in/a.txt', 'in/del.txt', 'in/bulk.txt', 'in/gone/x.txt', 'in/dir/c.txt', 'in/meta.txt']
const ABSENT = ['in/up.txt', 'in/new/', 'in/copy.txt', 'in/dir2/c.txt', 'in/mp-new.bin', 'in/mp-complete.bin']

describe.each(KINDS)('on %s', (kind) => {
  let app: GrantsApp

  beforeAll(async () => {
    app = await grantsApp(kind)
  })
  afterAll(() => app.cleanup())

  describe.each(SCENARIOS)('with %s', (scenario) => {
    const c = { kind } as Ctx

    beforeAll(async () => {
      c.app = app
      c.tok = `gm${Math.random().toString(36).slice(2, 8)}`
      c.bucket = await app.bucket(`g-${scenario.replace('-', '')}`)
      c.base = app.base(c.bucket)
      for (const key of [...UNTOUCHED, 'in/b.txt', `in/${c.tok}.txt`, 'out/x.txt']) await app.put(c.bucket, key, `bytes of ${key}`)
      const be = app.backend()
      c.uploads = {
        part: await be.createMultipartUpload(c.bucket, 'in/mp-part.bin', {}),
        complete: await be.createMultipartUpload(c.bucket, 'in/mp-complete.bin', {}),
        abort: await be.createMultipartUpload(c.bucket, 'in/mp-abort.bin', {}),
      }
      await be.uploadPart(c.bucket, 'in/mp-part.bin', c.uploads.part, 1, new Response('first').body!, { size: 5 })
      c.etag = (await be.uploadPart(c.bucket, 'in/mp-complete.bin', c.uploads.complete, 1, new Response('whole').body!, { size: 5 })).etag
      c.as = await app.t.user('user')
      const on = { backend_id: app.bid, bucket: c.bucket }
      if (scenario === 'read') await app.grant({ user_id: c.as.userId, ...on, access: 'read' })
      if (scenario === 'read-write') await app.grant({ user_id: c.as.userId, ...on, access: 'read-write' })
      if (scenario === 'prefix') await app.grant({ user_id: c.as.userId, ...on, prefix: 'in/', access: 'read-write' })
      if (scenario === 'group') {
        await app.t.s.access.recordGroups(c.as.userId, [`team-${c.tok}`])
        await app.grant({ group: `team-${c.tok}`, ...on, access: 'read-write' })
      }
      if (scenario === 'revoked') await app.revoke((await app.grant({ user_id: c.as.userId, ...on, access: 'read-write' })).id)
    })

    test.each(PATHS)('$name', async (p) => {
      const res = await p.run(c)
      const allowed = LEVEL[scenario] >= p.level
      const want = allowed ? p.status : 403
      if (res.status !== want) throw new Error(`expected ${want}, got ${res.status} ${await res.text()}`)
      if (!allowed && p.name !== 'HEAD') expect(await codeOf(res)).toBe(LEVEL[scenario] === 0 ? 'access_denied' : 'read_only_access')
      else await res.text()
    })

    test('a refused write changed nothing', async () => {
      if (LEVEL[scenario] === 2) return
      const be = app.backend()
      for (const key of UNTOUCHED) expect((await be.headObject(c.bucket, key)).key).toBe(key)
      for (const key of ABSENT) await expect(be.headObject(c.bucket, key)).rejects.toThrow()
      expect((await be.listParts(c.bucket, 'in/mp-part.bin', c.uploads.part)).map((p) => p.partNumber)).toEqual([1])
      expect((await be.listMultipartUploads(c.bucket, { prefix: 'in/mp-abort.bin' })).length).toBe(1)
      expect(await be.getObjectTags(c.bucket, 'in/a.txt')).toEqual({})
    })

    test('backends, buckets, search and pins show the bucket exactly when granted', async () => {
      const seen = LEVEL[scenario] > 0
      const backends = await app.ok<{ backends: Array<{ id: string }> }>('GET', '/api/backends', c.as)
      expect(backends.backends.some((b) => b.id === app.bid)).toBe(seen)
      // Bucket listings are cached for a moment (buckets/service.ts), and the bucket was made behind Stowage's back.
      const listed = await eventually(async () => {
        const res = await app.t.call('GET', `/api/backends/${app.bid}/buckets`, { as: c.as })
        if (res.status !== 200) return (await codeOf(res)) ?? String(res.status)
        const names = ((await res.json()) as { buckets: Array<{ name: string }> }).buckets.map((b) => b.name)
        return names.includes(c.bucket) ? 'listed' : undefined
      })
      expect(listed).toBe(seen ? 'listed' : 'access_denied')
      const search = await app.ok<{ buckets: Array<{ bucket: string }>; objects: Array<{ key: string }> }>('GET', `/api/search?q=${c.tok}`, c.as)
      expect(search.objects.map((o) => o.key)).toEqual(seen ? [`in/${c.tok}.txt`] : [])
      const byName = await app.ok<{ buckets: Array<{ bucket: string }> }>('GET', `/api/search?q=${c.bucket}`, c.as)
      expect(byName.buckets.map((b) => b.bucket)).toEqual(seen ? [c.bucket] : [])
      await app.t.s.db.run('INSERT INTO bucket_pins (user_id, backend_id, bucket, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [
        c.as.userId,
        app.bid,
        c.bucket,
        Date.now(),
      ])
      const pins = await app.ok<{ pins: Array<{ bucket: string }> }>('GET', '/api/me/pins', c.as)
      expect(pins.pins.map((p) => p.bucket)).toEqual(seen ? [c.bucket] : [])
    })
  })
})
