// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The one function that decides whether an account may touch storage:
 * routes (through the guard's `needs` declaration), share links and the S3
 * listener all ask `decide` with what they want, before any backend call.
 * A refusal never depends on whether the backend, bucket or key exists, so
 * it tells a caller nothing about what lies outside their grants.
 */
import { fail } from '../http/errors.ts'
import { NONE, READ, WRITE, type AccessView, type Level, type Listing } from './view.ts'

export type Want =
  /** See the backend at all (any grant on it). */
  | { kind: 'backend'; backend: string }
  /** See the bucket, or reach `level` somewhere in it. */
  | { kind: 'bucket'; backend: string; bucket: string; level?: Level }
  /** A key or a folder prefix (`''`: the whole bucket) at `level`. */
  | { kind: 'path'; backend: string; bucket: string; path: string; level: Level }
  /** A one-level listing at `prefix`: granted there, or the way down to granted folders below it. */
  | { kind: 'list'; backend: string; bucket: string; prefix: string }
  /** Create buckets: read-write on the whole backend. */
  | { kind: 'create-bucket'; backend: string }

export type Decision = { view: AccessView; listing?: Listing }

function refuse(have: Level, w: Want): never {
  const where = {
    backend: w.backend,
    ...('bucket' in w ? { bucket: w.bucket } : {}),
    ...(w.kind === 'path' ? { path: w.path } : w.kind === 'list' ? { path: w.prefix } : {}),
  }
  throw have >= READ ? fail('read_only_access', undefined, where) : fail('access_denied', undefined, where)
}

/** Returns what a listing may show when the view allows every want; throws `access_denied` or `read_only_access` otherwise. */
export function decide(view: AccessView, wants: readonly Want[]): Decision {
  if (view.admin) return { view, listing: { mode: 'all' } }
  let listing: Listing | undefined
  for (const w of wants) {
    switch (w.kind) {
      case 'backend':
        if (!view.backendVisible(w.backend)) refuse(NONE, w)
        break
      case 'bucket': {
        const have = view.bucketLevel(w.backend, w.bucket)
        if (have < (w.level ?? READ)) refuse(have, w)
        break
      }
      case 'path': {
        const have = view.levelAt(w.backend, w.bucket, w.path)
        if (have < w.level) refuse(have, w)
        break
      }
      case 'list':
        listing = view.listing(w.backend, w.bucket, w.prefix)
        if (!listing) refuse(NONE, w)
        break
      case 'create-bucket': {
        const have = view.backendLevel(w.backend)
        if (have < WRITE) refuse(have, w)
        break
      }
    }
  }
  return { view, ...(listing ? { listing } : {}) }
}

/** `decide` as a yes/no, for paths that answer in their own dialect (S3 errors, share statuses). */
export function allows(view: AccessView, wants: readonly Want[]): boolean {
  try {
    decide(view, wants)
    return true
  } catch {
    return false
  }
}
