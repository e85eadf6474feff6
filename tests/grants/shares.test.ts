// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Share links follow their creator's grants: a user may share only what they
 * may read, and a link stops working (410 `access_revoked`, on the info, raw
 * and HEAD endpoints alike, for a recipient mid-download too) as soon as its
 * creator cannot read its target any more — a revoked grant, a group left at
 * the next sign-in, a deleted account — and works again once they can.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { cookiesOf, type Client } from '../helpers/app.ts'
import { KINDS } from '../helpers/kinds.ts'
import { codeOf, grantsApp, type GrantsApp } from './fixture.ts'

setDefaultTimeout(60_000)

type Share = { id: string; code: string; status: string }

describe.each(KINDS)('share links on %s', (kind) => {
  let app: GrantsApp
  let bucket: string
  let owner: Client

  beforeAll(async () => {
    app = await grantsApp(kind)
    bucket = await app.bucket('gshare')
    for (const key of ['team/a/doc.txt', 'team/a/sub/more.txt', 'team/b/secret.txt']) await app.put(bucket, key, `bytes of ${key}`)
    owner = await app.t.user('user')
  })
  afterAll(() => app.cleanup())

  const share = (key: string, as = owner): Promise<Response> => app.t.call('POST', '/api/shares', { as, json: { backend_id: app.bid, bucket, key } })
  const raw = (code: string, cookie = ''): Promise<Response> => app.t.call('GET', `/s/${code}/raw`, { headers: cookie ? { cookie } : {} })
  /** The status of a download, its body read (an fs file stays open until it is). */
  const fetched = async (code: string): Promise<number> => {
    const res = await raw(code)
    await res.arrayBuffer()
    return res.status
  }
  const mine = async (id: string): Promise<string> => (await app.ok<{ shares: Share[] }>('GET', '/api/shares', owner)).shares.find((s) => s.id === id)!.status

  test('only what the creator may read can be shared', async () => {
    const none = await share('team/a/doc.txt')
    expect(none.status).toBe(403)
    expect(await codeOf(none)).toBe('access_denied')
    await app.grant({ user_id: owner.userId, backend_id: app.bid, bucket, prefix: 'team/a/', access: 'read' })
    expect((await share('team/a/doc.txt')).status).toBe(201)
    expect((await share('team/a/')).status).toBe(201)
    for (const outside of ['team/b/secret.txt', 'team/', 'team/a/../b/secret.txt']) {
      const res = await share(outside)
      expect([outside, res.status]).toEqual([outside, 403])
    }
  })

  test('a revoked grant closes the link at once; a new grant opens it again', async () => {
    await app.grant({ user_id: owner.userId, backend_id: app.bid, bucket, prefix: 'team/a/sub/', access: 'read' })
    const created = (await (await share('team/a/sub/more.txt')).json()) as Share
    const first = await raw(created.code)
    expect(first.status).toBe(200)
    expect(await first.text()).toBe('bytes of team/a/sub/more.txt')
    // A recipient holding a download grant (a video's Range requests) is refused too.
    const grantCookie = cookiesOf(first)

    // The broader folder grant of the first test still covers it; take both away.
    const all = await app.ok<{ grants: Array<{ id: string }> }>('GET', `/api/admin/grants?user_id=${owner.userId}`, app.admin)
    for (const x of all.grants) await app.revoke(x.id)
    for (const res of [await raw(created.code), await raw(created.code, grantCookie), await app.t.call('GET', `/s/${created.code}/info`)]) {
      expect(res.status).toBe(410)
      expect(await codeOf(res)).toBe('access_revoked')
    }
    expect((await app.t.call('HEAD', `/s/${created.code}/raw`)).status).toBe(410)
    expect(await mine(created.id)).toBe('access_revoked')

    await app.grant({ user_id: owner.userId, backend_id: app.bid, bucket, access: 'read' })
    expect(await fetched(created.code)).toBe(200)
    expect(await mine(created.id)).toBe('active')
  })

  test('a group grant lost at the next sign-in closes the links made through it', async () => {
    const member = await app.t.user('user')
    await app.t.s.access.recordGroups(member.userId, ['readers'])
    await app.grant({ group: 'readers', backend_id: app.bid, bucket, prefix: 'team/b/', access: 'read' })
    const created = (await (await share('team/b/secret.txt', member)).json()) as Share
    expect(await fetched(created.code)).toBe(200)
    await app.t.s.access.recordGroups(member.userId, ['others'])
    expect(await fetched(created.code)).toBe(410)
  })

  test('the links of a deleted account close', async () => {
    const leaver = await app.t.user('user')
    await app.grant({ user_id: leaver.userId, backend_id: app.bid, bucket, access: 'read' })
    const created = (await (await share('team/a/doc.txt', leaver)).json()) as Share
    expect(await fetched(created.code)).toBe(200)
    expect((await app.t.call('DELETE', `/api/admin/users/${leaver.userId}`, { as: app.admin })).status).toBe(204)
    const res = await app.t.call('GET', `/s/${created.code}/info`)
    expect(res.status).toBe(410)
    expect(await codeOf(res)).toBe('access_revoked')
  })
})
