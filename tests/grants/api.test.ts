// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The grant API: create, list with filters, change and revoke, each change
 * audited; what bad input answers; GET /api/me/access; `access.default`;
 * bucket creation by users (and the creator's grant); a deleted bucket's
 * grants; the OpenAPI document.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Client } from '../helpers/app.ts'
import { testApp } from '../helpers/app.ts'
import { codeOf, grantsApp, type Grant, type GrantsApp } from './fixture.ts'

let app: GrantsApp
let ann: Client
let bob: Client

type AuditRow = { action: string; user_id: string | null; backend_id: string | null; bucket: string | null; object_key: string | null; detail: string }

async function audits(action: string): Promise<Array<AuditRow & { d: Record<string, unknown> }>> {
  await app.t.s.audit.flush()
  return (
    await app.t.s.db.all<AuditRow>('SELECT action, user_id, backend_id, bucket, object_key, detail FROM audit_events WHERE action = ? ORDER BY id', [action])
  ).map((r) => ({ ...r, d: JSON.parse(r.detail) as Record<string, unknown> }))
}

beforeAll(async () => {
  app = await grantsApp('fs')
  ann = await app.t.user('user', { username: 'ann' })
  bob = await app.t.user('readonly', { username: 'bob' })
})
afterAll(() => app.cleanup())

describe('create, list, change, revoke', () => {
  test('each change is audited with who, what and on which target', async () => {
    const g = await app.grant({ user_id: ann.userId, backend_id: app.bid, bucket: 'photos', prefix: 'holiday/', access: 'read' })
    expect(g).toMatchObject({
      subject_type: 'user',
      subject: ann.userId,
      subject_name: 'ann',
      backend_id: app.bid,
      bucket: 'photos',
      prefix: 'holiday/',
      access: 'read',
      origin: 'admin',
    })
    const changed = await app.ok<Grant>('PATCH', `/api/admin/grants/${g.id}`, app.admin, { access: 'read-write' })
    expect(changed.access).toBe('read-write')
    await app.revoke(g.id)
    const [created] = (await audits('grant.create')).filter((r) => r.d.grant_id === g.id)
    expect(created).toMatchObject({ user_id: app.admin.userId, backend_id: app.bid, bucket: 'photos', object_key: 'holiday/' })
    expect(created!.d).toMatchObject({ subject_type: 'user', subject: ann.userId, subject_name: 'ann', access: 'read', origin: 'admin' })
    expect((await audits('grant.update')).find((r) => r.d.grant_id === g.id)!.d).toMatchObject({ access: 'read-write', previous_access: 'read' })
    expect((await audits('grant.delete')).find((r) => r.d.grant_id === g.id)).toMatchObject({ user_id: app.admin.userId, bucket: 'photos' })
    expect((await app.t.call('DELETE', `/api/admin/grants/${g.id}`, { as: app.admin })).status).toBe(404)
  })

  test('the list filters by user (with their groups), group, backend and bucket (with broader grants)', async () => {
    await app.t.s.access.recordGroups(ann.userId, ['family'])
    const own = await app.grant({ user_id: ann.userId, backend_id: app.bid, bucket: 'docs', access: 'read' })
    const fam = await app.grant({ group: 'family', backend_id: app.bid, bucket: 'docs', prefix: 'shared/', access: 'read-write' })
    const everywhere = await app.grant({ user_id: bob.userId, backend_id: '*', access: 'read' })
    const wholeBackend = await app.grant({ user_id: bob.userId, backend_id: app.bid, access: 'read' })
    const ids = async (q: string): Promise<string[]> =>
      (await app.ok<{ grants: Grant[] }>('GET', `/api/admin/grants?${q}`, app.admin)).grants.map((g) => g.id).sort()
    expect(await ids(`user_id=${ann.userId}`)).toEqual([own.id])
    const withGroups = await app.ok<{ grants: Grant[]; groups: string[] }>('GET', `/api/admin/grants?user_id=${ann.userId}&with_groups=true`, app.admin)
    expect(withGroups.grants.map((g) => g.id).sort()).toEqual([own.id, fam.id].sort())
    expect(withGroups.groups).toEqual(['family'])
    expect(await ids('group=family')).toEqual([fam.id])
    expect(await ids(`backend_id=${app.bid}&bucket=docs`)).toEqual([own.id, fam.id].sort())
    expect(await ids(`backend_id=${app.bid}&bucket=docs&with_broader=true`)).toEqual([own.id, fam.id, everywhere.id, wholeBackend.id].sort())
    expect(await ids('backend_id=*')).toEqual([everywhere.id])
    const page = await app.ok<{ grants: Grant[]; total: number }>('GET', '/api/admin/grants?limit=1', app.admin)
    expect([page.grants.length, page.total]).toEqual([1, 4])
    for (const g of [own, fam, everywhere, wholeBackend]) await app.revoke(g.id)
  })

  test('the groups seen at sign-in are listed for the picker', async () => {
    const out = await app.ok<{ groups: Array<{ name: string; users: number }> }>('GET', '/api/admin/groups', app.admin)
    expect(out.groups.find((g) => g.name === 'family')).toMatchObject({ users: 1 })
  })
})

