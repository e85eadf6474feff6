// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Owners' share API on fs and RGW: create (object and folder, target checked),
 * list (own; all for admins), revoke (own; any for admins; someone else's is
 * 404), the status each share reports, and the admin share policy.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { errorCode } from '../helpers/app.ts'
import { auditRows, json, KINDS, makeShare, shareEnv, type Env, type ShareDTO } from './fixture.ts'

describe.each(KINDS)('share management on %s', (kind) => {
  let e: Env
  beforeAll(async () => {
    e = await shareEnv(kind)
    for (const [key, body] of [
      ['report.pdf', '%PDF-1.4 report'],
      ['docs/a.txt', 'alpha'],
      ['docs/sub/b.txt', 'bravo'],
      ['only-folder/', ''],
    ] as const) {
      const res = await e.put(key, body)
      if (res.status !== 201) throw new Error(`${key}: ${res.status} ${await res.text()}`)
    }
  }, 60_000)
  afterAll(() => e.close(), 60_000)

  const create = (body: Record<string, unknown>, as = e.user): Promise<Response> =>
    e.t.call('POST', '/api/shares', { as, json: { backend_id: e.bid, bucket: e.bucket, ...body } })
  const list = async (query = '', as = e.user): Promise<ShareDTO[]> =>
    (await json<{ shares: ShareDTO[] }>(await e.t.call('GET', `/api/shares${query}`, { as }))).shares

  test('an object share: 201 with the documented shape, an unguessable code and an audit row', async () => {
    const expires = new Date(Date.now() + 3_600_000).toISOString()
    const res = await create({ key: 'report.pdf', expires_at: expires, password: 'open sesame', max_downloads: 3, disposition: 'inline' })
    expect(res.status).toBe(201)
    const s = await json<ShareDTO>(res)
    expect(s.code).toMatch(/^[a-z2-7]{20}$/)
    expect(s).toMatchObject({
      url: `/s/${s.code}`,
      kind: 'object',
      backend_id: e.bid,
      bucket: e.bucket,
      key: 'report.pdf',
      created_by: e.user.userId,
      created_by_username: e.user.username,
      expires_at: expires,
      has_password: true,
      max_downloads: 3,
      download_count: 0,
      downloads_left: 3,
      disposition: 'inline',
      revoked: false,
      status: 'active',
    })
    expect(s.id).toMatch(/^[0-9A-Z]{26}$/)
    expect(JSON.stringify(s)).not.toContain('open sesame')
    const a = (await auditRows(e.t, 'share.create'))[0]!
    expect(a).toMatchObject({
      status: 'ok',
      key: 'report.pdf',
      bucket: e.bucket,
      detail: { share_id: s.id, kind: 'object', has_password: true, max_downloads: 3, disposition: 'inline' },
    })
    expect(JSON.stringify(a.detail)).not.toContain(s.code)
  })

  test('a folder share: a prefix ending in "/" with at least one file', async () => {
    const s = await makeShare(e, { key: 'docs/' })
    expect(s).toMatchObject({ kind: 'folder', key: 'docs/', has_password: false, disposition: 'attachment', status: 'active' })
    expect(s.max_downloads).toBeUndefined()
    expect(s.expires_at).toBeUndefined()
  })

  test('the target must exist: a missing object or an empty folder is 404', async () => {
    for (const key of ['nope.txt', 'missing/', 'only-folder/']) {
      const res = await create({ key })
      expect(res.status).toBe(404)
      expect(await errorCode(res)).toBe('not_found')
    }
    expect((await e.t.call('POST', '/api/shares', { as: e.user, json: { backend_id: 'nope', bucket: e.bucket, key: 'report.pdf' } })).status).toBe(404)
    expect((await e.t.call('POST', '/api/shares', { as: e.user, json: { backend_id: e.bid, bucket: 'no-such-bucket-here', key: 'report.pdf' } })).status).toBe(
      404,
    )
  })

  test('bad input is 400 before any backend call', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ key: 'a/../b' }, 'invalid_key'],
      [{ key: 'x', bucket: 'Bad_Bucket' }, 'invalid_bucket_name'],
      [{ key: 'report.pdf', expires_at: new Date(Date.now() - 1000).toISOString() }, 'bad_request'],
      [{ key: 'report.pdf', expires_at: 'tomorrow' }, 'bad_request'],
      [{ key: 'report.pdf', password: 'short' }, 'bad_request'],
      [{ key: 'report.pdf', max_downloads: 0 }, 'bad_request'],
      [{ key: 'report.pdf', disposition: 'render' }, 'bad_request'],
      [{ key: '' }, 'bad_request'],
    ]
    for (const [body, code] of cases) {
      const res = await create(body)
      expect(`${JSON.stringify(body)} ${res.status} ${await errorCode(res)}`).toBe(`${JSON.stringify(body)} 400 ${code}`)
    }
  })

  test('without a policy the endpoint allows everything', async () => {
    expect(await json(await e.t.call('GET', '/api/shares/policy', { as: e.user }))).toEqual({ require_password: false, password_min_length: 6 })
  })

  test('readonly users cannot create shares', async () => {
    expect((await create({ key: 'report.pdf' }, e.reader)).status).toBe(403)
  })

  test('users list their own shares newest first; only admins may ask for all', async () => {
    const mine = await makeShare(e, { key: 'docs/a.txt' })
    const theirs = await makeShare(e, { key: 'docs/a.txt' }, e.admin)
    const own = await list()
    expect(own[0]!.id).toBe(mine.id)
    expect(own.every((s) => s.created_by === e.user.userId)).toBe(true)
    expect(own.map((s) => s.id)).not.toContain(theirs.id)
    expect((await e.t.call('GET', '/api/shares?scope=all', { as: e.user })).status).toBe(403)
    expect((await list('', e.admin)).map((s) => s.id)).not.toContain(mine.id)
    const all = await json<{ shares: ShareDTO[]; total: number }>(await e.t.call('GET', '/api/shares?scope=all', { as: e.admin }))
    expect(all.shares.map((s) => s.id)).toEqual(expect.arrayContaining([mine.id, theirs.id]))
    expect(all.total).toBeGreaterThanOrEqual(all.shares.length)
    expect(await list('', e.reader)).toEqual([])
  })

  test('revoking keeps the row; someone else’s share is 404; admins revoke any', async () => {
    const s = await makeShare(e, { key: 'report.pdf' })
    const other = await e.t.user('user')
    expect((await e.t.call('DELETE', `/api/shares/${s.id}`, { as: other })).status).toBe(404)
    expect((await e.t.call('DELETE', `/api/shares/${s.id}`, { as: e.reader })).status).toBe(403)
    expect((await e.t.call('DELETE', `/api/shares/${s.id}`, { as: e.user })).status).toBe(204)
    expect((await e.t.call('DELETE', `/api/shares/${s.id}`, { as: e.user })).status).toBe(204)
    const after = (await list()).find((x) => x.id === s.id)!
    expect(after).toMatchObject({ revoked: true, status: 'revoked' })
    expect(typeof after.revoked_at).toBe('string')
    expect((await auditRows(e.t, 'share.revoke')).filter((r) => r.detail.share_id === s.id)).toHaveLength(1)

    const victim = await makeShare(e, { key: 'report.pdf' })
    expect((await e.t.call('DELETE', `/api/shares/${victim.id}`, { as: e.admin })).status).toBe(204)
    expect((await auditRows(e.t, 'share.revoke'))[0]).toMatchObject({ status: 'ok', detail: { share_id: victim.id, owner_id: e.user.userId } })
    expect((await e.t.call('DELETE', '/api/shares/01ARZ3NDEKTSV4RRFFQ69G5FAV', { as: e.admin })).status).toBe(404)
  })

  test('status follows expiry and the download cap', async () => {
    const s = await makeShare(e, { key: 'report.pdf', max_downloads: 2 })
    await e.t.s.db.run('UPDATE shares SET download_count = 2 WHERE id = ?', [s.id])
    expect((await list()).find((x) => x.id === s.id)).toMatchObject({ status: 'exhausted', downloads_left: 0 })
    const x = await makeShare(e, { key: 'report.pdf', expires_at: new Date(Date.now() + 60_000).toISOString() })
    await e.t.s.db.run('UPDATE shares SET expires_at = ? WHERE id = ?', [Date.now() - 1, x.id])
    expect((await list()).find((y) => y.id === x.id)!.status).toBe('expired')
  })
})

