// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * GET …/objects: one page of a listing, continuation tokens passed straight
 * through. Above granted folders (a caller granted `photos/2024/` listing
 * `photos/`), the answer is the way down to them, made from the grants
 * without asking the backend, so nothing beside them shows.
 */
import type { Listing } from '../access/view.ts'
import { fail } from '../http/errors.ts'
import { storage } from '../storage/errors.ts'
import { validateListPrefix } from '../storage/validate.ts'
import { LIST_PAGE, objectDTO, type ListDTO } from './model.ts'
import type { ObjectDeps, Target } from './target.ts'

export type ListRequest = { prefix?: string; delimiter?: string; token?: string; max_keys?: number }

/** The next level of each granted folder below `prefix`, as common prefixes. */
function wayDown(prefix: string, granted: readonly string[]): string[] {
  const next = granted.map((g) => prefix + g.slice(prefix.length, g.indexOf('/', prefix.length) + 1))
  return [...new Set(next)].sort()
}

export async function listObjects(d: ObjectDeps, t: Target, q: ListRequest, listing: Listing | undefined): Promise<ListDTO> {
  const prefix = validateListPrefix(q.prefix ?? '')
  // Absent means one level ("/"); present but empty means flat.
  const delimiter = q.delimiter ?? '/'
  if (listing?.mode === 'within') {
    if (delimiter !== '/')
      throw fail('access_denied', 'Only your granted folders can be listed here; list one level at a time, or inside a granted folder.', { path: prefix })
    return { prefix, delimiter, common_prefixes: wayDown(prefix, listing.prefixes), is_truncated: false, objects: [] }
  }
  const page = await storage(
    t.backend.listObjects(t.bucket, { prefix, delimiter, ...(q.token ? { token: q.token } : {}), maxKeys: q.max_keys ?? LIST_PAGE.fallback }),
    d.logger,
    { invalid: 'bad_request' },
  )
  return {
    prefix,
    delimiter,
    common_prefixes: page.commonPrefixes,
    is_truncated: page.isTruncated,
    ...(page.isTruncated && page.nextToken ? { next_continuation_token: page.nextToken } : {}),
    objects: page.objects.map(objectDTO),
  }
}