describe('bad input', () => {
  /** Each body, given a user id to name where it needs one. */
  const cases: Array<[string, (user: string) => Record<string, unknown>, string, string]> = [
    ['both a user and a group', (u) => ({ user_id: u, group: 'g', backend_id: 'local', access: 'read' }), 'invalid_grant', '/user_id'],
    ['neither a user nor a group', () => ({ backend_id: 'local', access: 'read' }), 'invalid_grant', '/user_id'],
    ['an unknown user', () => ({ user_id: 'nobody', backend_id: 'local', access: 'read' }), 'invalid_grant', '/user_id'],
    ['an unknown backend', (u) => ({ user_id: u, backend_id: 'nope', access: 'read' }), 'invalid_grant', '/backend_id'],
    ['a bucket on every backend', (u) => ({ user_id: u, backend_id: '*', bucket: 'photos', access: 'read' }), 'invalid_grant', '/bucket'],
    ['a folder without its bucket', (u) => ({ user_id: u, backend_id: 'local', prefix: 'a/', access: 'read' }), 'invalid_grant', '/bucket'],
    ['a folder not ending in "/"', (u) => ({ user_id: u, backend_id: 'local', bucket: 'photos', prefix: 'a', access: 'read' }), 'invalid_prefix', '/prefix'],
    [
      'a folder climbing out with ".."',
      (u) => ({ user_id: u, backend_id: 'local', bucket: 'photos', prefix: 'a/../', access: 'read' }),
      'invalid_prefix',
      '/prefix',
    ],
    ['a bad bucket name', (u) => ({ user_id: u, backend_id: 'local', bucket: 'Not_A_Bucket', access: 'read' }), 'invalid_bucket_name', '/bucket'],
    ['a group with control characters', () => ({ group: 'a\nb', backend_id: 'local', access: 'read' }), 'invalid_grant', '/group'],
    ['an access that does not exist', (u) => ({ user_id: u, backend_id: 'local', access: 'owner' }), 'bad_request', '/access'],
  ]
  test.each(cases)('%s → 400', async (_, body, code, path) => {
    const res = await app.t.call('POST', '/api/admin/grants', { as: app.admin, json: body(ann.userId) })
    expect(res.status).toBe(400)
    expect(await codeOf(res)).toBe(code)
    const detail = ((await res.json()) as { error: { detail: Array<{ path: string }> } }).error.detail
    expect(detail.map((d) => d.path)).toContain(path)
  })

  test('the same grant twice → 409 grant_exists naming the existing one', async () => {
    const g = await app.grant({ user_id: ann.userId, backend_id: app.bid, bucket: 'twice', access: 'read' })
    const res = await app.t.call('POST', '/api/admin/grants', {
      as: app.admin,
      json: { user_id: ann.userId, backend_id: app.bid, bucket: 'twice', access: 'read-write' },
    })
    expect(res.status).toBe(409)
    expect(await codeOf(res)).toBe('grant_exists')
    expect(((await res.json()) as { error: { detail: { id: string } } }).error.detail.id).toBe(g.id)
    await app.revoke(g.id)
  })

  test('an unknown grant → 404', async () => {
    expect((await app.t.call('PATCH', '/api/admin/grants/01ARZ3NDEKTSV4RRFFQ69G5FAV', { as: app.admin, json: { access: 'read' } })).status).toBe(404)
  })
})

