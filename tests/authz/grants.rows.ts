// SPDX-License-Identifier: AGPL-3.0-or-later
/** Grant administration (admins only) and what the caller may touch (everyone signed in). */
import { ADMIN, SIGNED_IN, type Fixture, type Row } from './matrix.ts'

const ORIGIN = { userId: null, username: null, requestId: null, ip: null, userAgent: null }

/** A fresh grant to a fresh user on a fresh bucket name of "local". */
function grant(fx: Fixture): Promise<string> {
  return fx
    .victim()
    .then(
      async (user) => (await fx.t.s.access.create('matrix', { user_id: user, backend_id: 'local', bucket: `authz-g-${fx.seq()}`, access: 'read' }, ORIGIN)).id,
    )
}

export const rows: Row[] = [
  { method: 'GET', route: '/api/me/access', expect: SIGNED_IN(200) },
  { method: 'GET', route: '/api/admin/grants', expect: ADMIN(200) },
  {
    method: 'POST',
    route: '/api/admin/grants',
    body: async (fx: Fixture) => ({ user_id: await fx.victim(), backend_id: 'local', bucket: `authz-g-${fx.seq()}`, access: 'read' }),
    expect: ADMIN(201),
  },
  {
    method: 'PATCH',
    route: '/api/admin/grants/:id',
    path: async (fx) => `/api/admin/grants/${await grant(fx)}`,
    body: { access: 'read-write' },
    expect: ADMIN(200),
  },
  { method: 'DELETE', route: '/api/admin/grants/:id', path: async (fx) => `/api/admin/grants/${await grant(fx)}`, expect: ADMIN(204) },
  { method: 'GET', route: '/api/admin/groups', expect: ADMIN(200) },
]
