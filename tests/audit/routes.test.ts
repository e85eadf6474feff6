// SPDX-License-Identifier: AGPL-3.0-or-later
/** GET /api/admin/audit: filters, paging, newest first, and a total. */
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from 'bun:test'
import { testApp, type Client, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

type Event = {
  id: number
  timestamp: string
  user_id?: string
  action: string
  backend?: string
  bucket?: string
  key?: string
  status: string
  detail?: string
  ip?: string
}
type Page = { events: Event[]; total: number }

let t: TestApp
let admin: Client
const T0 = Date.UTC(2026, 2, 1, 0, 0, 0)
const H = 3_600_000

beforeAll(async () => {
  t = await testApp()
  admin = await t.user('admin')
  const rec = (e: Parameters<typeof t.s.audit.record>[0]) => void t.s.audit.record(e)
  rec({ ts: T0, action: 'object.upload', userId: 'u-1', backend: 'nas', bucket: 'photos', key: 'a.jpg', status: 'ok' })
  rec({ ts: T0 + 1 * H, action: 'object.delete', userId: 'u-1', backend: 'nas', bucket: 'photos', key: 'a.jpg', status: 'ok' })
  rec({ ts: T0 + 2 * H, action: 'object.upload', userId: 'u-2', username: 'Grace', backend: 'minio', bucket: 'docs', key: 'b.pdf', status: 'error' })
  rec({ ts: T0 + 3 * H, action: 'share.create', userId: 'u-2', username: 'Grace', backend: 'minio', bucket: 'docs', status: 'ok' })
  rec({ ts: T0 + 4 * H, action: 'objectXdelete', userId: 'u-3', status: 'denied' })
  rec({ ts: T0 + 5 * H, action: 'object_upload', userId: 'u-3', status: 'ok' })
  await t.s.audit.flush()
})
afterAll(() => t.close())

const get = async (q: string): Promise<Page> => {
  const res = await t.call('GET', `/api/admin/audit?${q}`, { as: admin })
  if (res.status !== 200) throw new Error(`${q}: ${res.status} ${await res.text()}`)
  return (await res.json()) as Page
}
const actions = (p: Page) => p.events.map((e) => `${e.action}@${(Date.parse(e.timestamp) - T0) / H}`)
const inWindow = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 5 * H).toISOString()}`

test('newest first, with the DTO fields', async () => {
  const p = await get(inWindow)
  expect(p.total).toBe(6)
  expect(actions(p)).toEqual(['object_upload@5', 'objectXdelete@4', 'share.create@3', 'object.upload@2', 'object.delete@1', 'object.upload@0'])
  expect(p.events.at(-1)).toMatchObject({ user_id: 'u-1', action: 'object.upload', backend: 'nas', bucket: 'photos', key: 'a.jpg', status: 'ok' })
})

test('user is an exact user id', async () => {
  expect(actions(await get(`${inWindow}&user=u-2`))).toEqual(['share.create@3', 'object.upload@2'])
  expect((await get(`${inWindow}&user=u-`)).total).toBe(0)
})

test("username is the actor's name in any case, never a part of it", async () => {
  expect(actions(await get(`${inWindow}&username=grace`))).toEqual(['share.create@3', 'object.upload@2'])
  expect(actions(await get(`${inWindow}&username=GRACE`))).toEqual(['share.create@3', 'object.upload@2'])
  expect((await get(`${inWindow}&username=gra`)).total).toBe(0)
})

test('action is a prefix, with LIKE wildcards taken literally', async () => {
  expect(actions(await get(`${inWindow}&action=object.`))).toEqual(['object.upload@2', 'object.delete@1', 'object.upload@0'])
  expect(actions(await get(`${inWindow}&action=object.delete`))).toEqual(['object.delete@1'])
  expect(actions(await get(`${inWindow}&action=object_`))).toEqual(['object_upload@5'])
  expect((await get(`${inWindow}&action=%25`)).total).toBe(0)
})

test('backend, bucket and status', async () => {
  expect(actions(await get(`${inWindow}&backend=nas`))).toEqual(['object.delete@1', 'object.upload@0'])
  expect(actions(await get(`${inWindow}&bucket=docs`))).toEqual(['share.create@3', 'object.upload@2'])
  expect(actions(await get(`${inWindow}&status=error`))).toEqual(['object.upload@2'])
  expect(actions(await get(`${inWindow}&status=denied`))).toEqual(['objectXdelete@4'])
  expect(actions(await get(`${inWindow}&backend=minio&status=ok`))).toEqual(['share.create@3'])
})

test('from and to are inclusive RFC 3339 bounds', async () => {
  const p = await get(`from=${new Date(T0 + 1 * H).toISOString()}&to=${new Date(T0 + 3 * H).toISOString()}`)
  expect(actions(p)).toEqual(['share.create@3', 'object.upload@2', 'object.delete@1'])
  expect((await get(`from=${new Date(T0 + 5 * H + 1).toISOString()}&to=${new Date(T0 + 6 * H).toISOString()}`)).total).toBe(0)
})

test('limit and offset page; total counts the whole filter', async () => {
  const a = await get(`${inWindow}&limit=4`)
  const b = await get(`${inWindow}&limit=4&offset=4`)
  expect(a.total).toBe(6)
  expect(b.total).toBe(6)
  expect(a.events).toHaveLength(4)
  expect(b.events).toHaveLength(2)
  expect([...a.events, ...b.events].map((e) => e.id)).toEqual((await get(inWindow)).events.map((e) => e.id))
})

test('bad filters are 400', async () => {
  for (const q of ['from=yesterday', 'to=2026-13-45', 'status=fine', 'limit=0', 'limit=1001', 'offset=-1']) {
    const res = await t.call('GET', `/api/admin/audit?${q}`, { as: admin })
    expect([q, res.status]).toEqual([q, 400])
  }
})

test('events recorded a moment ago are visible at once', async () => {
  t.s.audit.record({ action: 'test.fresh', userId: 'u-9' })
  expect((await get('action=test.fresh')).total).toBe(1)
})
