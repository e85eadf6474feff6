// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The versions a directory keeps once a bucket's versioning is turned on.
 *
 * The latest version of a key stays where it always is, the file at the key's
 * path, so reads, listings and NAS users see the bucket as before; its
 * sidecar names its version id (`null` while versioning is suspended, and
 * for anything written before versioning or dropped in from outside). The
 * others live beside the bucket:
 *
 * - a record per key, `versions/<bucket>/<key's path>` (the same tree shape
 *   as the bucket, keys.ts), holding the key's noncurrent versions and delete
 *   markers newest first, each data version with the sidecar it had;
 * - their bytes, `vdata/<bucket>/<name>`, a hard link to the file the
 *   version was, made before that file is replaced or removed, so keeping a
 *   version copies nothing.
 *
 * So the latest version is the bucket's file when there is one, and the
 * record's first entry otherwise (a delete marker, or nothing at all). The
 * record tree is listed with the bucket's own lister, which is what makes
 * ListObjectVersions a merge of two sorted walks (version-list.ts).
 *
 * Every change happens under the bucket's commit lock. A version being kept
 * is linked into this process's staging directory first, the record naming
 * it is written, the link moves into `vdata`, and only then does the
 * bucket's file change. A crash before the end leaves the bucket's file as it
 * was and, at worst, a record entry repeating that file's version id, which
 * readers drop in favour of the file (and the next change of the key drops
 * for good); the staged link goes with the staging directory at the next
 * start, so nothing is left that nothing names.
 */
import { randomBytes } from 'node:crypto'
import { linkSync, lstatSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { BackendError } from '../backend.ts'
import type { VersioningStatus } from '../bucket-rules.ts'
import { safeDir, tempPath, type FsContext } from './context.ts'
import { syncDir } from './dir-sync.ts'
import { trackKey } from './dir-index.ts'
import { isErrno } from './errors.ts'
import { withLock } from './lock.ts'
import { placeFile, readRecord, stageJson } from './json.ts'
import { forgetListed } from './listed.ts'
import { describeNow, sidecarPath, stampOf, type Sidecar } from './sidecar.ts'
import { locate, prepareTarget, prune, removeObject, renameOnto, unlinkFile, type Located } from './tree.ts'

export type StoredMarker = { versionId: string; marker: true; lastModified: number }
export type StoredData = { versionId: string; marker?: undefined; lastModified: number; file: string; sc: Sidecar }
export type StoredVersion = StoredMarker | StoredData

type VersionRecord = { v: 'versions'; bucket: string; key: string; versions: StoredVersion[] }

/** The version id of what the bucket's file holds. */
export const idOf = (sc: Sidecar): string => sc.versionId ?? 'null'

/** 32 URL-safe characters, as opaque as S3's. */
export function newVersionId(): string {
  return randomBytes(24).toString('base64url')
}

const archives = new WeakMap<FsContext, FsContext>()

/** The root seen with the record tree in place of bucket directories, for tree.ts. */
function recordTree(ctx: FsContext): FsContext {
  let tree = archives.get(ctx)
  if (!tree) {
    tree = { ...ctx, bucketDir: ctx.versionsDir }
    archives.set(ctx, tree)
  }
  return tree
}

function parseRecord(text: string, bucket: string, key: string): StoredVersion[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return []
  }
  const r = value as Partial<VersionRecord> | null
  if (!r || r.v !== 'versions' || r.bucket !== bucket || r.key !== key || !Array.isArray(r.versions)) return []
  return r.versions.filter(
    (v) => v && typeof v.versionId === 'string' && typeof v.lastModified === 'number' && (v.marker === true || (typeof v.file === 'string' && !!v.sc)),
  )
}

/** The key's noncurrent versions and delete markers, newest first. */
export async function storedVersions(ctx: FsContext, bucket: string, key: string): Promise<StoredVersion[]> {
  const found = await locate(recordTree(ctx), bucket, key)
  const text = found && readRecord(found.path)
  return text ? parseRecord(text, bucket, key) : []
}

