// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What a credential's scope grants on one bucket. Entries only ever add
 * access: the grant on a bucket is the highest access of every entry that
 * covers it, its exact entry and each prefix it starts with, so adding an
 * entry can never take access away.
 *
 * A prefix covers valid bucket names only, compared byte for byte as the
 * name goes to the storage (after the request path's one percent-decoding):
 * `team-a-x` is inside `team-a-`; `team-a`, `team-ab`, `Team-a-x` and
 * `team-a-x/..` are not (the last two are not bucket names at all), so no
 * spelling of a name outside the prefix can pass for one inside it.
 */
import { isBucketName } from '../storage/validate.ts'
import type { BucketAccess, BucketScope, PrefixScope } from './model.ts'

export const ACCESS_RANK: Readonly<Record<BucketAccess, number>> = { read: 1, 'read-write': 2, owner: 3 }

/** The scope in the form the proxy checks on every request. */
export type ScopeIndex = { exact: ReadonlyMap<string, BucketAccess>; prefixes: readonly PrefixScope[] }

export function indexScope(entries: readonly BucketScope[]): ScopeIndex {
  const exact = new Map<string, BucketAccess>()
  const prefixes: PrefixScope[] = []
  for (const e of entries) {
    if ('prefix' in e) prefixes.push(e)
    else exact.set(e.bucket, e.access)
  }
  return { exact, prefixes }
}

export function isPrefixScope(e: BucketScope): e is PrefixScope {
  return 'prefix' in e
}

/** The access the scope grants on `bucket`, or undefined when none of its entries covers it. */
export function accessFor(scope: ScopeIndex, bucket: string): BucketAccess | undefined {
  let best = scope.exact.get(bucket)
  if (scope.prefixes.length === 0 || !isBucketName(bucket)) return best
  for (const p of scope.prefixes) {
    if (bucket.startsWith(p.prefix) && (best === undefined || ACCESS_RANK[p.access] > ACCESS_RANK[best])) best = p.access
  }
  return best
}
