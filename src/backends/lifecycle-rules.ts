// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The dashboard's lifecycle rules (a prefix and day counts) to and from the
 * S3 rules a backend keeps itself (bucket-rules.ts). A rule the dashboard
 * cannot show whole (a tag or size filter, an expiration date) reads back
 * with its prefix and day counts; saving from the dashboard replaces it.
 */
import { randomUUID } from 'node:crypto'
import { BackendError, type LifecycleRule } from './backend.ts'
import { rulePrefix, type BucketLifecycleRule } from './bucket-rules.ts'

export function fromBucketRules(rules: BucketLifecycleRule[]): LifecycleRule[] {
  return rules.map((r) => {
    const prefix = rulePrefix(r)
    const e = r.expiration
    return {
      id: r.id,
      ...(prefix ? { prefix } : {}),
      enabled: r.enabled,
      ...(e && 'days' in e ? { expiration_days: e.days } : {}),
      ...(r.noncurrentDays !== undefined ? { noncurrent_expire_days: r.noncurrentDays } : {}),
      ...(r.abortIncompleteDays !== undefined ? { abort_incomplete_days: r.abortIncompleteDays } : {}),
    }
  })
}

export function toBucketRules(rules: LifecycleRule[]): BucketLifecycleRule[] {
  return rules.map((r) => {
    if (r.transition_days !== undefined) throw new BackendError('not_supported', 'a directory has no storage classes to move objects to')
    return {
      id: r.id ?? randomUUID(),
      enabled: r.enabled,
      scope: { kind: 'filter', and: false, filter: { ...(r.prefix ? { prefix: r.prefix } : {}), tags: [] } },
      ...(r.expiration_days !== undefined ? { expiration: { days: r.expiration_days } } : {}),
      ...(r.noncurrent_expire_days !== undefined ? { noncurrentDays: r.noncurrent_expire_days } : {}),
      ...(r.abort_incomplete_days !== undefined ? { abortIncompleteDays: r.abort_incomplete_days } : {}),
    }
  })
}
