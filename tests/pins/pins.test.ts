// SPDX-License-Identifier: AGPL-3.0-or-later
/** Per-user pinned buckets. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { errorCode, type Client } from '../helpers/app.ts'
import { KINDS, storageApp, type StorageApp } from '../quotas/storage-fixture.ts'

// RGW shares the machine with other suites; a busy moment must not fail a test on Bun's 5 s default.
setDefaultTimeout(20_000)

describe.each(KINDS)('pins on %s', (kind) => {
  let app: StorageApp
  let user: Client
  let other: Client

  beforeAll(async () => {
    app = await storageApp(kind)
    user = await app.t.user('user')
    other = await app.t.user('user')
  })
  afterAll(() => app.cleanup())

  const pins = async (as: Client) => ((await (await app.t.call('GET', '/api/me/pins', { as })).json()) as { pins: Array<Record<string, string>> }).pins

  test('pin, pin again (idempotent), list, unpin', async () => {
    const b = await app.bucket('pin')
    expect(await pins(user)).toEqual([])
    const first = await app.t.call('POST', '/api/me/pins', { as: user, json: { backend_id: app.bid, bucket: b } })
    expect(first.status).toBe(201)
    const pin = (await first.json()) as Record<string, string>
    expect(pin).toMatchObject({ backend_id: app.bid, bucket: b })
    expect(Date.parse(pin.created_at!)).toBeGreaterThan(0)
    const again = await app.t.call('POST', '/api/me/pins', { as: user, json: { backend_id: app.bid, bucket: b } })
    expect(again.status).toBe(201)
    expect(await again.json()).toEqual(pin)
    expect(await pins(user)).toEqual([pin])
    expect(await pins(other)).toEqual([])

    expect((await app.t.call('DELETE', `/api/me/pins/${app.bid}/${b}`, { as: other })).status).toBe(204)
    expect(await pins(user)).toEqual([pin])
    expect((await app.t.call('DELETE', `/api/me/pins/${app.bid}/${b}`, { as: user })).status).toBe(204)
    expect(await pins(user)).toEqual([])
    expect((await app.t.call('DELETE', `/api/me/pins/${app.bid}/${b}`, { as: user })).status).toBe(204)
  })

  test('the backend must exist and the bucket name be valid', async () => {
    const unknown = await app.t.call('POST', '/api/me/pins', { as: user, json: { backend_id: 'nope', bucket: 'abc' } })
    expect(unknown.status).toBe(404)
    const bad = await app.t.call('POST', '/api/me/pins', { as: user, json: { backend_id: app.bid, bucket: 'Not_A_Bucket' } })
    expect(bad.status).toBe(400)
    expect(await errorCode(bad)).toBe('invalid_bucket_name')
    const missing = await app.t.call('POST', '/api/me/pins', { as: user, json: { backend_id: app.bid } })
    expect(missing.status).toBe(400)
  })

  test('pins are listed oldest first and vanish with their bucket', async () => {
    const [x, y] = [await app.bucket('pin-x'), await app.bucket('pin-y')]
    await app.t.call('POST', '/api/me/pins', { as: other, json: { backend_id: app.bid, bucket: x } })
    await Bun.sleep(5)
    await app.t.call('POST', '/api/me/pins', { as: other, json: { backend_id: app.bid, bucket: y } })
    expect((await pins(other)).map((p) => p.bucket)).toEqual([x, y])
    await app.t.s.accounting.forget(app.bid, x)
    expect((await pins(other)).map((p) => p.bucket)).toEqual([y])
  })
})
