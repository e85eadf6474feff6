// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A folder's deleted keys under a grant on a folder below the bucket root:
 * above the granted folder the browser shows only the way down to it, so no
 * deleted key there is the caller's to see (and asking is not an error);
 * inside it, they are listed; beside it, refused.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Client } from '../helpers/app.ts'
import { codeOf, grantsApp, type GrantsApp } from './fixture.ts'

let app: GrantsApp
let user: Client
let bucket: string

beforeAll(async () => {
  app = await grantsApp('fs')
  bucket = await app.bucket('g-deleted')
  const be = app.backend()
  await be.setVersioning(bucket, true)
  for (const key of ['top.txt', 'in/a.txt', 'out/b.txt']) {
    await app.put(bucket, key, `bytes of ${key}`)
    await be.deleteObject(bucket, key)
  }
  user = await app.t.user('user')
  await app.grant({ user_id: user.userId, backend_id: app.bid, bucket, prefix: 'in/', access: 'read' })
})

afterAll(async () => {
  const be = app.backend()
  for (const key of ['top.txt', 'in/a.txt', 'out/b.txt'])
    for (const v of await be.listObjectVersions(bucket, key)) await be.deleteObject(bucket, key, { versionId: v.versionId })
  await app.cleanup()
})

const deleted = async (prefix: string): Promise<Response> =>
  app.t.call('GET', `${app.base(bucket)}/objects/deleted?prefix=${encodeURIComponent(prefix)}`, { as: user })

test('above the granted folder: versioned, nothing deleted shown', async () => {
  const res = await deleted('')
  expect(res.status).toBe(200)
  expect(await res.json()).toEqual({ versioned: true, deleted: [] })
})

test('inside it: its deleted keys; beside it: refused', async () => {
  const inside = await deleted('in/')
  expect(inside.status).toBe(200)
  expect(((await inside.json()) as { deleted: Array<{ key: string }> }).deleted.map((d) => d.key)).toEqual(['in/a.txt'])
  const beside = await deleted('out/')
  expect(beside.status).toBe(403)
  expect(await codeOf(beside)).toBe('access_denied')
})