describe('the admin share policy', () => {
  let e: Env
  beforeAll(async () => {
    e = await shareEnv('fs', { app: { shares: { max_lifetime: '7d', require_password: true }, server: { public_url: 'https://files.example.org/' } } })
    await e.put('f.txt', 'x')
  })
  afterAll(() => e.close())
  const day = 86_400_000
  const create = (body: Record<string, unknown>): Promise<Response> =>
    e.t.call('POST', '/api/shares', { as: e.user, json: { backend_id: e.bid, bucket: e.bucket, key: 'f.txt', ...body } })

  test('the policy endpoint tells the dialog what to offer', async () => {
    expect(await json(await e.t.call('GET', '/api/shares/policy', { as: e.reader }))).toEqual({
      max_lifetime_seconds: 7 * 86_400,
      require_password: true,
      password_min_length: 6,
    })
  })

  test('max_lifetime: an expiry is required and may not be later than the maximum', async () => {
    const noExpiry = await create({ password: 'pass phrase' })
    expect(noExpiry.status).toBe(400)
    expect(((await noExpiry.json()) as { error: { detail: Array<{ path: string }> } }).error.detail[0]!.path).toBe('/expires_at')
    expect((await create({ password: 'pass phrase', expires_at: new Date(Date.now() + 8 * day).toISOString() })).status).toBe(400)
    expect((await create({ password: 'pass phrase', expires_at: new Date(Date.now() + 7 * day).toISOString() })).status).toBe(201)
  })

  test('require_password: a share without one is refused', async () => {
    const res = await create({ expires_at: new Date(Date.now() + day).toISOString() })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { detail: Array<{ path: string }> } }).error.detail[0]!.path).toBe('/password')
  })

  test('links are absolute when server.public_url is set', async () => {
    const s = await json<ShareDTO>(await create({ password: 'pass phrase', expires_at: new Date(Date.now() + day).toISOString() }))
    expect(s.url).toBe(`https://files.example.org/s/${s.code}`)
  })
})
