// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The paging parameters of every list route, and the one way to declare an
 * integer in a query or a path. Values are plain decimal digits within fixed
 * bounds; anything else — negative, zero where a size is meant, too large,
 * fractional, `1e3`, `0x10`, `Infinity` — is 400 `bad_request` naming the
 * parameter. Elysia's own numeric coercion accepts several of those and says
 * which parameter failed only for some, and SQLite reads a negative LIMIT as
 * "no limit" and a fractional one as a datatype mismatch.
 */
import { t } from 'elysia'
import { fail } from './errors.ts'

/** Deepest offset a list accepts; further back, filters (or the audit CSV export) reach the rows. */
export const MAX_OFFSET = 1_000_000

export type PageSize = { max: number; fallback: number }

/** An integer from `min` to `max` given as decimal digits, decoded to a number. */
export function integerParam(name: string, min: number, max: number, description: string) {
  const bounds = `an integer from ${min} to ${max}`
  return t
    .Transform(t.String({ pattern: '^[0-9]{1,16}$', description: `${description} (${bounds})`, error: `Expected ${bounds}` }))
    .Decode((digits) => {
      const n = Number(digits)
      if (n < min || n > max) throw fail('bad_request', `${name} must be ${bounds}.`, [{ path: `/${name}`, message: `Expected ${bounds}` }])
      return n
    })
    .Encode((n) => String(n))
}

/** A page size: 1..`max`; the handler uses `fallback` when it is absent. */
export function pageLimit(o: PageSize, name = 'limit') {
  return t.Optional(integerParam(name, 1, o.max, `Items per page; default ${o.fallback}`))
}

/** `limit` and `offset`, for lists paged by position. */
export function offsetPaging(o: PageSize) {
  return { limit: pageLimit(o), offset: t.Optional(integerParam('offset', 0, MAX_OFFSET, 'Items to skip; default 0')) }
}
