// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Listing versions: of one key (the dashboard), the keys whose latest
 * version is a delete marker (the dashboard's "deleted" list), and S3's
 * ListObjectVersions over a whole bucket.
 *
 * A key's versions are its bucket file (the latest, when there is one) and
 * then its record's, newest first (versions.ts). ListObjectVersions walks the
 * bucket and the record tree side by side with the bucket lister (list.ts),
 * both from the key marker, and merges them: each page of either is at most
 * as many keys as the page holds versions, and every key brings at least one
 * version, so the merge never passes a key the other walk has not reached.
 */
import type { ObjectInfo, VersionInfo, VersionListOptions, VersionPage } from '../backend.ts'
import type { FsContext } from './context.ts'
import { compareKeys } from '../../lib/key-order.ts'
import { listPage } from './list.ts'
import { listedView } from './listed.ts'
import { infoOf } from './sidecar.ts'
import { locate } from './tree.ts'
import { currentOf, indexPage, storedVersions, topStored, type StoredVersion } from './versions.ts'

function storedInfo(key: string, v: StoredVersion, isLatest: boolean): VersionInfo {
  if (v.marker) return { key, size: 0, versionId: v.versionId, isLatest, isDeleteMarker: true, lastModified: new Date(v.lastModified) }
  return { ...infoOf(v.sc, false), key, versionId: v.versionId, isLatest, isDeleteMarker: false }
}

/** The versions of a key, newest first, given its bucket file's listing (if any). */
async function stackOf(ctx: FsContext, bucket: string, key: string, current: ObjectInfo | null): Promise<VersionInfo[]> {
  const stored = await storedVersions(ctx, bucket, key)
  const out: VersionInfo[] = []
  const currentId = current ? (current.versionId ?? 'null') : undefined
  if (current) out.push({ ...current, versionId: currentId!, isLatest: true, isDeleteMarker: false })
  for (const v of stored) if (v.versionId !== currentId) out.push(storedInfo(key, v, out.length === 0))
  return out
}

/** Every version of one key, newest first. */
export async function keyVersions(ctx: FsContext, bucket: string, key: string): Promise<VersionInfo[]> {
  const current = await currentOf(ctx, bucket, key)
  return stackOf(ctx, bucket, key, current && { ...infoOf(current.sc, false), storageClass: 'STANDARD' })
}

/** Keys directly under `prefix` whose latest version is a delete marker (at most 1000), with that marker. */
export async function deletedKeys(ctx: FsContext, bucket: string, prefix: string): Promise<VersionInfo[]> {
  const page = await indexPage(ctx, bucket, { prefix, delimiter: '/', maxKeys: 1000 })
  const out: VersionInfo[] = []
  for (const { key } of page.objects) {
    if (await locate(ctx, bucket, key)) continue
    const top = await topStored(ctx, bucket, key)
    if (top?.marker) out.push(storedInfo(key, top, true))
  }
  return out
}

type Item = { kind: 'key'; key: string; current: ObjectInfo | null } | { kind: 'prefix'; prefix: string }
type Walk = { objects: ObjectInfo[]; commonPrefixes: string[]; isTruncated: boolean }

const sortKey = (i: Item): string => (i.kind === 'key' ? i.key : i.prefix)

/** The two walks' entries in key order, a key listed by both once (with its bucket file). */
function merge(a: Walk, b: Walk): Item[] {
  const byKey = new Map<string, Item>()
  for (const o of b.objects) byKey.set('k' + o.key, { kind: 'key', key: o.key, current: null })
  for (const o of a.objects) byKey.set('k' + o.key, { kind: 'key', key: o.key, current: o })
  for (const p of [...a.commonPrefixes, ...b.commonPrefixes]) byKey.set('p' + p, { kind: 'prefix', prefix: p })
  return [...byKey.values()].sort((x, y) => compareKeys(sortKey(x), sortKey(y)))
}

/** How far a page of a walk that has more reached: past it, the other walk's entries may not be all there is. */
function reach(w: Walk): string | null {
  if (!w.isTruncated) return null
  const last = [w.objects.at(-1)?.key, w.commonPrefixes.at(-1)].filter((k): k is string => k !== undefined)
  return last.sort(compareKeys).at(-1) ?? null
}

/**
 * A page of versions. The two walks are read from the same point, and merged
 * only as far as both reached (a key with entries may have none readable, so
 * a walk's page can hold fewer versions than keys); from there they are read
 * again until the page is full or both are done.
 */
export async function versionPage(ctx: FsContext, bucket: string, opts: VersionListOptions): Promise<VersionPage> {
  const max = Math.min(opts.maxKeys ?? 1000, 1000)
  const page: VersionPage = { versions: [], commonPrefixes: [], isTruncated: false }
  const full = (): boolean => page.versions.length + page.commonPrefixes.length >= max
  /** Adds a key's versions; false when the page filled up before the last of them. */
  const addAll = (key: string, versions: VersionInfo[]): boolean => {
    for (const v of versions) {
      if (full()) {
        page.isTruncated = true
        return false
      }
      page.versions.push(v)
      page.nextKeyMarker = key
      page.nextVersionIdMarker = v.versionId
    }
    return true
  }
  const finish = (): VersionPage => {
    if (!page.isTruncated) {
      delete page.nextKeyMarker
      delete page.nextVersionIdMarker
    }
    return page
  }
  let after = opts.keyMarker ?? ''
  if (after !== '' && opts.versionIdMarker) {
    const all = await keyVersions(ctx, bucket, after)
    const at = all.findIndex((v) => v.versionId === opts.versionIdMarker)
    if (!addAll(after, at < 0 ? [] : all.slice(at + 1))) return finish()
  }
  for (;;) {
    const listOpts = { prefix: opts.prefix ?? '', delimiter: opts.delimiter ?? '', maxKeys: max, ...(after !== '' ? { startAfter: after } : {}) }
    const [files, records] = await Promise.all([
      listPage(ctx.bucketDir(bucket), { ...listOpts, withMetadata: false }, listedView(ctx, bucket)),
      indexPage(ctx, bucket, listOpts),
    ])
    const reaches = [reach(files), reach(records)].filter((r): r is string => r !== null).sort(compareKeys)
    const bound = reaches[0] ?? null
    for (const item of merge(files, records)) {
      if (bound !== null && compareKeys(sortKey(item), bound) > 0) break
      if (full()) {
        page.isTruncated = true
        return finish()
      }
      if (item.kind === 'prefix') {
        page.commonPrefixes.push(item.prefix)
        page.nextKeyMarker = item.prefix
        delete page.nextVersionIdMarker
      } else if (!addAll(item.key, await stackOf(ctx, bucket, item.key, item.current))) return finish()
    }
    if (bound === null) return finish()
    if (full()) {
      page.isTruncated = true
      return finish()
    }
    after = bound
  }
}
