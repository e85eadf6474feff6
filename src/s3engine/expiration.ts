// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `x-amz-expiration` on object reads and writes, as AWS and RGW send it:
 * when the bucket's lifecycle rules will expire the object and by which rule
 * (`expiry-date="Fri, 11 Dec 2026 00:00:00 GMT", rule-id="…"`). The rule's
 * ID is URL-encoded, as AWS documents, so any ID makes a valid header. The
 * header only informs: a failure to work it out leaves it out.
 */
import { expiryNeedsTags, expiryOf } from '../backends/bucket-rules.ts'
import { keyOf, type OpContext } from './context.ts'

/** `tags`: the object's, when the caller knows them; otherwise they are read if a rule filters on tags (unless `tagCount` says there are none). */
type Expiring = { size: number; lastModified?: Date; tags?: Record<string, string>; tagCount?: number }

async function tagsOf(c: OpContext, o: Expiring): Promise<Record<string, string>> {
  if (o.tags) return o.tags
  return o.tagCount === 0 ? {} : c.backend.getObjectTags(c.bucket, keyOf(c))
}

/** The header for the key's current object, or none. */
export async function expirationHeader(c: OpContext, o: Expiring): Promise<Record<string, string>> {
  const rules = c.backend.bucketRules
  if (!rules) return {}
  try {
    const lifecycle = await rules.getLifecycle(c.bucket)
    if (!lifecycle) return {}
    const key = keyOf(c)
    const tags = expiryNeedsTags(lifecycle, key) ? await tagsOf(c, o) : {}
    const due = expiryOf(lifecycle, key, o.size, (o.lastModified ?? new Date()).getTime(), () => tags)
    return due ? { 'x-amz-expiration': `expiry-date="${new Date(due.at).toUTCString()}", rule-id="${encodeURIComponent(due.ruleId)}"` } : {}
  } catch {
    return {}
  }
}