/** Replaces the key's record (removes it when nothing is left). Call under the bucket lock. */
export async function writeStored(ctx: FsContext, bucket: string, key: string, versions: StoredVersion[]): Promise<void> {
  const tree = recordTree(ctx)
  const base = await safeDir(ctx.versionsDir(bucket))
  if (versions.length === 0) {
    await trackKey(base, key, async () => {
      if (await removeObject(tree, bucket, key)) await prune(tree, bucket, key)
    })
    return
  }
  const record: VersionRecord = { v: 'versions', bucket, key, versions }
  const tmp = await stageJson(ctx, record)
  try {
    const dir = await trackKey(base, key, async () => {
      const t = await prepareTarget(tree, bucket, key)
      await renameOnto(tmp, t.path, t.replaces)
      if (t.stale) await unlinkFile(t.stale.path, t.stale.size)
      return dirname(t.path)
    })
    await syncDir(dir)
  } finally {
    rmSync(tmp, { force: true })
  }
}

export function dataPath(ctx: FsContext, bucket: string, v: StoredData): string {
  return join(ctx.versionDataDir(bucket), v.file)
}

/** Unlinks the bytes of versions no record names any more. */
export async function dropData(ctx: FsContext, bucket: string, versions: StoredVersion[]): Promise<void> {
  for (const v of versions) {
    if (v.marker) continue
    const path = dataPath(ctx, bucket, v)
    await unlinkFile(path, v.sc.size).catch((err: unknown) => {
      if (!isErrno(err, 'ENOENT')) throw err
    })
  }
}

/** The bucket's file as a noncurrent version: a second name for the same bytes, staged until its record is written. */
function keep(ctx: FsContext, current: Located, sc: Sidecar): { version: StoredData; staged: string } {
  const file = randomBytes(16).toString('hex')
  const staged = tempPath(ctx, 'version')
  linkSync(current.path, staged)
  return { version: { versionId: idOf(sc), lastModified: sc.lastModified, file, sc: { ...sc, ...stampOf(current.st) } }, staged }
}

/** The bucket's file and its metadata, when there is one. */
export async function currentOf(ctx: FsContext, bucket: string, key: string): Promise<(Located & { sc: Sidecar }) | null> {
  const found = await locate(ctx, bucket, key)
  return found && { ...found, sc: await describeNow(ctx, bucket, key, found.st) }
}

/**
 * Before the bucket's file for `key` is replaced or removed under `status`:
 * keeps it as a noncurrent version unless it is the `null` version while
 * versioning is suspended (which the new one replaces), drops a stored
 * `null` version when suspended, and puts `marker` on top when given. The
 * version stack as it stands afterwards. Call under the bucket lock.
 */
export async function retireCurrent(ctx: FsContext, bucket: string, key: string, status: VersioningStatus, marker?: StoredMarker): Promise<StoredVersion[]> {
  const current = await currentOf(ctx, bucket, key)
  let stored = await storedVersions(ctx, bucket, key)
  const before = stored
  const dropped: StoredVersion[] = []
  const without = (id: string): void => {
    dropped.push(...stored.filter((v) => v.versionId === id))
    stored = stored.filter((v) => v.versionId !== id)
  }
  let kept: { version: StoredData; staged: string } | undefined
  if (current && (status === 'Enabled' || idOf(current.sc) !== 'null')) {
    without(idOf(current.sc))
    kept = keep(ctx, current, current.sc)
    stored = [kept.version, ...stored]
  }
  if (status === 'Suspended') without('null')
  if (marker) {
    without(marker.versionId)
    stored = [marker, ...stored]
  }
  try {
    if (stored !== before) await writeStored(ctx, bucket, key, stored)
    if (kept) {
      const dir = await safeDir(ctx.versionDataDir(bucket))
      renameSync(kept.staged, join(dir, kept.version.file))
      await syncDir(dir)
    }
  } finally {
    if (kept) rmSync(kept.staged, { force: true })
  }
  await dropData(ctx, bucket, dropped)
  return stored
}

