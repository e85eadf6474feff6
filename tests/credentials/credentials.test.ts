// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Virtual S3 credentials through the dashboard API, on both storage kinds
 * (an fs backend is served by the S3 engine, an s3 one forwarded to): the
 * self-service and admin routes create, list, change and revoke keys,
 * validate the bucket scope, hide other users' keys and audit every change.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { errorCode, resolved } from '../helpers/app.ts'
import { auditRows, json, KINDS, objectEnv, type Env } from '../objects/fixture.ts'

type Cred = {
  access_key: string
  secret_key?: string
  backend_id: string
  buckets: Array<{ bucket: string; access: string }>
  user_id?: string
  description: string
  enabled: boolean
  expires_at?: string
  expired: boolean
  endpoint_url: string
  bucket_urls: Record<string, string>
}

const PROXY = { s3_proxy: { enabled: true, listen: '127.0.0.1:18090' } }

describe.each(KINDS)('virtual credentials on %s', (kind) => {
  let e: Env
  beforeAll(async () => {
    e = await objectEnv(kind, { app: PROXY })
  })
  afterAll(() => e.close())

  const mint = async (body: Record<string, unknown>, as = e.user, path = '/api/me/s3-credentials'): Promise<Response> =>
    e.t.call('POST', path, { as, json: { backend_id: e.bid, ...body } })

  test('a user mints a key: 20-char STW id, 40-char secret shown once, URLs, plain names mean read-write', async () => {
    const res = await mint({ buckets: [e.bucket], description: 'backup job' })
    expect(res.status).toBe(201)
    const c = await json<Cred>(res)
    expect(c.access_key).toMatch(/^STW[A-Z2-7]{17}$/)
    expect(c.secret_key).toMatch(/^[A-Za-z0-9]{40}$/)
    expect(c.buckets).toEqual([{ bucket: e.bucket, access: 'read-write' }])
    expect(c.user_id).toBe(e.user.userId)
    expect(c.enabled).toBe(true)
    expect(c.description).toBe('backup job')
    expect(c.endpoint_url).toBe('http://localhost:18090')
    expect(c.bucket_urls).toEqual({ [e.bucket]: `http://localhost:18090/${e.bucket}` })
    const list = await json<{ credentials: Cred[] }>(await e.t.call('GET', '/api/me/s3-credentials', { as: e.user }))
    const listed = list.credentials.find((x) => x.access_key === c.access_key)!
    expect(listed).toBeDefined()
    expect(listed.secret_key).toBeUndefined()
    const row = (await e.t.s.db.get('SELECT secret_key_enc FROM s3_credentials WHERE access_key = ?', [c.access_key])) as { secret_key_enc: Uint8Array }
    expect(Buffer.from(row.secret_key_enc).toString('latin1')).not.toContain(c.secret_key!)
  })

  test('scopes may mix read and read-write buckets', async () => {
    const other = await e.newBucket('ro')
    const c = await json<Cred>(await mint({ buckets: [{ bucket: e.bucket }, { bucket: other, access: 'read' }] }))
    expect(c.buckets).toEqual([
      { bucket: e.bucket, access: 'read-write' },
      { bucket: other, access: 'read' },
    ])
  })

  test('a readonly user may list but not mint, change or revoke', async () => {
    expect((await e.t.call('GET', '/api/me/s3-credentials', { as: e.reader })).status).toBe(200)
    expect((await mint({ buckets: [e.bucket] }, e.reader)).status).toBe(403)
    const c = await json<Cred>(await mint({ buckets: [e.bucket] }))
    expect((await e.t.call('PATCH', `/api/me/s3-credentials/${c.access_key}`, { as: e.reader, json: { enabled: false } })).status).toBe(403)
    expect((await e.t.call('DELETE', `/api/me/s3-credentials/${c.access_key}`, { as: e.reader })).status).toBe(403)
  })

  test("another user's key is 404 on the self-service routes and absent from their list", async () => {
    const c = await json<Cred>(await mint({ buckets: [e.bucket] }))
    const other = await e.t.user('user')
    expect((await e.t.call('PATCH', `/api/me/s3-credentials/${c.access_key}`, { as: other, json: { description: 'mine now' } })).status).toBe(404)
    expect((await e.t.call('DELETE', `/api/me/s3-credentials/${c.access_key}`, { as: other })).status).toBe(404)
    const list = await json<{ credentials: Cred[] }>(await e.t.call('GET', '/api/me/s3-credentials', { as: other }))
    expect(list.credentials).toEqual([])
    // The admin's own self-service view is also only theirs.
    const adminList = await json<{ credentials: Cred[] }>(await e.t.call('GET', '/api/me/s3-credentials', { as: e.admin }))
    expect(adminList.credentials.some((x) => x.access_key === c.access_key)).toBe(false)
  })

  test('the scope must name existing, valid, distinct buckets', async () => {
    const missing = await mint({ buckets: ['no-such-bucket-' + Date.now()] })
    expect(missing.status).toBe(400)
    expect(await errorCode(missing)).toBe('invalid_request')
    const invalid = await mint({ buckets: ['Not_A_Bucket'] })
    expect(invalid.status).toBe(400)
    expect(await errorCode(invalid)).toBe('invalid_bucket_name')
    const twice = await mint({ buckets: [e.bucket, { bucket: e.bucket, access: 'read' }] })
    expect(twice.status).toBe(400)
    expect((await mint({ buckets: [] })).status).toBe(400)
    expect((await mint({ buckets: [{ bucket: e.bucket, access: 'admin' }] })).status).toBe(400)
    const noBackend = await e.t.call('POST', '/api/me/s3-credentials', { as: e.user, json: { backend_id: 'nope', buckets: [e.bucket] } })
    expect(noBackend.status).toBe(400)
    expect(await errorCode(noBackend)).toBe('invalid_request')
  })

  test('expires_at must be in the future; "" or null clears it on PATCH', async () => {
    expect((await mint({ buckets: [e.bucket], expires_at: new Date(Date.now() - 1000).toISOString() })).status).toBe(400)
    expect((await mint({ buckets: [e.bucket], expires_at: 'tomorrow' })).status).toBe(400)
    const at = new Date(Date.now() + 3_600_000).toISOString()
    const c = await json<Cred>(await mint({ buckets: [e.bucket], expires_at: at }))
    expect(c.expires_at).toBe(at)
    const cleared = await json<Cred>(await e.t.call('PATCH', `/api/me/s3-credentials/${c.access_key}`, { as: e.user, json: { expires_at: '' } }))
    expect(cleared.expires_at).toBeUndefined()
    const nulled = await json<Cred>(await e.t.call('PATCH', `/api/me/s3-credentials/${c.access_key}`, { as: e.user, json: { expires_at: at } }))
    expect(nulled.expires_at).toBe(at)
    expect(
      (await json<Cred>(await e.t.call('PATCH', `/api/me/s3-credentials/${c.access_key}`, { as: e.user, json: { expires_at: null } }))).expires_at,
    ).toBeUndefined()
  })

  test('PATCH changes scope, description and enabled; DELETE revokes; the proxy cache follows at once', async () => {
    const other = await e.newBucket('patch')
    const c = await json<Cred>(await mint({ buckets: [e.bucket] }))
    const now = Date.now()
    expect((await resolved(e.t, c.access_key, now))?.scopes.get(e.bucket)).toBe('read-write')
    const patched = await json<Cred>(
      await e.t.call('PATCH', `/api/me/s3-credentials/${c.access_key}`, {
        as: e.user,
        json: { buckets: [{ bucket: other, access: 'read' }], description: 'x', enabled: false },
      }),
    )
    expect(patched.buckets).toEqual([{ bucket: other, access: 'read' }])
    expect(patched.description).toBe('x')
    expect(patched.enabled).toBe(false)
    expect(await resolved(e.t, c.access_key, now)).toBeUndefined()
    await e.t.call('PATCH', `/api/me/s3-credentials/${c.access_key}`, { as: e.user, json: { enabled: true } })
    const live = (await resolved(e.t, c.access_key, now))!
    expect([...live.scopes]).toEqual([[other, 'read']])
    expect((await e.t.call('DELETE', `/api/me/s3-credentials/${c.access_key}`, { as: e.user })).status).toBe(204)
    expect(await resolved(e.t, c.access_key, now)).toBeUndefined()
    expect((await e.t.call('DELETE', `/api/me/s3-credentials/${c.access_key}`, { as: e.user })).status).toBe(404)
  })

  test("a disabled or deleted owner's keys stop at once; a demoted owner's keys turn read-only", async () => {
    const owner = await e.t.user('user')
    const c = await json<Cred>(await mint({ buckets: [e.bucket] }, owner))
    const now = Date.now()
    expect((await resolved(e.t, c.access_key, now))?.readOnly).toBe(false)
    await e.t.call('PATCH', `/api/admin/users/${owner.userId}`, { as: e.admin, json: { role: 'readonly' } })
    expect((await resolved(e.t, c.access_key, now))?.readOnly).toBe(true)
    await e.t.call('PATCH', `/api/admin/users/${owner.userId}`, { as: e.admin, json: { role: 'user', enabled: false } })
    expect(await resolved(e.t, c.access_key, now)).toBeUndefined()
    await e.t.call('PATCH', `/api/admin/users/${owner.userId}`, { as: e.admin, json: { enabled: true } })
    expect(await resolved(e.t, c.access_key, now)).toBeDefined()
    expect((await e.t.call('DELETE', `/api/admin/users/${owner.userId}`, { as: e.admin })).status).toBe(204)
    expect(await resolved(e.t, c.access_key, now)).toBeUndefined()
    // The row went with the user.
    expect(await e.t.s.db.get('SELECT COUNT(*) AS n FROM s3_credentials WHERE access_key = ?', [c.access_key])).toEqual({ n: 0 })
  })

  test('an expired key no longer resolves', async () => {
    const c = await json<Cred>(await mint({ buckets: [e.bucket], expires_at: new Date(Date.now() + 60_000).toISOString() }))
    expect(await resolved(e.t, c.access_key, Date.now())).toBeDefined()
    expect(await resolved(e.t, c.access_key, Date.now() + 61_000)).toBeUndefined()
    const listed = await json<{ credentials: Cred[] }>(await e.t.call('GET', '/api/me/s3-credentials', { as: e.user }))
    expect(listed.credentials.find((x) => x.access_key === c.access_key)?.expired).toBe(false)
  })

  test('admins mint for anyone (or no one), see and change every key', async () => {
    const forUser = await json<Cred>(await mint({ buckets: [e.bucket], user_id: e.user.userId }, e.admin, '/api/admin/s3-credentials'))
    expect(forUser.user_id).toBe(e.user.userId)
    const unowned = await json<Cred>(await mint({ buckets: [e.bucket] }, e.admin, '/api/admin/s3-credentials'))
    expect(unowned.user_id).toBeUndefined()
    const ghost = await mint({ buckets: [e.bucket], user_id: 'no-such-user' }, e.admin, '/api/admin/s3-credentials')
    expect(ghost.status).toBe(400)
    const all = await json<{ credentials: Cred[] }>(await e.t.call('GET', '/api/admin/s3-credentials', { as: e.admin }))
    expect(all.credentials.map((x) => x.access_key)).toEqual(expect.arrayContaining([forUser.access_key, unowned.access_key]))
    // The user's own list shows the key the admin minted for them.
    const mine = await json<{ credentials: Cred[] }>(await e.t.call('GET', '/api/me/s3-credentials', { as: e.user }))
    expect(mine.credentials.some((x) => x.access_key === forUser.access_key)).toBe(true)
    expect(
      (await json<Cred>(await e.t.call('PATCH', `/api/admin/s3-credentials/${forUser.access_key}`, { as: e.admin, json: { enabled: false } }))).enabled,
    ).toBe(false)
    expect((await e.t.call('DELETE', `/api/admin/s3-credentials/${forUser.access_key}`, { as: e.admin })).status).toBe(204)
    expect((await e.t.call('PATCH', '/api/admin/s3-credentials/STWNOSUCHKEY', { as: e.admin, json: { enabled: false } })).status).toBe(404)
    const merged = await json<{ credentials: Array<Cred & { source: string }> }>(await e.t.call('GET', '/api/admin/s3-proxy/credentials', { as: e.admin }))
    expect(merged.credentials.length).toBeGreaterThan(0)
    expect(merged.credentials.every((x) => x.source === 'sqlite' && x.secret_key === undefined)).toBe(true)
  })

  test('every change is audited with the access key and the self flag, never the secret', async () => {
    const c = await json<Cred>(await mint({ buckets: [e.bucket], description: 'audited' }))
    await e.t.call('PATCH', `/api/me/s3-credentials/${c.access_key}`, { as: e.user, json: { description: 'changed' } })
    await e.t.call('DELETE', `/api/admin/s3-credentials/${c.access_key}`, { as: e.admin })
    for (const [action, self] of [
      ['s3_credential.create', true],
      ['s3_credential.update', true],
      ['s3_credential.delete', false],
    ] as const) {
      const row = (await auditRows(e.t, action)).find((r) => r.detail.access_key === c.access_key)!
      expect(row).toBeDefined()
      expect(row.detail.self).toBe(self)
      expect(JSON.stringify(row.detail)).not.toContain(c.secret_key!)
    }
    expect((await auditRows(e.t, 's3_credential.update')).find((r) => r.detail.access_key === c.access_key)!.detail.fields).toEqual(['description'])
  })

  test('anonymous bindings: upsert, list, merged view, delete, audited', async () => {
    const res = await e.t.call('POST', '/api/admin/s3-anonymous', { as: e.admin, json: { backend_id: e.bid, bucket: e.bucket, per_source_ip_rps: 5 } })
    expect(res.status).toBe(200)
    const b = await json<{ backend_id: string; bucket: string; mode: string; per_source_ip_rps: number; effective_rps: number; url: string }>(res)
    expect(b).toMatchObject({
      backend_id: e.bid,
      bucket: e.bucket,
      mode: 'ReadOnly',
      per_source_ip_rps: 5,
      effective_rps: 5,
      url: `http://localhost:18090/${e.bucket}`,
    })
    const again = await json<{ per_source_ip_rps: number; effective_rps: number }>(
      await e.t.call('POST', '/api/admin/s3-anonymous', { as: e.admin, json: { backend_id: e.bid, bucket: e.bucket } }),
    )
    expect(again).toMatchObject({ per_source_ip_rps: 0, effective_rps: 20 })
    expect(e.t.s.anonymous.byBucket(e.bucket)).toEqual({ backendId: e.bid, bucket: e.bucket, rps: 20 })
    const list = await json<{ bindings: unknown[] }>(await e.t.call('GET', '/api/admin/s3-anonymous', { as: e.admin }))
    expect(list.bindings).toHaveLength(1)
    const merged = await json<{ bindings: Array<{ source: string }> }>(await e.t.call('GET', '/api/admin/s3-proxy/anonymous', { as: e.admin }))
    expect(merged.bindings.map((x) => x.source)).toEqual(['sqlite'])
    expect((await e.t.call('POST', '/api/admin/s3-anonymous', { as: e.admin, json: { backend_id: e.bid, bucket: e.bucket, mode: 'ReadWrite' } })).status).toBe(
      400,
    )
    expect(
      (await e.t.call('POST', '/api/admin/s3-anonymous', { as: e.admin, json: { backend_id: e.bid, bucket: 'no-such-bucket-' + Date.now() } })).status,
    ).toBe(400)
    expect((await e.t.call('DELETE', `/api/admin/s3-anonymous/${e.bid}/${e.bucket}`, { as: e.admin })).status).toBe(204)
    expect(e.t.s.anonymous.byBucket(e.bucket)).toBeUndefined()
    expect((await e.t.call('DELETE', `/api/admin/s3-anonymous/${e.bid}/${e.bucket}`, { as: e.admin })).status).toBe(404)
    expect((await auditRows(e.t, 's3_anonymous.upsert')).filter((r) => r.bucket === e.bucket)).toHaveLength(2)
    expect((await auditRows(e.t, 's3_anonymous.delete')).filter((r) => r.bucket === e.bucket)).toHaveLength(1)
  })
})
