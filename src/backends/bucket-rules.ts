// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A bucket's versioning state, lifecycle rules and tags in S3's own terms,
 * for backends whose buckets Stowage keeps these for itself (a directory has
 * nowhere else to keep them). The dashboard's `LifecycleRule` is a subset of a rule here; the S3
 * engine reads and writes the whole of it.
 *
 * A rule keeps the form it was given in (its own `Prefix`, or a `Filter`,
 * alone or with `And`), so a configuration reads back as it was sent.
 */
export type LifecycleFilter = {
  prefix?: string
  tags: Array<[string, string]>
  sizeGreaterThan?: number
  sizeLessThan?: number
}

export type LifecycleScope = { kind: 'prefix'; prefix: string } | { kind: 'filter'; and: boolean; filter: LifecycleFilter }

export type LifecycleExpiration = { days: number } | { date: string } | { expiredObjectDeleteMarker: boolean }

export type BucketLifecycleRule = {
  id: string
  enabled: boolean
  scope: LifecycleScope
  expiration?: LifecycleExpiration
  /** Days after a version stops being the latest that it is removed. */
  noncurrentDays?: number
  newerNoncurrentVersions?: number
  abortIncompleteDays?: number
}

/** S3's versioning states; a bucket that was never versioned has none. */
export type VersioningStatus = 'Enabled' | 'Suspended'

export type BucketRules = {
  /** Null when versioning was never turned on. */
  getVersioning(bucket: string): Promise<VersioningStatus | null>
  setVersioning(bucket: string, status: VersioningStatus): Promise<void>
  /** Null when the bucket has no lifecycle configuration. */
  getLifecycle(bucket: string): Promise<BucketLifecycleRule[] | null>
  setLifecycle(bucket: string, rules: BucketLifecycleRule[]): Promise<void>
  deleteLifecycle(bucket: string): Promise<void>
  /** Null when the bucket has no tag set. */
  getTags(bucket: string): Promise<Array<[string, string]> | null>
  setTags(bucket: string, tags: Array<[string, string]>): Promise<void>
  deleteTags(bucket: string): Promise<void>
}

/** The prefix every object a rule applies to starts with. */
export function rulePrefix(rule: BucketLifecycleRule): string {
  return rule.scope.kind === 'prefix' ? rule.scope.prefix : (rule.scope.filter.prefix ?? '')
}

/** Whether an object of this key, size and tag set is within the rule's scope; tags `null`: not known yet, taken to match. */
export function ruleMatches(rule: BucketLifecycleRule, key: string, size: number, tags: (() => Record<string, string>) | null): boolean {
  if (!key.startsWith(rulePrefix(rule))) return false
  if (rule.scope.kind === 'prefix') return true
  const f = rule.scope.filter
  if (f.sizeGreaterThan !== undefined && !(size > f.sizeGreaterThan)) return false
  if (f.sizeLessThan !== undefined && !(size < f.sizeLessThan)) return false
  if (f.tags.length === 0 || tags === null) return true
  const have = tags()
  return f.tags.every(([k, v]) => Object.hasOwn(have, k) && have[k] === v)
}

const DAY_MS = 86_400_000

/**
 * When something made at `createdMs` is due under a rule of `days` days: S3 adds the days and
 * rounds up to the next midnight UTC.
 */
export function dueAfterDays(createdMs: number, days: number): number {
  return Math.ceil((createdMs + days * DAY_MS) / DAY_MS) * DAY_MS
}

/** When an object made at `createdMs` expires under the rule, or null when the rule expires nothing. */
export function expiresAt(rule: BucketLifecycleRule, createdMs: number): number | null {
  const e = rule.expiration
  if (!rule.enabled || !e) return null
  if ('days' in e) return dueAfterDays(createdMs, e.days)
  if ('date' in e) return Date.parse(e.date)
  return null
}

/** Whether some rule that could expire objects under `key` filters on tags, so the object's tags decide. */
export function expiryNeedsTags(rules: BucketLifecycleRule[], key: string): boolean {
  return rules.some((r) => r.scope.kind === 'filter' && r.scope.filter.tags.length > 0 && expiresAt(r, 0) !== null && key.startsWith(rulePrefix(r)))
}

/**
 * When the rules expire an object made at `createdMs`, and by which rule: the earliest, if several
 * apply (S3's `x-amz-expiration`, and the sweep's test of whether it is due). Tags as for ruleMatches.
 */
export function expiryOf(
  rules: BucketLifecycleRule[],
  key: string,
  size: number,
  createdMs: number,
  tags: (() => Record<string, string>) | null,
): { at: number; ruleId: string } | null {
  let found: { at: number; ruleId: string } | null = null
  for (const r of rules) {
    const at = expiresAt(r, createdMs)
    if (at === null || (found !== null && found.at <= at) || !ruleMatches(r, key, size, tags)) continue
    found = { at, ruleId: r.id }
  }
  return found
}
