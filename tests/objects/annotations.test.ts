// SPDX-License-Identifier: AGPL-3.0-or-later
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { errorCode } from '../helpers/app.ts'
import { auditRows, json, KINDS, objectEnv, q, type Env } from './fixture.ts'

type Obj = { key: string; size: number; content_type?: string; metadata?: Record<string, string> }

describe.each(KINDS)('tags, metadata and versions on %s', (kind) => {
  let e: Env
  beforeAll(async () => {
    e = await objectEnv(kind)
    expect((await e.put('doc.md', '# title', { type: 'text/markdown' })).status).toBe(201)
  }, 60_000)
  afterAll(() => e.close(), 60_000)

  const tags = (key = 'doc.md'): Promise<Response> => e.t.call('GET', `${e.base}/object/tags${q(key)}`, { as: e.reader })
  const putTags = (t: Record<string, string>, key = 'doc.md'): Promise<Response> =>
    e.t.call('PUT', `${e.base}/object/tags${q(key)}`, { as: e.user, json: { tags: t } })

  test('tags: PUT (204) then GET, audited', async () => {
    expect(await json(await tags())).toEqual({ tags: {} })
    const res = await putTags({ project: 'apollo', 'cost-center': '42', note: 'a b:c/d=e+f@g.h_i' })
    expect(res.status).toBe(204)
    expect(await json(await tags())).toEqual({ tags: { project: 'apollo', 'cost-center': '42', note: 'a b:c/d=e+f@g.h_i' } })
    expect((await auditRows(e.t, 'object.tags.set'))[0]).toMatchObject({ status: 'ok', key: 'doc.md', detail: { tags: { project: 'apollo' } } })
    expect((await putTags({})).status).toBe(204)
    expect(await json(await tags())).toEqual({ tags: {} })
  })

  test('tag limits: more than 10 → too_many_tags; bad key/value → invalid_tag', async () => {
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']))
    const many = await putTags(eleven)
    expect(many.status).toBe(400)
    expect(await errorCode(many)).toBe('too_many_tags')
    for (const bad of [{ ['k'.repeat(129)]: 'v' }, { '': 'v' }, { k: 'v'.repeat(257) }, { 'bad<key>': 'v' }, { k: 'semi;colon' }] as Array<
      Record<string, string>
    >) {
      const res = await putTags(bad)
      expect(res.status).toBe(400)
      expect(await errorCode(res)).toBe('invalid_tag')
    }
    expect((await putTags({ ['k'.repeat(128)]: 'v'.repeat(256) })).status).toBe(204)
  })

  test('tags of a missing object are 404', async () => {
    expect((await tags('nope.md')).status).toBe(404)
    expect((await putTags({ a: 'b' }, 'nope.md')).status).toBe(404)
  })

  test('metadata: PUT replaces user metadata, keeps the content type, answers the object', async () => {
    const res = await e.t.call('PUT', `${e.base}/object/metadata${q('doc.md')}`, {
      as: e.user,
      json: { metadata: { Author: 'ann', 'x-amz-meta-review': 'done' } },
    })
    expect(res.status).toBe(200)
    const o = await json<Obj>(res)
    expect(o.metadata).toEqual({ author: 'ann', review: 'done' })
    expect(o.content_type).toStartWith('text/markdown')
    const again = await json<Obj>(await e.t.call('PUT', `${e.base}/object/metadata${q('doc.md')}`, { as: e.user, json: { metadata: { author: 'bob' } } }))
    expect(again.metadata).toEqual({ author: 'bob' })
    expect(again.content_type).toStartWith('text/markdown')
    expect(await (await e.t.call('GET', `${e.base}/object${q('doc.md')}`, { as: e.reader })).text()).toBe('# title')
    expect((await auditRows(e.t, 'object.metadata.set'))[0]).toMatchObject({ status: 'ok', key: 'doc.md', detail: { metadata: { author: 'bob' } } })
  })

  test("a metadata edit keeps the object's tags", async () => {
    expect((await e.put('tagged.txt', 'keep my tags', { type: 'text/plain' })).status).toBe(201)
    expect((await putTags({ project: 'apollo', stage: 'final' }, 'tagged.txt')).status).toBe(204)
    const res = await e.t.call('PUT', `${e.base}/object/metadata${q('tagged.txt')}`, { as: e.user, json: { metadata: { author: 'ann' } } })
    expect(res.status).toBe(200)
    expect((await json<Obj>(res)).metadata).toEqual({ author: 'ann' })
    expect(await json(await tags('tagged.txt'))).toEqual({ tags: { project: 'apollo', stage: 'final' } })
  })

  test('bad metadata is 400 invalid_metadata', async () => {
    for (const metadata of [{ 'bad name': 'x' }, { '': 'x' }, { ok: 'line\nbreak' }, { ok: 'ü' }, { big: 'x'.repeat(3000) }]) {
      const res = await e.t.call('PUT', `${e.base}/object/metadata${q('doc.md')}`, { as: e.user, json: { metadata } })
      expect(res.status).toBe(400)
      expect(await errorCode(res)).toBe('invalid_metadata')
    }
  })

  test('versions: listed where the backend keeps them, else 501 not_supported', async () => {
    const res = await e.t.call('GET', `${e.base}/object/versions${q('doc.md')}`, { as: e.reader })
    if (!e.backend().capabilities.versioning) {
      expect(res.status).toBe(501)
      expect(await errorCode(res)).toBe('not_supported')
      return
    }
    expect(res.status).toBe(200)
    const body = await json<{ versions: Array<{ key: string; version_id: string; is_latest: boolean; size: number }> }>(res)
    expect(body.versions.length).toBeGreaterThanOrEqual(1)
    expect(body.versions.every((v) => v.key === 'doc.md' && typeof v.version_id === 'string')).toBe(true)
    expect(body.versions.filter((v) => v.is_latest).length).toBe(1)
  })

  test('deleted keys of a folder: none where the backend keeps no versions', async () => {
    const res = await e.t.call('GET', `${e.base}/objects/deleted?prefix=`, { as: e.reader })
    expect(res.status).toBe(200)
    const body = await json<{ versioned: boolean; deleted: unknown[] }>(res)
    if (!e.backend().capabilities.versioning) expect(body).toEqual({ versioned: false, deleted: [] })
  })
})

