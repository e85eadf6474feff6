// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bucket-name prefixes and `owner` access in credential scopes, through the
 * dashboard API on RGW: only admins grant them; users keep minting exact
 * buckets with read or read-write and may keep or narrow, never widen, what
 * an admin gave them; prefixes are validated (charset, length, case) and
 * need no bucket; the proxy's table and the audit log follow.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { errorCode, resolved } from '../helpers/app.ts'
import { auditRows, json, objectEnv, type Env } from '../objects/fixture.ts'

type Scope = { bucket: string; access: string } | { prefix: string; access: string }
type Cred = { access_key: string; buckets: Scope[]; bucket_urls: Record<string, string>; user_id?: string }

let e: Env
beforeAll(async () => {
  e = await objectEnv('rgw', { app: { s3_proxy: { enabled: true, listen: '127.0.0.1:18091' } } })
})
afterAll(() => e.close())

const adminMint = (body: Record<string, unknown>): Promise<Response> =>
  e.t.call('POST', '/api/admin/s3-credentials', { as: e.admin, json: { backend_id: e.bid, ...body } })
const selfMint = (body: Record<string, unknown>, as = e.user): Promise<Response> =>
  e.t.call('POST', '/api/me/s3-credentials', { as, json: { backend_id: e.bid, ...body } })

describe('admins grant prefixes and owner access', () => {
  test('a prefix needs no existing bucket; entries keep their kind; URLs are for exact buckets only', async () => {
    const res = await adminMint({
      buckets: [{ prefix: 'team-a-', access: 'owner' }, { bucket: e.bucket, access: 'owner' }, { prefix: 'shared-' }],
      user_id: e.user.userId,
    })
    expect(res.status).toBe(201)
    const c = await json<Cred>(res)
    expect(c.buckets).toEqual([
      { prefix: 'team-a-', access: 'owner' },
      { bucket: e.bucket, access: 'owner' },
      { prefix: 'shared-', access: 'read-write' },
    ])
    expect(Object.keys(c.bucket_urls)).toEqual([e.bucket])
    const live = (await resolved(e.t, c.access_key, Date.now()))!
    expect(live.prefixes).toEqual([
      { prefix: 'team-a-', access: 'owner' },
      { prefix: 'shared-', access: 'read-write' },
    ])
    expect([...live.scopes]).toEqual([[e.bucket, 'owner']])
    const row = (await auditRows(e.t, 's3_credential.create')).find((r) => r.detail.access_key === c.access_key)!
    expect(row.detail.buckets).toEqual(c.buckets)
    expect(row.detail.self).toBe(false)
  })

  test.each([
    ['empty', ''],
    ['upper case', 'Team-a-'],
    ['starting with a dash', '-team'],
    ['starting with a dot', '.team'],
    ['an underscore', 'team_a-'],
    ['a slash', 'team/a-'],
    ['two dots', 'team..a'],
    ['63 characters', 'a'.repeat(63)],
    ['a space', 'team a'],
    ['percent-encoding', 'team%2Da'],
  ])('a prefix with %s is 400 invalid_bucket_prefix, naming the entry', async (_, prefix) => {
    const res = await adminMint({ buckets: [{ bucket: e.bucket }, { prefix, access: 'read' }] })
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe('invalid_bucket_prefix')
    expect(((await res.json()) as { error: { detail: unknown } }).error.detail).toEqual([{ path: '/buckets/1' }])
  })

  test('1 and 62 characters are fine; the same prefix twice, or a bucket and a prefix in one entry, are not', async () => {
    expect(
      (
        await adminMint({
          buckets: [
            { prefix: 'a', access: 'read' },
            { prefix: 'b'.repeat(62), access: 'read' },
          ],
        })
      ).status,
    ).toBe(201)
    const twice = await adminMint({ buckets: [{ prefix: 'x-' }, { prefix: 'x-', access: 'read' }] })
    expect(twice.status).toBe(400)
    expect(await errorCode(twice)).toBe('invalid_request')
    expect((await adminMint({ buckets: [{ bucket: e.bucket, prefix: 'x-' }] })).status).toBe(400)
    expect((await adminMint({ buckets: [{ prefix: 'x-', access: 'admin' }] })).status).toBe(400)
  })

  test('an exact owner entry still needs the bucket to exist', async () => {
    const res = await adminMint({ buckets: [{ bucket: `no-such-${Date.now()}`, access: 'owner' }] })
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe('invalid_request')
  })
})

describe('users mint exact buckets only', () => {
  test('a prefix or owner access on the self-service route is 403 admin_only_scope, for admins too', async () => {
    for (const as of [e.user, e.admin]) {
      for (const buckets of [[{ prefix: 'mine-' }], [{ prefix: 'mine-', access: 'read' }], [{ bucket: e.bucket, access: 'owner' }]]) {
        const res = await selfMint({ buckets }, as)
        expect(res.status).toBe(403)
        expect(await errorCode(res)).toBe('admin_only_scope')
      }
    }
    expect((await selfMint({ buckets: [{ bucket: e.bucket, access: 'read' }] })).status).toBe(201)
  })

  test('a user keeps or narrows what an admin granted, never widens or adds', async () => {
    const granted = await json<Cred>(
      await adminMint({
        buckets: [
          { prefix: 'team-u-', access: 'read-write' },
          { bucket: e.bucket, access: 'owner' },
        ],
        user_id: e.user.userId,
      }),
    )
    const patch = (buckets: Scope[]): Promise<Response> => e.t.call('PATCH', `/api/me/s3-credentials/${granted.access_key}`, { as: e.user, json: { buckets } })
    expect(
      (
        await patch([
          { prefix: 'team-u-', access: 'read-write' },
          { bucket: e.bucket, access: 'owner' },
        ])
      ).status,
    ).toBe(200)
    const narrowed = await patch([
      { prefix: 'team-u-', access: 'read' },
      { bucket: e.bucket, access: 'read-write' },
    ])
    expect(narrowed.status).toBe(200)
    expect((await json<Cred>(narrowed)).buckets).toEqual([
      { prefix: 'team-u-', access: 'read' },
      { bucket: e.bucket, access: 'read-write' },
    ])
    for (const widen of [
      [{ prefix: 'team-u-', access: 'read-write' }],
      [
        { prefix: 'team-u-', access: 'read' },
        { prefix: 'team-v-', access: 'read' },
      ],
      [{ bucket: e.bucket, access: 'owner' }],
      [{ prefix: 'team-', access: 'read' }],
    ]) {
      const res = await patch(widen)
      expect(res.status).toBe(403)
      expect(await errorCode(res)).toBe('admin_only_scope')
    }
    // The refusals changed nothing.
    expect((await resolved(e.t, granted.access_key, Date.now()))!.prefixes).toEqual([{ prefix: 'team-u-', access: 'read' }])
    // Other fields still change on the user's own route.
    expect((await e.t.call('PATCH', `/api/me/s3-credentials/${granted.access_key}`, { as: e.user, json: { description: 'mine' } })).status).toBe(200)
    // The admin route widens again.
    expect(
      (await e.t.call('PATCH', `/api/admin/s3-credentials/${granted.access_key}`, { as: e.admin, json: { buckets: [{ prefix: 'team-u-', access: 'owner' }] } }))
        .status,
    ).toBe(200)
  })
})
