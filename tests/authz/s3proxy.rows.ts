// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Virtual S3 credentials, anonymous bindings and the proxy views. The matrix
 * app runs with the S3 proxy disabled, so a caller who passes the access
 * check gets 503 s3_proxy_disabled: these rows pin who gets that far (the
 * behaviour itself is in tests/credentials/). Minting needs a grant on the
 * scoped buckets, so a stranger is refused first.
 */
import { ADMIN, GRANTED_WRITERS, SIGNED_IN, WRITERS, type Row } from './matrix.ts'

const scope = { backend_id: 'local', buckets: ['authz-bucket'] }

export const rows: Row[] = [
  { method: 'GET', route: '/api/me/s3-credentials', expect: SIGNED_IN(503) },
  { method: 'POST', route: '/api/me/s3-credentials', body: scope, expect: GRANTED_WRITERS(503) },
  { method: 'PATCH', route: '/api/me/s3-credentials/:akid', path: '/api/me/s3-credentials/STWAUTHZ', body: { enabled: false }, expect: WRITERS(503) },
  { method: 'DELETE', route: '/api/me/s3-credentials/:akid', path: '/api/me/s3-credentials/STWAUTHZ', expect: WRITERS(503) },
  { method: 'GET', route: '/api/admin/s3-credentials', expect: ADMIN(503) },
  { method: 'POST', route: '/api/admin/s3-credentials', body: scope, expect: ADMIN(503) },
  { method: 'PATCH', route: '/api/admin/s3-credentials/:akid', path: '/api/admin/s3-credentials/STWAUTHZ', body: { enabled: false }, expect: ADMIN(503) },
  { method: 'DELETE', route: '/api/admin/s3-credentials/:akid', path: '/api/admin/s3-credentials/STWAUTHZ', expect: ADMIN(503) },
  { method: 'GET', route: '/api/admin/s3-anonymous', expect: ADMIN(503) },
  { method: 'POST', route: '/api/admin/s3-anonymous', body: { backend_id: 'local', bucket: 'authz-bucket' }, expect: ADMIN(503) },
  { method: 'DELETE', route: '/api/admin/s3-anonymous/:bid/:bucket', path: '/api/admin/s3-anonymous/local/authz-bucket', expect: ADMIN(503) },
  { method: 'GET', route: '/api/admin/s3-proxy/credentials', expect: ADMIN(503) },
  { method: 'GET', route: '/api/admin/s3-proxy/anonymous', expect: ADMIN(503) },
]
