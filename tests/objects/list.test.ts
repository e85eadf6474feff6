// SPDX-License-Identifier: AGPL-3.0-or-later
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { errorCode } from '../helpers/app.ts'
import { json, KINDS, objectEnv, type Env } from './fixture.ts'

type Listing = {
  prefix: string
  delimiter: string
  common_prefixes: string[]
  is_truncated: boolean
  next_continuation_token?: string
  objects: Array<{ key: string; size: number; etag?: string; last_modified?: string }>
}

describe.each(KINDS)('listing on %s', (kind) => {
  let e: Env
  const keys = ['a.txt', 'b/1.txt', 'b/2.txt', 'b/c/3.txt', 'd/4.txt', 'e.txt', 'photos/2024-01.jpg', 'photos/2024-02.jpg', 'photos/2025-01.jpg']
  beforeAll(async () => {
    e = await objectEnv(kind)
    for (const k of keys) expect((await e.put(k, `body of ${k}`)).status).toBe(201)
  }, 60_000)
  afterAll(() => e.close(), 60_000)

  const list = async (qs = ''): Promise<Listing> => json<Listing>(await e.t.call('GET', `${e.base}/objects${qs}`, { as: e.reader }))

  test('no delimiter parameter means one level ("/")', async () => {
    const l = await list()
    expect(l.delimiter).toBe('/')
    expect(l.prefix).toBe('')
    expect(l.objects.map((o) => o.key)).toEqual(['a.txt', 'e.txt'])
    expect(l.common_prefixes).toEqual(['b/', 'd/', 'photos/'])
    expect(l.is_truncated).toBe(false)
    expect(l.next_continuation_token).toBeUndefined()
    const o = l.objects[0]!
    expect(o.size).toBe('body of a.txt'.length)
    expect(typeof o.last_modified).toBe('string')
  })

  test('an empty delimiter lists flat', async () => {
    const l = await list('?delimiter=')
    expect(l.delimiter).toBe('')
    expect(l.objects.map((o) => o.key)).toEqual(keys)
    expect(l.common_prefixes).toEqual([])
  })

  test('prefix narrows, and may end mid-name', async () => {
    expect((await list('?prefix=b/')).objects.map((o) => o.key)).toEqual(['b/1.txt', 'b/2.txt'])
    expect((await list('?prefix=b/')).common_prefixes).toEqual(['b/c/'])
    expect((await list('?prefix=photos/2024-&delimiter=')).objects.map((o) => o.key)).toEqual(['photos/2024-01.jpg', 'photos/2024-02.jpg'])
  })

  test('max_keys pages with continuation tokens until done', async () => {
    const seen: string[] = []
    let token: string | undefined
    let pages = 0
    do {
      const l = await list(`?delimiter=&max_keys=4${token ? `&token=${encodeURIComponent(token)}` : ''}`)
      seen.push(...l.objects.map((o) => o.key))
      token = l.next_continuation_token
      expect(l.is_truncated).toBe(token !== undefined)
      pages++
    } while (token)
    expect(pages).toBe(3)
    expect(seen).toEqual(keys)
  })

  test('max_keys out of 1..1000 and bad prefixes are 400', async () => {
    for (const qs of ['?max_keys=0', '?max_keys=1001', '?max_keys=abc']) {
      const res = await e.t.call('GET', `${e.base}/objects${qs}`, { as: e.reader })
      expect(res.status).toBe(400)
      expect(await errorCode(res)).toBe('bad_request')
    }
    const bad = await e.t.call('GET', `${e.base}/objects?prefix=${encodeURIComponent('a/../b')}`, { as: e.reader })
    expect(bad.status).toBe(400)
    expect(await errorCode(bad)).toBe('invalid_prefix')
  })

  test('an unknown bucket is 404', async () => {
    const res = await e.t.call('GET', `/api/backends/${e.bid}/buckets/no-such-bucket-y/objects`, { as: e.reader })
    expect(res.status).toBe(404)
  })
})
