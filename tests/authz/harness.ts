// SPDX-License-Identifier: AGPL-3.0-or-later
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testApp, type Client, type TestApp } from '../helpers/app.ts'
import { rows as core } from './core.rows.ts'
import { rows as backends } from './backends.rows.ts'
import { rows as buckets } from './buckets.rows.ts'
import { rows as oidc } from './oidc.rows.ts'
import { rows as objects } from './objects.rows.ts'
import { rows as shares } from './shares.rows.ts'
import { rows as s3proxy } from './s3proxy.rows.ts'
import type { Fixture, Row } from './matrix.ts'

/** Every feature's rows; add a feature's file here. */
export const ROWS: Row[] = [...core, ...backends, ...buckets, ...oidc, ...objects, ...shares, ...s3proxy]

export async function matrixApp(): Promise<{ t: TestApp; fx: (as?: Client) => Fixture }> {
  const root = mkdtempSync(join(tmpdir(), 'stowage-authz-fs-'))
  const t = await testApp({ backends: [{ id: 'local', type: 'fs', root }], ratelimit: { api_per_minute: 0, share_per_minute: 0 } })
  let n = 0
  const fx = (as?: Client): Fixture => ({
    t,
    as,
    seq: () => ++n,
    victim: async () => (await t.user('user', { username: `victim${++n}` })).userId,
  })
  return { t, fx }
}

export async function resolveRow(row: Row, f: Fixture): Promise<{ path: string; init: { json?: unknown; body?: BodyInit; headers?: Record<string, string> } }> {
  const path = typeof row.path === 'function' ? await row.path(f) : (row.path ?? row.route)
  if (row.raw) return { path, init: { body: await row.raw(f), headers: row.headers } }
  const body = typeof row.body === 'function' ? await (row.body as (x: Fixture) => unknown)(f) : row.body
  return { path, init: { json: body, headers: row.headers } }
}
