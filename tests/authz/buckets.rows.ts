// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bucket settings, quotas, sizes, pins, search and the admin dashboard. The
 * matrix app's `local` backend is the fs driver, so policies answer 501
 * there once access is granted: the point of these rows is who gets past
 * the guard.
 */
import { ADMIN, GRANTED, GRANTED_WRITERS, SIGNED_IN, WRITERS, type Fixture, type Row } from './matrix.ts'

/** A fresh bucket on the `local` backend, created directly on the driver. */
async function bucket(fx: Fixture): Promise<string> {
  const name = `authz-b-${fx.seq()}`
  await fx.t.s.registry.get('local').createBucket(name)
  return name
}

const at =
  (suffix: string) =>
  async (fx: Fixture): Promise<string> =>
    `/api/backends/local/buckets/${await bucket(fx)}/${suffix}`
const B = '/api/backends/:bid/buckets/:bucket'

export const rows: Row[] = [
  { method: 'GET', route: `${B}/quota`, path: at('quota'), expect: GRANTED(200) },
  { method: 'PUT', route: `${B}/quota`, path: at('quota'), body: { soft_bytes: 10, hard_bytes: 100 }, expect: ADMIN(200) },
  { method: 'DELETE', route: `${B}/quota`, path: at('quota'), expect: ADMIN(204) },
  { method: 'POST', route: `${B}/quota/recompute`, path: at('quota/recompute'), expect: ADMIN(200) },
  { method: 'GET', route: `${B}/size-tracking`, path: at('size-tracking'), expect: GRANTED(200) },
  { method: 'PUT', route: `${B}/size-tracking`, path: at('size-tracking'), body: { enabled: false }, expect: ADMIN(200) },
  { method: 'GET', route: `${B}/prefix-size`, path: at('prefix-size?prefix=a/'), expect: GRANTED(200) },
  { method: 'GET', route: `${B}/versioning`, path: at('versioning'), expect: ADMIN(200) },
  { method: 'PUT', route: `${B}/versioning`, path: at('versioning'), body: { enabled: true }, expect: ADMIN(200) },
  { method: 'GET', route: `${B}/cors`, path: at('cors'), expect: ADMIN(200) },
  { method: 'PUT', route: `${B}/cors`, path: at('cors'), body: { rules: [{ allowed_origins: ['*'], allowed_methods: ['GET'] }] }, expect: ADMIN(204) },
  { method: 'GET', route: `${B}/policy`, path: at('policy'), expect: ADMIN(501) },
  { method: 'PUT', route: `${B}/policy`, path: at('policy'), body: { policy: '{}' }, expect: ADMIN(501) },
  { method: 'DELETE', route: `${B}/policy`, path: at('policy'), expect: ADMIN(501) },
  { method: 'GET', route: `${B}/lifecycle`, path: at('lifecycle'), expect: ADMIN(200) },
  { method: 'PUT', route: `${B}/lifecycle`, path: at('lifecycle'), body: { rules: [{ enabled: true, expiration_days: 1 }] }, expect: ADMIN(200) },
  { method: 'DELETE', route: `${B}/lifecycle`, path: at('lifecycle'), expect: ADMIN(204) },
  { method: 'GET', route: '/api/me/pins', expect: SIGNED_IN(200) },
  { method: 'POST', route: '/api/me/pins', body: async (fx: Fixture) => ({ backend_id: 'local', bucket: await bucket(fx) }), expect: GRANTED_WRITERS(201) },
  { method: 'DELETE', route: '/api/me/pins/:bid/:bucket', path: async (fx) => `/api/me/pins/local/${await bucket(fx)}`, expect: WRITERS(204) },
  { method: 'GET', route: '/api/search', path: '/api/search?q=authz', expect: SIGNED_IN(200) },
  { method: 'GET', route: '/api/admin/dashboard', expect: ADMIN(200) },
]
