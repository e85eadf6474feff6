// SPDX-License-Identifier: AGPL-3.0-or-later
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testApp, type Client, type TestApp } from '../helpers/app.ts'
import type { Role } from '../../src/auth/roles.ts'
import { rows as core } from './core.rows.ts'
import { rows as backends } from './backends.rows.ts'
import { rows as buckets } from './buckets.rows.ts'
import { rows as oidc } from './oidc.rows.ts'
import { rows as objects } from './objects.rows.ts'
import { rows as shares } from './shares.rows.ts'
import { rows as s3proxy } from './s3proxy.rows.ts'
import { rows as grants } from './grants.rows.ts'
import type { Fixture, Row, Who } from './matrix.ts'

/** Every feature's rows; add a feature's file here. */
export const ROWS: Row[] = [...core, ...backends, ...buckets, ...oidc, ...objects, ...shares, ...s3proxy, ...grants]

const ORIGIN = { userId: null, username: null, requestId: null, ip: null, userAgent: null }

export async function matrixApp(): Promise<{ t: TestApp; fx: (as?: Client) => Fixture; caller: (who: Who) => Promise<Client | undefined> }> {
  const root = mkdtempSync(join(tmpdir(), 'stowage-authz-fs-'))
  const t = await testApp({ backends: [{ id: 'local', type: 'fs', root }], ratelimit: { api_per_minute: 0, share_per_minute: 0 }, access: { default: 'none' } })
  let n = 0
  const withGrant = async (role: Role): Promise<Client> => {
    const c = await t.user(role)
    await t.s.access.create('matrix', { user_id: c.userId, backend_id: 'local', access: 'read-write' }, ORIGIN)
    return c
  }
  const caller = async (who: Who): Promise<Client | undefined> =>
    who === 'anon'
      ? undefined
      : who === 'stranger'
        ? await t.user('user', { username: `stranger${++n}` })
        : who === 'admin'
          ? await t.user('admin')
          : await withGrant(who)
  const fx = (as?: Client): Fixture => ({
    t,
    as,
    who: !as ? 'anon' : as.username.startsWith('stranger') ? 'stranger' : as.role,
    seq: () => ++n,
    victim: async () => (await t.user('user', { username: `victim${++n}` })).userId,
    granted: () => withGrant('user'),
  })
  return { t, fx, caller }
}

export async function resolveRow(row: Row, f: Fixture): Promise<{ path: string; init: { json?: unknown; body?: BodyInit; headers?: Record<string, string> } }> {
  const path = typeof row.path === 'function' ? await row.path(f) : (row.path ?? row.route)
  if (row.raw) return { path, init: { body: await row.raw(f), headers: row.headers } }
  const body = typeof row.body === 'function' ? await (row.body as (x: Fixture) => unknown)(f) : row.body
  return { path, init: { json: body, headers: row.headers } }
}
