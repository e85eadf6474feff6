// SPDX-License-Identifier: AGPL-3.0-or-later
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { ListOptions } from '../../src/backends/backend.ts'
import { errorCode } from '../helpers/app.ts'
import { auditRows, json, KINDS, ndjson, objectEnv, q, type Env } from './fixture.ts'

describe.each(KINDS)('deletes on %s', (kind) => {
  let e: Env
  beforeAll(async () => {
    e = await objectEnv(kind)
  }, 60_000)
  afterAll(() => e.close(), 60_000)

  const exists = async (key: string): Promise<boolean> => (await e.t.call('GET', `${e.base}/object/info${q(key)}`, { as: e.reader })).status === 200

  test('DELETE …/object removes it (204), audited with its size; a missing key is 404', async () => {
    expect((await e.put('gone.txt', 'bye')).status).toBe(201)
    const res = await e.t.call('DELETE', `${e.base}/object${q('gone.txt')}`, { as: e.user })
    expect(res.status).toBe(204)
    expect(await exists('gone.txt')).toBe(false)
    expect((await auditRows(e.t, 'object.delete'))[0]).toMatchObject({ status: 'ok', key: 'gone.txt', detail: { size: 3 } })
    const again = await e.t.call('DELETE', `${e.base}/object${q('gone.txt')}`, { as: e.user })
    expect(again.status).toBe(404)
    expect((await auditRows(e.t, 'object.delete'))[0]).toMatchObject({ status: 'error', key: 'gone.txt', detail: { error: 'not_found' } })
  })

  test('bulk delete reports per key and the audit row names every key with its outcome', async () => {
    for (const k of ['bulk/1', 'bulk/2', 'bulk/3']) expect((await e.put(k, k)).status).toBe(201)
    const res = await e.t.call('POST', `${e.base}/objects/delete`, {
      as: e.user,
      json: { keys: [{ key: 'bulk/1' }, { key: 'bulk/2' }, { key: 'bulk/3' }, { key: 'bad/../key' }] },
    })
    expect(res.status).toBe(200)
    const body = await json<{ deleted: Array<{ key: string }>; errors: Array<{ key: string; code: string; message: string }> }>(res)
    expect(body.deleted.map((d) => d.key).sort()).toEqual(['bulk/1', 'bulk/2', 'bulk/3'])
    expect(body.errors).toEqual([{ key: 'bad/../key', code: 'invalid_key', message: expect.any(String) }])
    for (const k of ['bulk/1', 'bulk/2', 'bulk/3']) expect(await exists(k)).toBe(false)
    const row = (await auditRows(e.t, 'object.bulk_delete'))[0]!
    expect(row.detail).toMatchObject({ requested: 4, deleted: 3, failed: 1 })
    const outcomes = (row.detail.keys as Array<{ key: string; outcome: string }>).map((k) => `${k.key}:${k.outcome}`).sort()
    expect(outcomes).toEqual(['bad/../key:failed', 'bulk/1:deleted', 'bulk/2:deleted', 'bulk/3:deleted'])
  })

  test('bulk delete caps: more than 1000 keys or an empty list is 400; a body over 1 MiB is 413', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ key: `k${i}` }))
    expect((await e.t.call('POST', `${e.base}/objects/delete`, { as: e.user, json: { keys: many } })).status).toBe(400)
    expect((await e.t.call('POST', `${e.base}/objects/delete`, { as: e.user, json: { keys: [] } })).status).toBe(400)
    const huge = await e.t.call('POST', `${e.base}/objects/delete`, { as: e.user, json: { keys: [{ key: 'x'.repeat(1100 * 1024) }] } })
    expect(huge.status).toBe(413)
    expect(await errorCode(huge)).toBe('too_large')
  })

  test('delete-prefix streams NDJSON progress and removes everything under the prefix', async () => {
    const keys = ['tree/a', 'tree/b/c', 'tree/b/d', 'tree/e/']
    for (const k of keys) expect((await e.put(k, 'x')).status).toBe(201)
    expect((await e.put('treehouse', 'keep')).status).toBe(201)
    const res = await e.t.call('POST', `${e.base}/objects/delete-prefix`, { as: e.user, json: { prefix: 'tree/' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('application/x-ndjson')
    const events = await ndjson(res)
    expect(events[0]).toEqual({ event: 'start', prefix: 'tree/' })
    expect(
      events
        .filter((x) => x.event === 'object')
        .map((x) => x.key)
        .sort(),
    ).toEqual(keys)
    expect(events.at(-1)).toEqual({ event: 'done', deleted: 4, failed: 0 })
    for (const k of keys) expect(await exists(k)).toBe(false)
    expect(await exists('treehouse')).toBe(true)
    const row = (await auditRows(e.t, 'object.delete_prefix'))[0]!
    expect(row.status).toBe('ok')
    expect(row.detail).toMatchObject({ prefix: 'tree/', deleted: 4, failed: 0, cancelled: false })
    expect((row.detail.keys as string[]).sort()).toEqual(keys)
  })

  test('delete-prefix refuses the empty prefix and prefixes without "/"', async () => {
    for (const prefix of ['', 'tree']) {
      const res = await e.t.call('POST', `${e.base}/objects/delete-prefix`, { as: e.user, json: { prefix } })
      expect(res.status).toBe(400)
      expect(await errorCode(res)).toBe('invalid_prefix')
    }
  })

  test('delete-prefix stops when the client goes away and reports cancelled', async () => {
    for (let i = 0; i < 12; i++) expect((await e.put(`slow/${String(i).padStart(2, '0')}`, 'x')).status).toBe(201)
    const backend = e.backend() as { listObjects: (b: string, o: ListOptions) => Promise<unknown> }
    const original = backend.listObjects.bind(backend)
    backend.listObjects = async (b, o) => {
      await Bun.sleep(40)
      return original(b, { ...o, maxKeys: 3 })
    }
    try {
      const abort = new AbortController()
      const res = await e.t.s.fetch(
        new Request(`http://localhost${e.base}/objects/delete-prefix`, {
          method: 'POST',
          headers: { cookie: e.user.cookie, 'x-csrf-token': e.user.csrf, 'content-type': 'application/json' },
          body: JSON.stringify({ prefix: 'slow/' }),
          signal: abort.signal,
        }),
      )
      const reader = res.body!.getReader()
      let text = ''
      while (!text.includes('"object"')) text += new TextDecoder().decode((await reader.read()).value)
      abort.abort()
      for (;;) {
        const r = await reader.read()
        if (r.done) break
        text += new TextDecoder().decode(r.value)
      }
      const done = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .at(-1)!
      expect(done).toMatchObject({ event: 'done', cancelled: true })
      expect(done.deleted as number).toBeLessThan(12)
      await Bun.sleep(150)
      backend.listObjects = original
      const left = await json<{ objects: unknown[] }>(await e.t.call('GET', `${e.base}/objects?prefix=slow/&delimiter=`, { as: e.reader }))
      expect(left.objects.length).toBe(12 - (done.deleted as number))
      expect((await auditRows(e.t, 'object.delete_prefix'))[0]!.detail).toMatchObject({ prefix: 'slow/', cancelled: true })
    } finally {
      backend.listObjects = original
    }
  }, 30_000)
})
