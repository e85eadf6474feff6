// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What a listing shows of each object, remembered between pages, so a page
 * costs one stat per object it lists rather than a stat, a sidecar lookup and
 * a stat of the sidecar.
 *
 * Every listed file is still stat'ed: a file rewritten in place by other
 * means (cp onto it, an editor over SMB) keeps its directory's mtime, so only
 * its own inode, size and mtime tell. The facts are kept with the stamp of the
 * file they were read for and read again when the stamp differs. Sidecars
 * belong to the root and change only through this process (commit, metadata
 * edit, tags, delete), which forgets the object's facts under the bucket lock
 * as it changes one; a root opened again (recovery may have put sidecars in
 * place) starts with none.
 *
 * A known file is checked with a plain stat, half the cost of a BigInt one
 * (its mtime is a double of milliseconds, which is compared with the value
 * derived from the exact stamp the facts were read under, as Node derives
 * it); a file seen for the first time gets the exact stat that sidecars and
 * dropped-in ETags need. Should the two derivations ever disagree, the facts
 * are only read again, never mistaken.
 */
import { lstatSync, readdirSync, realpathSync, type BigIntStats, type Stats } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { ObjectInfo } from '../backend.ts'
import type { FsContext } from './context.ts'
import { isErrno } from './errors.ts'
import { readRecord } from './json.ts'
import { adopt, describes, infoOf, parseSidecar, sidecarPath, type Listed } from './sidecar.ts'

type Facts = { ino: number; size: number; mtimeMs: number; sc: Listed }

/** By bucket directory and key. ~0.5 KiB each: enough for folders listed again and again a few thousand keys at a time. */
const known = new Map<string, Facts>()
const KNOWN_MAX = 16_384

const idOf = (bucketDir: string, key: string): string => `${bucketDir}\0${key}`

/** Forgets what listings know of one object; called whenever its sidecar changes. */
export function forgetListed(ctx: FsContext, bucket: string, key: string): void {
  known.delete(idOf(ctx.bucketDir(bucket), key))
}

/** Forgets every object under `dir` (a bucket directory or a whole root). */
export function forgetListedUnder(dir: string): void {
  const from = dir + '/'
  for (const id of known.keys()) if (id.startsWith(from)) known.delete(id)
}

function plainMtimeMs(st: BigIntStats): number {
  return Number(st.mtimeNs / 1_000_000_000n) * 1000 + Number(st.mtimeNs % 1_000_000_000n) / 1e6
}

function missing(err: unknown): boolean {
  return isErrno(err, 'ENOENT', 'ENOTDIR')
}

/**
 * The sidecar shard directories (`meta/<bucket>/<xx>`) that exist and are no
 * links, read once per page and only when a page meets an object it does not
 * know: lookups in absent shards (in a folder of dropped-in files, all of
 * them) are skipped, and the others need no check of their path.
 */
function shardsOf(ctx: FsContext, bucket: string): Set<string> {
  const dir = ctx.metaDir(bucket)
  try {
    if (!lstatSync(dir).isDirectory() || realpathSync(dir) !== dir) return new Set()
    return new Set(readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? [d.name] : [])))
  } catch (err) {
    if (missing(err)) return new Set()
    throw err
  }
}

/**
 * A page's view of one bucket: what it shows for the file found at `path`
 * for `key`, or null when the file went away meanwhile. Synchronous: a page
 * stats up to a thousand files, each a few microseconds, and a trip through
 * the I/O thread pool apiece would cost more than the stat.
 */
export function listedView(ctx: FsContext, bucket: string): (key: string, path: string, withMetadata: boolean) => ObjectInfo | null {
  const bucketDir = ctx.bucketDir(bucket)
  let shards: Set<string> | undefined
  return (key, path, withMetadata) => {
    const id = idOf(bucketDir, key)
    const hit = known.get(id)
    if (hit) {
      let st: Stats | undefined
      try {
        st = lstatSync(path)
      } catch (err) {
        if (!missing(err)) throw err
      }
      if (!st?.isFile()) return null
      if (st.ino === hit.ino && st.size === hit.size && st.mtimeMs === hit.mtimeMs) return infoOf(hit.sc, withMetadata)
    }
    let st: BigIntStats
    try {
      st = lstatSync(path, { bigint: true })
    } catch (err) {
      if (missing(err)) return null
      throw err
    }
    if (!st.isFile()) return null
    const scPath = sidecarPath(ctx, bucket, key)
    shards ??= shardsOf(ctx, bucket)
    const text = shards.has(basename(dirname(scPath))) ? readRecord(scPath, { dirChecked: true }) : null
    const parsed = text === null ? null : parseSidecar(text, bucket, key)
    const sc = describes(parsed, st) ? parsed : adopt(bucket, key, st)
    known.delete(id)
    const { size, etag, contentType, lastModified, metadata } = sc
    known.set(id, { ino: Number(st.ino), size: Number(st.size), mtimeMs: plainMtimeMs(st), sc: { key, size, etag, contentType, lastModified, metadata } })
    if (known.size > KNOWN_MAX) known.delete(known.keys().next().value!)
    return infoOf(sc, withMetadata)
  }
}
