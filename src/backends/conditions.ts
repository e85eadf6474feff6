// SPDX-License-Identifier: AGPL-3.0-or-later
/** HTTP precondition rules shared by the drivers that evaluate conditions themselves. */
import { BackendError, type CopyConditions, type ObjectInfo } from './backend.ts'

export function etagListMatches(header: string, etag: string): boolean {
  const bare = (tag: string): string =>
    tag
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1')
  const want = bare(etag)
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === want)
}

/** HTTP dates carry whole seconds, so modification times compare at that precision. */
export function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000)
}

/**
 * A copy's source conditions, which S3 evaluates like a GET's except that
 * what would be a 304 fails too: If-Match, else If-Unmodified-Since; then
 * If-None-Match, else If-Modified-Since.
 */
export function checkCopyConditions(info: ObjectInfo, c: CopyConditions | undefined): void {
  if (!c) return
  const etag = info.etag ?? ''
  const modified = info.lastModified ?? new Date(0)
  const failed = (): never => {
    throw new BackendError('precondition', 'A copy source precondition failed')
  }
  if (c.ifMatch !== undefined) {
    if (!etagListMatches(c.ifMatch, etag)) failed()
  } else if (c.ifUnmodifiedSince && seconds(modified) > seconds(c.ifUnmodifiedSince)) failed()
  if (c.ifNoneMatch !== undefined) {
    if (etagListMatches(c.ifNoneMatch, etag)) failed()
  } else if (c.ifModifiedSince && seconds(modified) <= seconds(c.ifModifiedSince)) failed()
}
