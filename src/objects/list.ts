// SPDX-License-Identifier: AGPL-3.0-or-later
/** GET …/objects: one page of a listing, continuation tokens passed straight through. */
import { storage } from '../storage/errors.ts'
import { validateListPrefix } from '../storage/validate.ts'
import { LIST_PAGE, objectDTO, type ListDTO } from './model.ts'
import type { ObjectDeps, Target } from './target.ts'

export type ListRequest = { prefix?: string; delimiter?: string; token?: string; max_keys?: number }

export async function listObjects(d: ObjectDeps, t: Target, q: ListRequest): Promise<ListDTO> {
  const prefix = validateListPrefix(q.prefix ?? '')
  // Absent means one level ("/"); present but empty means flat.
  const delimiter = q.delimiter ?? '/'
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
