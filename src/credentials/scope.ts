// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Validation of what a credential or binding may point at. The dashboard has
 * no per-bucket ACL, so any writer may scope a key to any bucket, but only to
 * buckets that exist on an active backend: the original let anyone mint
 * keys for arbitrary names, including buckets created later by someone else.
 */
import type { Backend } from '../backends/backend.ts'
import type { Registry } from '../backends/registry.ts'
import { fail } from '../http/errors.ts'
import type { Logger } from '../lib/log.ts'
import { storage } from '../storage/errors.ts'
import { validateBucketName } from '../storage/validate.ts'
import type { BucketAccess, BucketScope } from './model.ts'

export type ScopeInput = string | { bucket: string; access?: BucketAccess }

/**
 * The backend a credential or binding names: an enabled, usable backend of
 * either type (`s3` backends are forwarded to, `fs` ones served by the S3
 * engine).
 */
export function checkBackend(registry: Registry, backendId: string): Backend {
  const entry = registry.entry(backendId)
  if (!entry) throw fail('invalid_request', 'No such backend.', [{ path: '/backend_id' }])
  if (!entry.backend || (entry.type === 's3' && !registry.upstream(backendId))) throw fail('invalid_request', 'That backend is disabled or its secret cannot be opened.', [{ path: '/backend_id' }])
  return entry.backend
}

/** Checks that a bucket exists on the backend (one ListBuckets call for all names). */
export async function checkBucketsExist(backend: Backend, names: string[], logger: Logger, path: string): Promise<void> {
  if (names.length === 0) return
  const existing = new Set((await storage(backend.listBuckets(), logger)).map((b) => b.name))
  const missing = names.filter((n) => !existing.has(n))
  if (missing.length > 0) throw fail('invalid_request', `No such bucket on this backend: ${missing.slice(0, 5).join(', ')}.`, missing.map(() => ({ path })))
}

/**
 * Normalises a scope list (plain names mean read-write), refusing invalid or
 * repeated names and names that do not exist. Buckets already in `previous`
 * are not looked up again, so a patch of other fields works while a scoped
 * bucket is briefly unreachable.
 */
export async function checkScopes(backend: Backend, input: ScopeInput[], previous: readonly BucketScope[], logger: Logger): Promise<BucketScope[]> {
  const out: BucketScope[] = []
  const seen = new Set<string>()
  for (const [i, item] of input.entries()) {
    const scope: BucketScope = typeof item === 'string' ? { bucket: item, access: 'read-write' } : { bucket: item.bucket, access: item.access ?? 'read-write' }
    try {
      validateBucketName(scope.bucket)
    } catch {
      throw fail('invalid_bucket_name', undefined, [{ path: `/buckets/${i}` }])
    }
    if (seen.has(scope.bucket)) throw fail('invalid_request', `"${scope.bucket}" is listed twice.`, [{ path: `/buckets/${i}` }])
    seen.add(scope.bucket)
    out.push(scope)
  }
  const known = new Set(previous.map((p) => p.bucket))
  await checkBucketsExist(
    backend,
    out.filter((s) => !known.has(s.bucket)).map((s) => s.bucket),
    logger,
    '/buckets',
  )
  return out
}
