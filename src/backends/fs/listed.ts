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
 * The stats of a page are made together, off the event loop (stat-batch.ts).
 * A commit may land between that stat and the sidecar read here; a sidecar
 * that does not match the stamp is therefore checked against a fresh stat
 * before the file is taken for one dropped in from outside.
 */
import { lstatSync, readdirSync, realpathSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { FsContext } from './context.ts'
import type { Describe } from './list.ts'
import { isErrno } from './errors.ts'
import { readRecord } from './json.ts'
import { adopt, describes, infoOf, parseSidecar, sidecarPath, type Listed } from './sidecar.ts'
import { statFiles, statHere, type Stamp } from './stat-batch.ts'

type Facts = Stamp & { sc: Listed }

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

/** A page's view of one bucket: what it shows for each file found for a key, or null for one that went away meanwhile. */
export function listedView(ctx: FsContext, bucket: string): Describe {
  const bucketDir = ctx.bucketDir(bucket)
  let shards: Set<string> | undefined
  const read = (key: string, path: string, stamp: Stamp): Facts | null => {
    const scPath = sidecarPath(ctx, bucket, key)
    shards ??= shardsOf(ctx, bucket)
    const text = shards.has(basename(dirname(scPath))) ? readRecord(scPath, { dirChecked: true }) : null
    const parsed = text === null ? null : parseSidecar(text, bucket, key)
    let st: Stamp | null = stamp
    if (parsed && !describes(parsed, st)) st = statHere(path)
    if (!st) return null
    const { size, etag, contentType, lastModified, metadata, versionId } = describes(parsed, st) ? parsed : adopt(bucket, key, st)
    return {
      ...st,
      sc:
        versionId === undefined
          ? { key, size, etag, contentType, lastModified, metadata }
          : { key, size, etag, contentType, lastModified, metadata, versionId },
    }
  }
  return async (files, withMetadata) => {
    const stamps = await statFiles(files.map((f) => f.path))
    return files.map(({ key, path }, i) => {
      const stamp = stamps[i]
      if (!stamp) return null
      const id = idOf(bucketDir, key)
      const hit = known.get(id)
      if (hit && hit.ino === stamp.ino && hit.size === stamp.size && hit.mtimeNs === stamp.mtimeNs) return infoOf(hit.sc, withMetadata)
      const facts = read(key, path, stamp)
      known.delete(id)
      if (!facts) return null
      known.set(id, facts)
      if (known.size > KNOWN_MAX) known.delete(known.keys().next().value!)
      return infoOf(facts.sc, withMetadata)
    })
  }
}
