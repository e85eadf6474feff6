// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A folder grant cannot be escaped through the dashboard. The user holds
 * read-write on `team/a/` of one bucket and nothing else; every spelling of
 * a path outside it — "..", encoded slashes, a sibling whose name starts the
 * same, another case — is refused, and so are operations at the parent that
 * would reach outside (a folder delete, copy, zip or size of `team/`), moves
 * and copies whose source or destination is outside, searches and listings.
 * Afterwards the objects outside are all still there, unchanged.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Client } from '../helpers/app.ts'
import { KINDS } from '../helpers/kinds.ts'
import { codeOf, grantsApp, type GrantsApp } from './fixture.ts'

setDefaultTimeout(60_000)

const OUTSIDE = ['team/b/secret.txt', 'team/ab/near.txt', 'Team/a/upper.txt', 'root.txt']
const INSIDE = ['team/a/doc.txt', 'team/a/sub/deep.txt']

/** The entry names in a zip's central directory. */
function zipEntries(buf: Uint8Array): string[] {
  const names: string[] = []
  const view = Buffer.from(buf)
  for (let i = view.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); i >= 0; i = view.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), i + 4)) {
    const len = view.readUInt16LE(i + 28)
    names.push(view.subarray(i + 46, i + 46 + len).toString('utf8'))
  }
  return names.sort()
}