describe('GET /api/me/access', () => {
  test('lists own and group grants, capped at read for readonly accounts; admins have everything', async () => {
    await app.t.s.access.recordGroups(bob.userId, ['viewers'])
    const own = await app.grant({ user_id: bob.userId, backend_id: app.bid, bucket: 'mine', access: 'read-write' })
    const viaGroup = await app.grant({ group: 'viewers', backend_id: app.bid, bucket: 'team', prefix: 'pub/', access: 'read-write' })
    const mine = await app.ok<{ role: string; all: boolean; grants: unknown[] }>('GET', '/api/me/access', bob)
    expect(mine.role).toBe('readonly')
    expect(mine.all).toBe(false)
    expect(mine.grants).toEqual(
      expect.arrayContaining([
        { backend_id: app.bid, bucket: 'mine', prefix: '', access: 'read', via: 'user' },
        { backend_id: app.bid, bucket: 'team', prefix: 'pub/', access: 'read', via: 'group', group: 'viewers' },
      ]),
    )
    expect(await app.ok('GET', '/api/me/access', app.admin)).toEqual({ role: 'admin', all: true, grants: [] })
    await app.revoke(own.id)
    await app.revoke(viaGroup.id)
  })
})

describe('access.default', () => {
  test.each([
    ['none', 403, 403],
    ['read', 200, 403],
    ['read-write', 200, 201],
  ] as const)('%s: a user without grants lists %i and uploads %i; a readonly account never writes', async (level, listStatus, uploadStatus) => {
    const root = mkdtempSync(join(tmpdir(), 'stowage-default-'))
    const t = await testApp({ backends: [{ id: 'local', type: 'fs', root }], access: { default: level } })
    try {
      await t.s.registry.get('local').createBucket('open-bucket')
      const u = await t.user('user')
      const list = await t.call('GET', '/api/backends/local/buckets/open-bucket/objects', { as: u })
      expect(list.status).toBe(listStatus)
      const upload = await t.call('POST', '/api/backends/local/buckets/open-bucket/object?key=x.txt', {
        as: u,
        body: 'data',
        headers: { 'content-type': 'text/plain', 'content-length': '4' },
      })
      expect(upload.status).toBe(uploadStatus)
      const mine = (await (await t.call('GET', '/api/me/access', { as: u })).json()) as { grants: unknown[] }
      expect(mine.grants).toEqual(level === 'none' ? [] : [{ backend_id: '*', bucket: '', prefix: '', access: level, via: 'default' }])
      const ro = await t.user('readonly')
      const roAccess = (await (await t.call('GET', '/api/me/access', { as: ro })).json()) as { grants: Array<{ access: string }> }
      expect(roAccess.grants.map((g) => g.access)).toEqual(level === 'none' ? [] : ['read'])
    } finally {
      await t.close()
      rmSync(root, { recursive: true, force: true })
    }
  })
})