describe.each(KINDS)('versions on a versioned bucket on %s', (kind) => {
  test('every overwrite is a version; one version can be downloaded by id', async () => {
    const e = await objectEnv(kind)
    try {
      expect((await e.t.call('PUT', `${e.base}/versioning`, { as: e.admin, json: { enabled: true } })).status).toBeLessThan(300)
      for (const body of ['one', 'second', 'the third']) expect((await e.put('v.txt', body)).status).toBe(201)
      const res = await json<{ versions: Array<{ version_id: string; is_latest: boolean; size: number }> }>(
        await e.t.call('GET', `${e.base}/object/versions${q('v.txt')}`, { as: e.reader }),
      )
      expect(res.versions.length).toBe(3)
      const oldest = res.versions.find((v) => v.size === 3)!
      const got = await e.t.call('GET', `${e.base}/object${q('v.txt', `&version_id=${encodeURIComponent(oldest.version_id)}`)}`, { as: e.reader })
      expect(await got.text()).toBe('one')
    } finally {
      // A versioned bucket can only be deleted once every version is gone.
      for (const v of await e
        .backend()
        .listObjectVersions(e.bucket, 'v.txt')
        .catch(() => []))
        await e
          .backend()
          .deleteObject(e.bucket, 'v.txt', { versionId: v.versionId })
          .catch(() => {})
      await e.close()
    }
  }, 60_000)

  test('a deleted key is listed with its delete marker, only in its own folder, and removing the marker brings it back', async () => {
    const e = await objectEnv(kind)
    const keys = ['gone.txt', 'kept.txt', 'dir/inner.txt']
    try {
      expect((await e.t.call('PUT', `${e.base}/versioning`, { as: e.admin, json: { enabled: true } })).status).toBeLessThan(300)
      for (const key of keys) expect((await e.put(key, `body of ${key}`)).status).toBe(201)
      expect((await e.t.call('POST', `${e.base}/objects/delete`, { as: e.user, json: { keys: [{ key: 'gone.txt' }, { key: 'dir/inner.txt' }] } })).status).toBe(
        200,
      )
      type Deleted = { versioned: boolean; deleted: Array<{ key: string; version_id: string; last_modified?: string }> }
      const root = await json<Deleted>(await e.t.call('GET', `${e.base}/objects/deleted`, { as: e.reader }))
      expect(root.versioned).toBe(true)
      expect(root.deleted.map((d) => d.key)).toEqual(['gone.txt'])
      expect(root.deleted[0]!.last_modified).toBeString()
      const dir = await json<Deleted>(await e.t.call('GET', `${e.base}/objects/deleted?prefix=dir/`, { as: e.reader }))
      expect(dir.deleted.map((d) => d.key)).toEqual(['dir/inner.txt'])

      const undelete = await e.t.call('POST', `${e.base}/objects/delete`, {
        as: e.user,
        json: { keys: [{ key: 'gone.txt', version_id: root.deleted[0]!.version_id }] },
      })
      expect(undelete.status).toBe(200)
      expect(await (await e.t.call('GET', `${e.base}/object${q('gone.txt')}`, { as: e.reader })).text()).toBe('body of gone.txt')
      expect((await json<Deleted>(await e.t.call('GET', `${e.base}/objects/deleted`, { as: e.reader }))).deleted).toEqual([])
    } finally {
      for (const key of keys)
        for (const v of await e
          .backend()
          .listObjectVersions(e.bucket, key)
          .catch(() => []))
          await e
            .backend()
            .deleteObject(e.bucket, key, { versionId: v.versionId })
            .catch(() => {})
      await e.close()
    }
  }, 60_000)
})