describe.each(KINDS)('a folder grant on %s', (kind) => {
  let app: GrantsApp
  let bucket: string
  let other: string
  let as: Client
  let base: string
  const call = (method: string, path: string, json?: unknown) => app.t.call(method, `${base}${path}`, { as, ...(json === undefined ? {} : { json }) })

  beforeAll(async () => {
    app = await grantsApp(kind)
    bucket = await app.bucket('gesc')
    other = await app.bucket('gesc-other')
    base = app.base(bucket)
    for (const key of [...OUTSIDE, ...INSIDE]) await app.put(bucket, key, `bytes of ${key}`)
    await app.put(other, 'o.txt', 'other')
    as = await app.t.user('user')
    await app.grant({ user_id: as.userId, backend_id: app.bid, bucket, prefix: 'team/a/', access: 'read-write' })
  })
  afterAll(() => app.cleanup())

  async function refused(res: Response): Promise<void> {
    const text = await res.text()
    if (res.status !== 403 || !/"code":"access_denied"/.test(text)) throw new Error(`expected 403 access_denied, got ${res.status} ${text}`)
  }

  test('keys outside, however spelled, are refused for reading and writing', async () => {
    const spellings = [
      'team/b/secret.txt',
      'team/a/../b/secret.txt',
      'team%2Fa%2F..%2Fb%2Fsecret.txt',
      'team/a/%2E%2E/b/secret.txt',
      'team/ab/near.txt',
      'Team/a/upper.txt',
      'team/A/doc.txt',
      'root.txt',
      'team/a',
    ]
    for (const key of spellings) {
      await refused(await call('GET', `/object?key=${key}`))
      await refused(await call('GET', `/object/info?key=${key}`))
      await refused(
        await app.t.call('POST', `${base}/object?key=${key}`, { as, body: 'evil', headers: { 'content-type': 'text/plain', 'content-length': '4' } }),
      )
      await refused(await call('DELETE', `/object?key=${key}`))
      await refused(await call('PUT', `/object/tags?key=${key}`, { tags: { x: 'y' } }))
      await refused(await call('POST', `/multipart?key=${key}`, {}))
    }
    const ok = await call('GET', '/object?key=team/a/doc.txt')
    expect([ok.status, await ok.text()]).toEqual([200, 'bytes of team/a/doc.txt'])
  })

  test('a bucket name with encoded slashes or dots is not the granted bucket', async () => {
    for (const name of [`${bucket}%2F..%2F${other}`, `${bucket}%2F`, other]) {
      const res = await app.t.call('GET', `/api/backends/${app.bid}/buckets/${name}/object?key=team/a/doc.txt`, { as })
      expect([name, res.status]).toEqual([name, 403])
    }
  })

  test('operations at the parent folder are refused: delete, copy, zip, size, share', async () => {
    await refused(await call('POST', '/objects/delete-prefix', { prefix: 'team/' }))
    await refused(await call('POST', '/objects/delete-prefix', { prefix: 'team/a/../' }))
    await refused(await call('POST', '/objects/copy-prefix', { src_prefix: 'team/', dst_prefix: 'team/a/all/' }))
    await refused(await call('GET', '/objects/zip?key=team/'))
    await refused(await call('GET', '/objects/zip?key=team/a/doc.txt&key=team/b/'))
    await refused(await call('GET', '/prefix-size?prefix=team/'))
    await refused(await call('GET', '/prefix-size'))
    await refused(await call('GET', '/multipart'))
    await refused(await app.t.call('POST', '/api/shares', { as, json: { backend_id: app.bid, bucket, key: 'team/' } }))
    const zip = await call('GET', '/objects/zip?key=team/a/')
    expect(zip.status).toBe(200)
    expect(zipEntries(new Uint8Array(await zip.arrayBuffer()))).toEqual(['doc.txt', 'sub/deep.txt'].map((k) => `team/a/${k}`))
  })

  test('a folder delete inside the grant deletes only inside it', async () => {
    for (const key of ['team/a/tmp/1.txt', 'team/a/tmp/2.txt']) await app.put(bucket, key, 'x')
    const res = await call('POST', '/objects/delete-prefix', { prefix: 'team/a/tmp/' })
    expect(res.status).toBe(200)
    const events = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; key?: string })
    expect(
      events
        .filter((e) => e.event === 'object')
        .map((e) => e.key)
        .sort(),
    ).toEqual(['team/a/tmp/1.txt', 'team/a/tmp/2.txt'])
  })

  test('a bulk delete naming one key outside deletes nothing', async () => {
    await refused(await call('POST', '/objects/delete', { keys: [{ key: 'team/a/doc.txt' }, { key: 'team/b/secret.txt' }] }))
    expect((await app.backend().headObject(bucket, 'team/a/doc.txt')).key).toBe('team/a/doc.txt')
  })

  test('copies and moves need the source readable and the destination writable', async () => {
    await refused(await call('POST', '/object/copy', { src_key: 'team/b/secret.txt', dst_key: 'team/a/stolen.txt' }))
    await refused(await call('POST', '/object/copy', { src_key: 'team/a/doc.txt', dst_key: 'team/b/planted.txt' }))
    await refused(await call('POST', '/object/copy', { src_key: 'team/a/doc.txt', dst_key: 'o2.txt', dst_bucket: other }))
    await refused(await call('POST', '/objects/copy-prefix', { src_prefix: 'team/a/', dst_prefix: 'team/b/copied/' }))
    await refused(await call('POST', '/objects/copy-prefix', { src_prefix: 'team/b/', dst_prefix: 'team/a/copied/' }))
    await refused(await call('POST', '/objects/copy-prefix', { src_prefix: 'team/a/', dst_prefix: 'x/', dst_bucket: other }))
    // A move is a copy then a delete of the source: with the source outside, its delete is refused too.
    await refused(await call('DELETE', '/object?key=team/b/secret.txt'))
    const moved = await call('POST', '/object/copy', { src_key: 'team/a/doc.txt', dst_key: 'team/a/moved.txt' })
    expect(moved.status).toBe(200)
  })

  test('a form upload without ?key= needs the whole bucket; with it, the form may not name another key', async () => {
    const form = (key: string): FormData => {
      const f = new FormData()
      f.set('key', key)
      f.set('file', new Blob(['evil'], { type: 'text/plain' }), 'evil.txt')
      return f
    }
    await refused(await app.t.call('POST', `${base}/object`, { as, body: form('team/b/evil.txt') }))
    const mismatch = await app.t.call('POST', `${base}/object?key=team/a/ok.txt`, { as, body: form('team/b/evil.txt') })
    expect(mismatch.status).toBe(400)
    const ok = await app.t.call('POST', `${base}/object?key=team/a/ok.txt`, { as, body: form('team/a/ok.txt') })
    expect(ok.status).toBe(201)
  })

  test('listings above the folder show only the way down to it', async () => {
    const list = async (prefix: string, extra = ''): Promise<{ status: number; body: { common_prefixes?: string[]; objects?: Array<{ key: string }> } }> => {
      const res = await call('GET', `/objects?prefix=${encodeURIComponent(prefix)}${extra}`)
      return { status: res.status, body: (await res.json()) as { common_prefixes?: string[]; objects?: Array<{ key: string }> } }
    }
    expect(await list('')).toEqual({ status: 200, body: expect.objectContaining({ common_prefixes: ['team/'], objects: [] }) })
    expect(await list('team/')).toEqual({ status: 200, body: expect.objectContaining({ common_prefixes: ['team/a/'], objects: [] }) })
    expect(await list('te')).toEqual({ status: 200, body: expect.objectContaining({ common_prefixes: ['team/'], objects: [] }) })
    const inside = await list('team/a/')
    expect(inside.body.objects!.map((o) => o.key)).toContain('team/a/doc.txt')
    expect(inside.body.common_prefixes).toContain('team/a/sub/')
    expect((await list('team/b/')).status).toBe(403)
    expect((await list('team/ab')).status).toBe(403)
    expect((await list('Team/')).status).toBe(403)
    expect((await list('', '&delimiter=')).status).toBe(403)
  })

  test('search finds only what is inside the folder', async () => {
    const res = await app.ok<{ buckets: Array<{ bucket: string }>; objects: Array<{ bucket: string; key: string }> }>('GET', '/api/search?q=txt&limit=200', as)
    const keys = res.objects.filter((o) => o.bucket === bucket).map((o) => o.key)
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) expect(key.startsWith('team/a/')).toBe(true)
    expect(res.objects.some((o) => o.bucket === other)).toBe(false)
    const byPrefix = await app.ok<{ objects: Array<{ key: string }> }>('GET', '/api/search?q=team/', as)
    for (const o of byPrefix.objects) expect(o.key.startsWith('team/a/')).toBe(true)
    const secret = await app.ok<{ objects: unknown[] }>('GET', '/api/search?q=secret', as)
    expect(secret.objects).toEqual([])
  })

  test('everything outside is still there, unchanged', async () => {
    for (const key of OUTSIDE) {
      const got = await app.backend().getObject(bucket, key)
      expect([key, got.status === 304 ? '' : await new Response(got.body).text()]).toEqual([key, `bytes of ${key}`])
    }
    for (const key of ['team/b/planted.txt', 'team/a/stolen.txt', 'team/b/evil.txt', 'team/b/copied/doc.txt'])
      await expect(app.backend().headObject(bucket, key)).rejects.toThrow()
    expect(await app.backend().getObjectTags(bucket, 'team/b/secret.txt')).toEqual({})
    expect(await codeOf(await call('GET', '/object?key=team/b/secret.txt'))).toBe('access_denied')
  })
})
