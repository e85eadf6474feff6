// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Group grants through a real OpenID Provider: the groups of each sign-in
 * are recorded (and offered to admins as "groups seen at sign-in"), a grant
 * to a group applies to its members, and what counts is the latest sign-in —
 * leaving a group at the provider removes its grants at the next one.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Client, TestApp } from '../helpers/app.ts'
import type { TestProvider } from '../helpers/oidc-provider.ts'
import { clientFrom, discovered, provider, signIn, stowage } from '../auth/oidc/fixture.ts'

let p: TestProvider
let t: TestApp
let admin: Client
const root = mkdtempSync(join(tmpdir(), 'stowage-oidc-groups-'))

beforeAll(async () => {
  p = await provider()
  t = await stowage(p, {}, { backends: [{ id: 'local', type: 'fs', root }], access: { default: 'none' } })
  await discovered(t)
  admin = await t.user('admin')
  await t.s.registry.get('local').createBucket('team-bucket')
})
afterAll(async () => {
  await t.close()
  await p.stop()
  rmSync(root, { recursive: true, force: true })
})

async function ssoSession(groups: string[]): Promise<{ cookie: string; csrf: string }> {
  const res = await signIn(t, p, 'carol', { preferred_username: 'carol', email: 'carol@example.org', email_verified: true, groups: ['staff', ...groups] })
  return clientFrom(res)
}

const list = (c: { cookie: string }): Promise<Response> => t.call('GET', '/api/backends/local/buckets/team-bucket/objects', { headers: { cookie: c.cookie } })

test('a group grant applies to whoever carried the group at their latest sign-in', async () => {
  const first = await ssoSession(['photographers'])
  expect((await list(first)).status).toBe(403)

  const seen = (await (await t.call('GET', '/api/admin/groups', { as: admin })).json()) as { groups: Array<{ name: string; users: number }> }
  expect(seen.groups.map((g) => g.name)).toEqual(['photographers', 'staff'])

  const res = await t.call('POST', '/api/admin/grants', {
    as: admin,
    json: { group: 'photographers', backend_id: 'local', bucket: 'team-bucket', access: 'read' },
  })
  expect(res.status).toBe(201)
  expect((await list(first)).status).toBe(200)

  // Left the group at the provider: the next sign-in ends the grant for every session of the account.
  const second = await ssoSession(['editors'])
  expect((await list(second)).status).toBe(403)
  expect((await list(first)).status).toBe(403)
  const after = (await (await t.call('GET', '/api/admin/groups', { as: admin })).json()) as { groups: Array<{ name: string }> }
  expect(after.groups.map((g) => g.name)).toEqual(['editors', 'staff'])
})
