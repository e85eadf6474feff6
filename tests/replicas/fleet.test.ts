// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Two `stowage serve` processes on one PostgreSQL database and one shared
 * `fs` backend directory, as a load balancer without stickiness would use
 * them: a session made on one replica works on the other and a sign-out on
 * one ends it on both; an account locks after exactly its 5 wrong passwords
 * however they are spread over the replicas; a share capped at 5 downloads gives exactly 5 under 50
 * concurrent downloads spread over both; concurrent uploads through both
 * replicas add up exactly in the bucket's usage; a backend secret sealed on
 * one replica opens on the other (one master key). Needs PG_URL, a PostgreSQL
 * server (`npm test` starts one for its PostgreSQL pass), and the test RGW.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { ServerProcess, Session } from '../helpers/server-process.ts'
import { s3Env } from '../helpers/s3.ts'
import { replicaPair, type Pair } from './pair.ts'

const BUCKET = 'fleet'

describe('two replicas on one PostgreSQL', () => {
  let a: ServerProcess
  let b: ServerProcess
  let admin: Session
  let pair: Pair

  beforeAll(async () => {
    pair = await replicaPair({ bucket: BUCKET })
    ;({ a, b } = pair)
    admin = await a.signIn()
  }, 120_000)

  afterAll(() => pair?.dispose(), 60_000)

  const upload = (on: ServerProcess, key: string, body: string): Promise<Response> =>
    on.call(admin, 'POST', `/api/backends/local/buckets/${BUCKET}/object?key=${encodeURIComponent(key)}`, {
      body,
      headers: { 'content-type': 'text/plain', 'content-length': String(body.length) },
    })

  test('a session made on one replica works on the other, and a sign-out on either ends it everywhere', async () => {
    const s = await b.signIn()
    expect((await a.call(s, 'GET', '/api/me')).status).toBe(200)
    expect((await b.call(s, 'GET', '/api/me')).status).toBe(200)
    expect((await a.call(s, 'POST', '/auth/logout')).status).toBe(200)
    expect((await b.call(s, 'GET', '/api/me')).status).toBe(401)
    expect((await a.call(s, 'GET', '/api/me')).status).toBe(401)
  })

  test('wrong passwords spread over both replicas lock the account at exactly the fifth, on both', async () => {
    const password = 'a long enough passphrase 42'
    const made = await a.call(admin, 'POST', '/api/admin/users', { json: { username: 'lockme', password, role: 'user', must_change_pw: false } })
    expect(made.status).toBe(201)
    const attempt = async (on: ServerProcess, pw: string): Promise<string> => {
      const res = await fetch(`${on.url}/auth/login/local`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'lockme', password: pw }),
      })
      return `${res.status} ${((await res.json()) as { error?: { code: string } }).error?.code ?? 'ok'}`
    }
    // Two wrong on each replica, then the right one: not locked, and the count starts again.
    for (const on of [a, b, a, b]) expect(await attempt(on, 'wrong')).toBe('401 invalid_credentials')
    expect(await attempt(b, password)).toBe('200 ok')
    // Five wrong, at most three on one replica: the fifth locks the account for both.
    for (const on of [a, b, a, b, a]) expect(await attempt(on, 'wrong')).toBe('401 invalid_credentials')
    expect(await attempt(b, password)).toBe('429 account_locked')
    expect(await attempt(a, password)).toBe('429 account_locked')
  })

  test('a share capped at 5 gives exactly 5 of 50 concurrent downloads spread over both replicas', async () => {
    expect((await upload(a, 'capped.txt', 'capped body')).status).toBe(201)
    const made = await b.call(admin, 'POST', '/api/shares', { json: { backend_id: 'local', bucket: BUCKET, key: 'capped.txt', max_downloads: 5 } })
    expect(made.status).toBe(201)
    const { code } = (await made.json()) as { code: string }
    const downloads = await Promise.all(Array.from({ length: 50 }, (_, i) => fetch(`${(i % 2 ? a : b).url}/s/${code}/raw`)))
    const statuses = downloads.map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(5)
    expect(statuses.filter((s) => s === 410)).toHaveLength(45)
    for (const r of downloads) if (r.status === 200) expect(await r.text()).toBe('capped body')
    // The count is the database's, so both replicas refuse the 51st.
    expect((await fetch(`${a.url}/s/${code}/raw`)).status).toBe(410)
    expect((await fetch(`${b.url}/s/${code}/raw`)).status).toBe(410)
  }, 60_000)

  test('uploads through both replicas at once add up exactly in the bucket usage', async () => {
    expect((await a.call(admin, 'PUT', `/api/backends/local/buckets/${BUCKET}/quota`, { json: { hard_bytes: 10_000_000 } })).status).toBe(200)
    type Quota = { has_usage: boolean; usage_bytes?: number; object_count?: number }
    const quota = async (on: ServerProcess): Promise<Quota> =>
      (await (await on.call(admin, 'GET', `/api/backends/local/buckets/${BUCKET}/quota`)).json()) as Quota
    let before: Quota = { has_usage: false }
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && !before.has_usage; await Bun.sleep(100)) before = await quota(b)
    expect(before.has_usage).toBe(true)
    const body = 'x'.repeat(1000)
    const puts = await Promise.all(Array.from({ length: 20 }, (_, i) => upload(i % 2 ? a : b, `many/${i}.txt`, body)))
    expect(puts.map((r) => r.status)).toEqual(Array(20).fill(201))
    for (const on of [a, b]) {
      const after = await quota(on)
      expect([after.usage_bytes, after.object_count]).toEqual([before.usage_bytes! + 20_000, before.object_count! + 20])
    }
  }, 60_000)

  test('a backend whose secret was sealed on one replica is usable on the other', async () => {
    const rgw = s3Env()
    const made = await a.call(admin, 'POST', '/api/admin/backends', {
      json: {
        id: 'shared-rgw',
        endpoint: rgw.endpoint,
        region: rgw.region,
        path_style: true,
        access_key: rgw.accessKey,
        secret_key: rgw.secretKey,
      },
    })
    expect(made.status).toBe(201)
    let status = 0
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && status !== 200; await Bun.sleep(100))
      status = (await b.call(admin, 'GET', '/api/backends/shared-rgw/buckets')).status
    expect(status).toBe(200)
  })
})
