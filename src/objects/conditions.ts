// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Conditional reads (RFC 9110 §13.2.2), evaluated on the object's own ETag and
 * Last-Modified so HEAD, GET and drivers that ignore the headers all agree:
 * If-Match / If-Unmodified-Since failing → 412; If-None-Match /
 * If-Modified-Since matching → 304.
 */
import type { ObjectInfo } from '../backends/backend.ts'

export type Conditions = { ifMatch?: string; ifNoneMatch?: string; ifModifiedSince?: Date; ifUnmodifiedSince?: Date }

function date(v: string | null): Date | undefined {
  if (!v) return undefined
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? undefined : d
}

export function readConditions(h: Headers): Conditions {
  return {
    ...(h.get('if-match') ? { ifMatch: h.get('if-match')! } : {}),
    ...(h.get('if-none-match') ? { ifNoneMatch: h.get('if-none-match')! } : {}),
    ...(date(h.get('if-modified-since')) ? { ifModifiedSince: date(h.get('if-modified-since')) } : {}),
    ...(date(h.get('if-unmodified-since')) ? { ifUnmodifiedSince: date(h.get('if-unmodified-since')) } : {}),
  }
}

const bare = (etag: string): string => etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '')

/** The ETag as an HTTP header value (always quoted). */
export function etagHeader(etag: string): string {
  return `"${bare(etag)}"`
}

function listMatches(list: string, etag: string | undefined): boolean {
  if (list.trim() === '*') return true
  if (!etag) return false
  const want = bare(etag)
  return list.split(',').some((e) => bare(e) === want)
}

const seconds = (d: Date): number => Math.floor(d.getTime() / 1000)

export function evaluate(c: Conditions, info: ObjectInfo): 200 | 304 | 412 {
  if (c.ifMatch !== undefined) {
    if (!listMatches(c.ifMatch, info.etag)) return 412
  } else if (c.ifUnmodifiedSince && info.lastModified && seconds(info.lastModified) > seconds(c.ifUnmodifiedSince)) {
    return 412
  }
  if (c.ifNoneMatch !== undefined) {
    if (listMatches(c.ifNoneMatch, info.etag)) return 304
  } else if (c.ifModifiedSince && info.lastModified && seconds(info.lastModified) <= seconds(c.ifModifiedSince)) {
    return 304
  }
  return 200
}
