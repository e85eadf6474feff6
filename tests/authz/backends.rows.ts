// SPDX-License-Identifier: AGPL-3.0-or-later
/** Backend status, health and admin CRUD routes. Database backends for the admin rows are made fresh per attempt. */
import { sealContext } from '../../src/backends/registry.ts'
import { ADMIN, GRANTED, SIGNED_IN, type Fixture, type Row } from './matrix.ts'

/** Nothing listens on port 1, so probes of these backends fail fast and harmlessly. */
const UNREACHABLE = 'http://127.0.0.1:1'

async function dbBackend(fx: Fixture): Promise<string> {
  const id = `db${fx.seq()}`
  const now = Date.now()
  await fx.t.s.db.run(
    `INSERT INTO backends (id, name, type, endpoint, region, path_style, access_key, secret_key_enc, enabled, created_at, updated_at)
     VALUES (?, ?, 's3', ?, 'us-east-1', 1, 'AKIA', ?, 1, ?, ?)`,
    [id, id, UNREACHABLE, fx.t.s.sealer!.seal('secret', sealContext(id)), now, now],
  )
  await fx.t.s.registry.reload(id)
  return id
}

const creds = { endpoint: UNREACHABLE, access_key: 'AKIA', secret_key: 'secret' }

export const rows: Row[] = [
  { method: 'GET', route: '/api/backends', expect: SIGNED_IN(200) },
  { method: 'GET', route: '/api/backends/:bid', path: '/api/backends/local', expect: GRANTED(200) },
  { method: 'GET', route: '/api/backends/:bid/health', path: '/api/backends/local/health', expect: GRANTED(200) },
  { method: 'GET', route: '/api/admin/backends/health', expect: ADMIN(200) },
  { method: 'GET', route: '/api/admin/backends', expect: ADMIN(200) },
  { method: 'POST', route: '/api/admin/backends', body: (fx) => ({ id: `new${fx.seq()}`, ...creds }), expect: ADMIN(201) },
  { method: 'POST', route: '/api/admin/backends/test', body: creds, expect: ADMIN(200) },
  { method: 'GET', route: '/api/admin/backends/:bid', path: '/api/admin/backends/local', expect: ADMIN(200) },
  {
    method: 'PATCH',
    route: '/api/admin/backends/:bid',
    path: async (fx) => `/api/admin/backends/${await dbBackend(fx)}`,
    body: { name: 'Renamed' },
    expect: ADMIN(200),
  },
  { method: 'DELETE', route: '/api/admin/backends/:bid', path: async (fx) => `/api/admin/backends/${await dbBackend(fx)}`, expect: ADMIN(204) },
]
