// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What one account may touch, compiled from its grants. Pure rules, no I/O:
 * every decision about storage access (routes, share links, the S3 listener)
 * asks a view built here.
 *
 * Security contract:
 * 1. Admins may do everything; every other account only what a grant covers.
 * 2. A grant covers a key or prefix of its bucket when the path starts with
 *    the grant's prefix, compared byte for byte (case matters, as in S3). A
 *    prefix always ends in "/", so `a/b/` never covers `a/bc`.
 * 3. A path with a ".." segment is covered only by whole-bucket grants: no
 *    spelling of a path can climb out of a granted folder.
 * 4. The level is the highest of the covering grants, then capped at `read`
 *    for readonly accounts.
 * 5. The view answers from data fixed when it was built; callers build a new
 *    one after a grant changes (service.ts does, on every request).
 */

export type Level = 0 | 1 | 2
export const NONE: Level = 0
export const READ: Level = 1
export const WRITE: Level = 2

export type AccessName = 'read' | 'read-write'
export const levelOf = (a: AccessName): Level => (a === 'read-write' ? WRITE : READ)
export const nameOf = (l: Level): AccessName | 'none' => (l >= WRITE ? 'read-write' : l === READ ? 'read' : 'none')

/** A grant as the rules see it: `backend` '*' is every backend, `bucket` '' every bucket, `prefix` '' the whole bucket. */
export type Rule = { backend: string; bucket: string; prefix: string; level: Level }

/** What a listing at an uncovered prefix may show: only the way down to the granted folders below it. */
export type Listing = { mode: 'all' } | { mode: 'within'; prefixes: string[] }

export type AccessView = {
  readonly admin: boolean
  /** The highest level any grant of the account reaches (capped), for "may this account write anything at all". */
  readonly ceiling: Level
  /** The level on a key or prefix (`''` is the whole bucket). */
  levelAt(backend: string, bucket: string, path: string): Level
  /** The highest level on any part of the bucket. */
  bucketLevel(backend: string, bucket: string): Level
  backendVisible(backend: string): boolean
  /** Level on every bucket of the backend at once (whole-backend grants only). */
  backendLevel(backend: string): Level
  /** Buckets named by grants on this backend (whole-backend grants cover the rest). */
  namedBuckets(backend: string): Set<string>
  /** Whether a listing at `prefix` is allowed, and how much of it. Undefined when nothing at or below it is granted. */
  listing(backend: string, bucket: string, prefix: string): Listing | undefined
  /** The fewest folders that together hold everything readable in the bucket: `['']` for all of it, `[]` for none. */
  readableRoots(backend: string, bucket: string): string[]
}

const hasDotDot = (path: string): boolean => path.split('/').includes('..')

export function covers(prefix: string, path: string): boolean {
  return prefix === '' || (path.startsWith(prefix) && !hasDotDot(path))
}

const onBackend = (r: Rule, backend: string): boolean => r.backend === '*' || r.backend === backend
const onBucket = (r: Rule, backend: string, bucket: string): boolean => onBackend(r, backend) && (r.bucket === '' || r.bucket === bucket)

export function adminView(): AccessView {
  return {
    admin: true,
    ceiling: WRITE,
    levelAt: () => WRITE,
    bucketLevel: () => WRITE,
    backendVisible: () => true,
    backendLevel: () => WRITE,
    namedBuckets: () => new Set(),
    listing: () => ({ mode: 'all' }),
    readableRoots: () => [''],
  }
}

export function compileView(rules: readonly Rule[], cap: Level): AccessView {
  const capped = (l: number): Level => Math.min(l, cap) as Level
  const best = (matching: (r: Rule) => boolean): Level => capped(rules.reduce((m, r) => (r.level > m && matching(r) ? r.level : m), 0))
  const levelAt = (backend: string, bucket: string, path: string): Level => best((r) => onBucket(r, backend, bucket) && covers(r.prefix, path))
  return {
    admin: false,
    ceiling: best(() => true),
    levelAt,
    bucketLevel: (backend, bucket) => best((r) => onBucket(r, backend, bucket)),
    backendVisible: (backend) => cap > NONE && rules.some((r) => onBackend(r, backend)),
    backendLevel: (backend) => best((r) => onBackend(r, backend) && r.bucket === ''),
    namedBuckets: (backend) => new Set(rules.filter((r) => r.bucket !== '' && onBackend(r, backend)).map((r) => r.bucket)),
    listing(backend, bucket, prefix) {
      if (levelAt(backend, bucket, prefix) > NONE) return { mode: 'all' }
      if (cap === NONE || hasDotDot(prefix)) return undefined
      const below = rules.filter((r) => onBucket(r, backend, bucket) && r.prefix !== prefix && r.prefix.startsWith(prefix)).map((r) => r.prefix)
      return below.length ? { mode: 'within', prefixes: [...new Set(below)].sort() } : undefined
    },
    readableRoots(backend, bucket) {
      if (cap === NONE) return []
      const all = [...new Set(rules.filter((r) => onBucket(r, backend, bucket)).map((r) => r.prefix))].sort()
      return all.filter((p) => !all.some((q) => q !== p && covers(q, p)))
    },
  }
}
