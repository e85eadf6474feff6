// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Per-route caps on parsed (JSON/form/text) bodies, by "METHOD /route/template".
 * Streaming routes (uploads) say 'stream': they are not parsed here and cap
 * their bytes themselves. Everything unlisted gets DEFAULT_LIMIT.
 */
export const DEFAULT_LIMIT = 64 * 1024

const KiB = 1024
const MiB = 1024 * KiB

const LIMITS = new Map<string, number | 'stream'>([
  ['POST /auth/login/local', 4 * KiB],
  ['POST /api/me/password', 4 * KiB],
  ['POST /api/admin/users', 4 * KiB],
  ['PATCH /api/admin/users/:id', 4 * KiB],
  ['POST /api/admin/users/:id/reset-password', 4 * KiB],
  ['POST /api/admin/backends', 8 * KiB],
  ['PATCH /api/admin/backends/:bid', 8 * KiB],
  ['POST /api/admin/backends/test', 8 * KiB],
  ['PUT /api/backends/:bid/buckets/:bucket/quota', 4 * KiB],
  ['PUT /api/backends/:bid/buckets/:bucket/size-tracking', 4 * KiB],
  ['PUT /api/backends/:bid/buckets/:bucket/versioning', 4 * KiB],
  ['PUT /api/backends/:bid/buckets/:bucket/cors', 64 * KiB],
  // The policy itself is capped at 256 KiB; JSON string escaping can nearly double it on the wire.
  ['PUT /api/backends/:bid/buckets/:bucket/policy', 512 * KiB],
  ['PUT /api/backends/:bid/buckets/:bucket/lifecycle', 64 * KiB],
  ['POST /api/me/pins', 4 * KiB],
  ['POST /api/backends/:bid/buckets', 4 * KiB],
  // Uploads stream to the backend and check their own length.
  ['POST /api/backends/:bid/buckets/:bucket/object', 'stream'],
  ['PUT /api/backends/:bid/buckets/:bucket/multipart/parts/:part', 'stream'],
  ['POST /api/backends/:bid/buckets/:bucket/objects/delete', 1 * MiB],
  ['POST /api/backends/:bid/buckets/:bucket/objects/delete-prefix', 4 * KiB],
  ['POST /api/backends/:bid/buckets/:bucket/objects/copy-prefix', 16 * KiB],
  ['POST /api/backends/:bid/buckets/:bucket/objects/folder', 4 * KiB],
  ['POST /api/backends/:bid/buckets/:bucket/object/copy', 16 * KiB],
  ['PUT /api/backends/:bid/buckets/:bucket/object/tags', 16 * KiB],
  ['PUT /api/backends/:bid/buckets/:bucket/object/metadata', 16 * KiB],
  ['POST /api/backends/:bid/buckets/:bucket/multipart', 64 * KiB],
  ['POST /api/backends/:bid/buckets/:bucket/multipart/complete', 1 * MiB],
  ['POST /api/me/s3-credentials', 64 * KiB],
  ['PATCH /api/me/s3-credentials/:akid', 64 * KiB],
  ['POST /api/admin/s3-credentials', 64 * KiB],
  ['PATCH /api/admin/s3-credentials/:akid', 64 * KiB],
  ['POST /api/admin/s3-anonymous', 8 * KiB],
  ['POST /api/shares', 4 * KiB],
  ['POST /s/:code/unlock', 4 * KiB],
])

export function registerBodyLimit(method: string, route: string, limit: number | 'stream'): void {
  LIMITS.set(`${method} ${route}`, limit)
}

export function bodyLimitFor(method: string, route: string): number | 'stream' {
  return LIMITS.get(`${method} ${route}`) ?? DEFAULT_LIMIT
}
