// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Validation of what a credential or binding may point at: only buckets that
 * exist on an active backend (the original let anyone mint keys for
 * arbitrary names, including buckets created later by someone else). Names
 * not yet taken are an admin's to hand out, as bucket-name prefixes. Whether
 * the caller may scope a key to a bucket at all is their grants' business
 * (the routes' `needs`).
 */
import type { Backend } from '../backends/backend.ts'
import type { Registry } from '../backends/registry.ts'
import { fail } from '../http/errors.ts'
import type { Logger } from '../lib/log.ts'
import { storage } from '../storage/errors.ts'
import { validateBucketName } from '../storage/validate.ts'
import { ACCESS_RANK } from './access.ts'
import type { BucketAccess, BucketScope } from './model.ts'

export type ScopeInput = string | { bucket: string; access?: BucketAccess } | { prefix: string; access?: BucketAccess }

/**
 * The backend a credential or binding names: an enabled, usable backend of
 * either type (`s3` backends are forwarded to, `fs` ones served by the S3
 * engine).
 */
export function checkBackend(registry: Registry, backendId: string): Backend {
  const entry = registry.entry(backendId)
  if (!entry) throw fail('invalid_request', 'No such backend.', [{ path: '/backend_id' }])
  if (!entry.backend || (entry.type === 's3' && !registry.upstream(backendId)))
    throw fail('invalid_request', 'That backend is disabled or its secret cannot be opened.', [{ path: '/backend_id' }])
  return entry.backend
}

/** Checks that a bucket exists on the backend (one ListBuckets call for all names). */
export async function checkBucketsExist(backend: Backend, names: string[], logger: Logger, path: string): Promise<void> {
  if (names.length === 0) return
  const existing = new Set((await storage(backend.listBuckets(), logger)).map((b) => b.name))
  const missing = names.filter((n) => !existing.has(n))
  if (missing.length > 0)
    throw fail(
      'invalid_request',
      `No such bucket on this backend: ${missing.slice(0, 5).join(', ')}.`,
      missing.map(() => ({ path })),
    )
}

const PREFIX = /^[a-z0-9][a-z0-9.-]{0,61}$/

/** A bucket-name prefix: 1–62 characters of a bucket name's alphabet, starting as a bucket name must. */
export function prefixProblem(prefix: string): string | undefined {
  if (!PREFIX.test(prefix)) return 'a prefix is 1–62 characters of a-z, 0-9, "." and "-", starting with a letter or digit'
  if (prefix.includes('..')) return 'a prefix cannot contain ".."'
  return undefined
}

/** Whether `entry` was already granted in `previous`, with at least this access. */
function granted(entry: BucketScope, previous: readonly BucketScope[]): boolean {
  return previous.some(
    (p) =>
      ('prefix' in entry ? 'prefix' in p && p.prefix === entry.prefix : 'bucket' in p && p.bucket === entry.bucket) &&
      ACCESS_RANK[p.access] >= ACCESS_RANK[entry.access],
  )
}

/**
 * Normalises a scope list (plain names mean read-write, so does an entry
 * without access), refusing invalid or repeated entries and exact buckets
 * that do not exist. Buckets already in `previous` are not looked up again,
 * so a patch of other fields works while a scoped bucket is briefly
 * unreachable. Prefixes need no bucket: they cover names created later.
 *
 * Only admins grant prefixes and `owner`: on the self-service routes
 * (`adminGrants` false) such an entry is refused unless the admin had
 * already granted it (with at least that access), so users can keep or
 * narrow what they were given but never widen it.
 */
export async function checkScopes(
  backend: Backend,
  input: ScopeInput[],
  previous: readonly BucketScope[],
  o: { adminGrants: boolean; logger: Logger },
): Promise<BucketScope[]> {
  const out: BucketScope[] = []
  const seen = new Set<string>()
  for (const [i, item] of input.entries()) {
    const at = [{ path: `/buckets/${i}` }]
    const scope: BucketScope =
      typeof item === 'string'
        ? { bucket: item, access: 'read-write' }
        : 'prefix' in item
          ? { prefix: item.prefix, access: item.access ?? 'read-write' }
          : { bucket: item.bucket, access: item.access ?? 'read-write' }
    if ('prefix' in scope) {
      const problem = prefixProblem(scope.prefix)
      if (problem) throw fail('invalid_bucket_prefix', `"${scope.prefix.slice(0, 63)}": ${problem}.`, at)
    } else {
      try {
        validateBucketName(scope.bucket)
      } catch {
        throw fail('invalid_bucket_name', undefined, at)
      }
    }
    const id = 'prefix' in scope ? `prefix:${scope.prefix}` : `bucket:${scope.bucket}`
    if (seen.has(id)) throw fail('invalid_request', `"${'prefix' in scope ? scope.prefix : scope.bucket}" is listed twice.`, at)
    seen.add(id)
    if (!o.adminGrants && ('prefix' in scope || scope.access === 'owner') && !granted(scope, previous)) throw fail('admin_only_scope', undefined, at)
    out.push(scope)
  }
  const known = new Set(previous.flatMap((p) => ('bucket' in p ? [p.bucket] : [])))
  await checkBucketsExist(
    backend,
    out.flatMap((s) => ('bucket' in s && !known.has(s.bucket) ? [s.bucket] : [])),
    o.logger,
    '/buckets',
  )
  return out
}
