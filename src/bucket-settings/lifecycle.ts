// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Lifecycle rule validation before anything reaches the backend, so a bad
 * rule is a 400 `invalid_lifecycle` naming the rule and field rather than an
 * opaque upstream refusal.
 */
import type { LifecycleRule } from '../backends/backend.ts'
import { fail } from '../http/errors.ts'
import { keyProblem } from '../storage/validate.ts'

export const MAX_LIFECYCLE_RULES = 1000
const MAX_DAYS = 100_000
const STORAGE_CLASS = /^[A-Z][A-Z0-9_]{0,63}$/

function bad(i: number, field: string, message: string): never {
  throw fail('invalid_lifecycle', `Rule ${i + 1}: ${message}`, [{ path: `/rules/${i}/${field}`, message }])
}

function days(
  i: number,
  r: LifecycleRule,
  field: 'expiration_days' | 'noncurrent_expire_days' | 'abort_incomplete_days' | 'transition_days',
  min: number,
): void {
  const v = r[field]
  if (v !== undefined && (v < min || v > MAX_DAYS)) bad(i, field, `must be ${min}..${MAX_DAYS} days`)
}

export function validateLifecycle(rules: LifecycleRule[]): LifecycleRule[] {
  if (rules.length > MAX_LIFECYCLE_RULES) throw fail('invalid_lifecycle', `At most ${MAX_LIFECYCLE_RULES} rules.`)
  const ids = new Set<string>()
  rules.forEach((r, i) => {
    if (r.id !== undefined) {
      if (r.id.trim() === '') bad(i, 'id', 'the id cannot be blank')
      if (ids.has(r.id)) bad(i, 'id', `the id "${r.id.slice(0, 64)}" is used twice`)
      ids.add(r.id)
    }
    if (r.prefix) {
      const problem = keyProblem(r.prefix)
      if (problem) bad(i, 'prefix', problem)
    }
    days(i, r, 'expiration_days', 1)
    days(i, r, 'noncurrent_expire_days', 1)
    days(i, r, 'abort_incomplete_days', 1)
    days(i, r, 'transition_days', 0)
    if ((r.transition_days === undefined) !== (r.transition_storage_class === undefined)) {
      bad(i, 'transition_storage_class', 'transition_days and transition_storage_class go together')
    }
    if (r.transition_storage_class !== undefined && !STORAGE_CLASS.test(r.transition_storage_class))
      bad(i, 'transition_storage_class', 'a storage class is upper-case letters, digits and "_"')
    if (r.expiration_days === undefined && r.noncurrent_expire_days === undefined && r.abort_incomplete_days === undefined && r.transition_days === undefined) {
      bad(i, 'enabled', 'a rule needs at least one action (expiration, noncurrent expiration, abort of incomplete uploads or transition)')
    }
  })
  return rules
}