describe('buckets made and deleted', () => {
  test('a user with read-write on the whole backend creates buckets and keeps them after the backend grant goes', async () => {
    const maker = await app.t.user('user')
    const refused = await app.t.call('POST', `/api/backends/${app.bid}/buckets`, { as: maker, json: { name: 'maker-bucket' } })
    expect(refused.status).toBe(403)
    expect(await codeOf(refused)).toBe('access_denied')
    const readOnly = await app.grant({ user_id: maker.userId, backend_id: app.bid, access: 'read' })
    expect(await codeOf(await app.t.call('POST', `/api/backends/${app.bid}/buckets`, { as: maker, json: { name: 'maker-bucket' } }))).toBe('read_only_access')
    await app.revoke(readOnly.id)
    const backendWide = await app.grant({ user_id: maker.userId, backend_id: app.bid, access: 'read-write' })
    expect((await app.t.call('POST', `/api/backends/${app.bid}/buckets`, { as: maker, json: { name: 'maker-bucket' } })).status).toBe(201)
    const creator = (await app.ok<{ grants: Grant[] }>('GET', `/api/admin/grants?user_id=${maker.userId}`, app.admin)).grants.find(
      (g) => g.bucket === 'maker-bucket',
    )!
    expect(creator).toMatchObject({ access: 'read-write', origin: 'creator', prefix: '' })
    expect((await audits('grant.create')).find((r) => r.d.grant_id === creator.id)).toMatchObject({ user_id: maker.userId })
    await app.revoke(backendWide.id)
    const upload = await app.t.call('POST', `/api/backends/${app.bid}/buckets/maker-bucket/object?key=k.txt`, {
      as: maker,
      body: 'data',
      headers: { 'content-type': 'text/plain', 'content-length': '4' },
    })
    expect(upload.status).toBe(201)
    const buckets = await app.ok<{ buckets: Array<{ name: string }> }>('GET', `/api/backends/${app.bid}/buckets`, maker)
    expect(buckets.buckets.map((b) => b.name)).toEqual(['maker-bucket'])
  })

  test("a deleted account's grants go with it, each recorded", async () => {
    const leaver = await app.t.user('user')
    const g = await app.grant({ user_id: leaver.userId, backend_id: app.bid, bucket: 'leaving', access: 'read' })
    expect((await app.t.call('DELETE', `/api/admin/users/${leaver.userId}`, { as: app.admin })).status).toBe(204)
    expect(await app.ok('GET', `/api/admin/grants?user_id=${leaver.userId}`, app.admin)).toMatchObject({ grants: [], total: 0 })
    expect((await audits('grant.delete')).find((r) => r.d.grant_id === g.id)).toMatchObject({ user_id: app.admin.userId, bucket: 'leaving' })
    expect((await audits('grant.delete')).find((r) => r.d.grant_id === g.id)!.d).toMatchObject({ reason: 'user_deleted' })
  })

  test('a bucket deleted through Stowage takes its grants along; one made later with its name starts with none', async () => {
    const holder = await app.t.user('user')
    await app.backend().createBucket('doomed-bucket')
    const g = await app.grant({ user_id: holder.userId, backend_id: app.bid, bucket: 'doomed-bucket', access: 'read-write' })
    expect((await app.t.call('DELETE', `/api/backends/${app.bid}/buckets/doomed-bucket`, { as: app.admin })).status).toBe(204)
    expect((await app.ok<{ grants: Grant[] }>('GET', `/api/admin/grants?user_id=${holder.userId}`, app.admin)).grants).toEqual([])
    expect((await audits('grant.delete')).find((r) => r.d.grant_id === g.id)!.d).toMatchObject({ reason: 'bucket_deleted' })
    await app.backend().createBucket('doomed-bucket')
    expect((await app.t.call('GET', `/api/backends/${app.bid}/buckets/doomed-bucket/objects`, { as: holder })).status).toBe(403)
    await app.backend().deleteBucket('doomed-bucket')
  })
})

describe('the OpenAPI document', () => {
  test('has the grant routes and /api/me/access with their schemas', async () => {
    const doc = (await (await app.t.call('GET', '/openapi/json')).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses?: Record<string, unknown> }>>
    }
    expect(Object.keys(doc.paths['/api/admin/grants']!).sort()).toEqual(['get', 'post'])
    expect(Object.keys(doc.paths['/api/admin/grants/{id}']!).sort()).toEqual(['delete', 'patch'])
    expect(doc.paths['/api/admin/grants']!.post!.requestBody).toBeDefined()
    expect(doc.paths['/api/me/access']!.get!.responses!['200']).toBeDefined()
    expect(doc.paths['/api/admin/groups']!.get).toBeDefined()
  })
})