/**
 * Makes the newest stored version the bucket's file again, when there is no
 * file and it is data (not a delete marker): after the latest version was
 * deleted by id. Call under the bucket lock.
 */
export async function promote(ctx: FsContext, bucket: string, key: string, stored: StoredVersion[]): Promise<void> {
  const top = stored[0]
  if (!top || top.marker || (await locate(ctx, bucket, key))) return
  const from = dataPath(ctx, bucket, top)
  const st = lstatSync(from, { bigint: true, throwIfNoEntry: false })
  if (!st?.isFile()) {
    await writeStored(ctx, bucket, key, stored.slice(1))
    return promote(ctx, bucket, key, stored.slice(1))
  }
  const sc: Sidecar = { ...top.sc, ...stampOf(st) }
  const scPath = sidecarPath(ctx, bucket, key)
  await safeDir(dirname(scPath))
  const tmp = await stageJson(ctx, sc)
  try {
    const dir = await trackKey(ctx.bucketDir(bucket), key, async () => {
      const t = await prepareTarget(ctx, bucket, key)
      await renameOnto(from, t.path, t.replaces)
      if (t.stale) await unlinkFile(t.stale.path, t.stale.size)
      return dirname(t.path)
    })
    await placeFile(tmp, scPath)
    forgetListed(ctx, bucket, key)
    await Promise.all([syncDir(dir), syncDir(dirname(scPath))])
  } finally {
    rmSync(tmp, { force: true })
  }
  await writeStored(ctx, bucket, key, stored.slice(1))
}

/** A noncurrent version as lifecycle rules see it: since when, and how many noncurrent versions are newer. */
export type Noncurrent = { version: StoredData; sinceMs: number; newer: number }

/**
 * Removes the key's noncurrent versions `expired` picks, and then its delete
 * marker if `loneMarker` says so when the marker is all that is left (S3's
 * ExpiredObjectDeleteMarker). Decided here, under the bucket lock, on what the
 * key holds now; how many entries went.
 */
export async function expireStored(
  ctx: FsContext,
  bucket: string,
  key: string,
  expired: (v: Noncurrent) => boolean,
  loneMarker: (marker: StoredMarker) => boolean,
): Promise<number> {
  return withLock(ctx.lockName(bucket), async () => {
    const current = await currentOf(ctx, bucket, key)
    const stored = (await storedVersions(ctx, bucket, key)).filter((v) => !current || v.versionId !== idOf(current.sc))
    const dropped: StoredVersion[] = []
    let newerMs = current?.sc.lastModified
    let newer = 0
    for (const v of stored) {
      // The latest version is the file, or else the top entry: a version becomes noncurrent when the next one is made.
      if (newerMs !== undefined && !v.marker) {
        if (expired({ version: v, sinceMs: newerMs, newer })) dropped.push(v)
        newer++
      }
      newerMs = v.lastModified
    }
    let rest = stored.filter((v) => !dropped.includes(v))
    const top = rest[0]
    if (!current && rest.length === 1 && top?.marker && loneMarker(top)) {
      dropped.push(top)
      rest = []
    }
    if (dropped.length === 0) return 0
    await writeStored(ctx, bucket, key, rest)
    await dropData(ctx, bucket, dropped)
    return dropped.length
  })
}

/** A stored version by id, without the one the bucket's file repeats after a crash. */
export function findStored(stored: StoredVersion[], versionId: string, current: { sc: Sidecar } | null): StoredVersion | undefined {
  if (current && idOf(current.sc) === versionId) return undefined
  return stored.find((v) => v.versionId === versionId)
}

/** What a read of a delete marker fails with: no such key, saying it is a marker (the headers S3 sends). */
export function markerMiss(versionId: string): BackendError {
  return new BackendError('not_found', 'the version is a delete marker', { code: 'NoSuchKey', deleteMarker: versionId })
}
