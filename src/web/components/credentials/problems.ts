// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Places a refused credential or binding next to the field it is about. The server names the field
 * in `detail` (`[{ path: '/buckets/0' }]`) and words `invalid_request` for this case precisely ("No
 * such bucket on this backend: …"), so that sentence is shown rather than the generic catalogue one.
 */
import { ApiError } from '../../lib/api.ts'
import { errorMessage } from '../../lib/error-text.ts'

export type Problem = { field: string | undefined; text: string }

export function problemOf(err: unknown, fields: readonly string[]): Problem | undefined {
  if (!(err instanceof ApiError) || err.status !== 400) return undefined
  const items = Array.isArray(err.detail) ? err.detail : []
  const path = items.map((item) => (item as { path?: unknown } | null)?.path).find((p): p is string => typeof p === 'string')
  const field = fields.find((name) => path === `/${name}` || path?.startsWith(`/${name}/`))
  if (!field) return undefined
  const text = err.code === 'invalid_request' && err.message ? err.message : errorMessage(err)
  return { field, text }
}
