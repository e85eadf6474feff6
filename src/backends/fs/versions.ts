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
 * - `vdata/<bucket>/<h[0..2]>/<h>/` (h = sha256 of the key): one entry per
 *   noncurrent version or delete marker, `<order>.<version id>.json` with the
 *   sidecar the version had, and for a data version its bytes,
 *   `<order>.<version id>`: a hard link to the file the version was, made
 *   before that file is replaced or removed, so keeping a version copies
 *   nothing. `<order>` counts up, so the names sort oldest first; a write
 *   adds one entry and never rewrites the others, however many there are.
 * - `versions/<bucket>/<key's path>`: an empty-ish index file per key that
 *   has entries, in the same tree shape as the bucket (keys.ts), so the
 *   bucket's own lister (list.ts) walks the keys with versions in key order,
 *   which is what makes ListObjectVersions a merge of two sorted walks
 *   (version-list.ts).
 *
 * So the latest version is the bucket's file when there is one, and the
 * newest entry otherwise (a delete marker, or nothing at all).
 *
 * Every change happens under the bucket's commit lock. A version being kept
 * is indexed first, linked into this process's staging directory, its entry
 * written, the link moved beside the entry, and only then does the bucket's
 * file change. A crash before the end leaves the bucket's file as it was and,
 * at worst, an entry repeating that file's version id, which readers drop in
 * favour of the file and the next change of the key removes; the staged link
 * goes with the staging directory at the next start, and bytes whose entry is
 * gone are removed at the key's next change.
 */
import { randomBytes } from 'node:crypto'
import { linkSync, lstatSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs'
import { opendir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { BackendError, type ListOptions, type ListResult } from '../backend.ts'
import type { VersioningStatus } from '../bucket-rules.ts'
import { safeDir, tempPath, type FsContext } from './context.ts'
import { syncDir } from './dir-sync.ts'
import { trackKey } from './dir-index.ts'
import { isErrno } from './errors.ts'
import { placeFile, readRecord, stageJson, writeJson } from './json.ts'
import { listPage, type Describe } from './list.ts'
import { forgetListed } from './listed.ts'
import { withLock } from './lock.ts'
import { describeNow, sidecarPath, stampOf, type Sidecar } from './sidecar.ts'
import { locate, placeAt, prune, removeObject, unlinkFile, type Located } from './tree.ts'

type Entry = { versionId: string; lastModified: number }
export type StoredMarker = Entry & { marker: true }
export type StoredData = Entry & { marker?: undefined; sc: Sidecar }
/** `name` is where the entry is: `<name>.json`, and `<name>` for a data version's bytes. */
export type StoredVersion = (StoredMarker | StoredData) & { name: string }

type EntryRecord = { v: 'version'; bucket: string; key: string } & (StoredMarker | StoredData)

/** An order of 16 digits, then one of our version ids (newVersionId) or `null`. */
const ENTRY_NAME = /^(\d{16})\.([0-9a-f]{32}|null)(\.json)?$/

/** The version id of what the bucket's file holds. */
export const idOf = (sc: Sidecar): string => sc.versionId ?? 'null'

/**
 * 128 random bits as 32 hex digits: opaque as S3's, safe in a URL and a file
 * name, and never starting with `-`, which command-line clients would take
 * for an option (`aws s3api get-object --version-id -x…` fails to parse).
 */
export function newVersionId(): string {
  return randomBytes(16).toString('hex')
}

function keyDir(ctx: FsContext, bucket: string, key: string): string {
  const h = Bun.SHA256.hash(key, 'hex')
  return join(ctx.versionDataDir(bucket), h.slice(0, 2), h)
}

export function dataPath(ctx: FsContext, bucket: string, key: string, v: StoredVersion): string {
  return join(keyDir(ctx, bucket, key), v.name)
}

const indexes = new WeakMap<FsContext, FsContext>()

/** The root seen with the index tree in place of bucket directories, for tree.ts. */
function indexTree(ctx: FsContext): FsContext {
  let tree = indexes.get(ctx)
  if (!tree) {
    tree = { ...ctx, bucketDir: ctx.versionsDir }
    indexes.set(ctx, tree)
  }
  return tree
}

type Names = { entries: Array<{ name: string; order: string; versionId: string }>; bytes: Set<string> }

/** The key's entry names, newest first, and the names of the bytes beside them. */
function namesOf(ctx: FsContext, bucket: string, key: string): Names {
  let listed: string[]
  try {
    listed = readdirSync(keyDir(ctx, bucket, key))
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return { entries: [], bytes: new Set() }
    throw err
  }
  const entries: Names['entries'] = []
  const bytes = new Set<string>()
  for (const file of listed) {
    const m = ENTRY_NAME.exec(file)
    if (!m) continue
    if (m[3]) entries.push({ name: file.slice(0, -'.json'.length), order: m[1]!, versionId: m[2]! })
    else bytes.add(file)
  }
  entries.sort((a, b) => (a.order < b.order ? 1 : -1))
  return { entries, bytes }
}

/**
 * What writes need to know of a key's entries, kept between writes so that a
 * write costs the same however long the key's history: the last order used,
 * how many entries there are, the newest (undefined: not known, look), and
 * the `null` ones (suspended writes replace them). Changed only under the
 * bucket lock, by this process, which is the only one writing the root.
 */
type KeyState = { last: number; count: number; top: string | undefined; nulls: Set<string> }

const states = new Map<string, KeyState>()
/** Keys written recently; a key not among them is read from its directory again (~100 bytes each). */
const STATES_MAX = 50_000

/**
 * The key's state: remembered, or read from its directory, which also tidies
 * what a crash can leave there: an entry repeating the version the bucket's
 * file holds, and bytes without an entry. Call under the bucket lock.
 */
async function stateOf(ctx: FsContext, bucket: string, key: string): Promise<KeyState> {
  const dir = keyDir(ctx, bucket, key)
  const known = states.get(dir)
  if (known) return known
  let names = namesOf(ctx, bucket, key)
  const current = names.entries.length > 0 ? await currentOf(ctx, bucket, key) : null
  const repeats = current ? names.entries.filter((e) => e.versionId === idOf(current.sc)) : []
  const named = new Set(names.entries.map((e) => e.name))
  const strays = [...names.bytes].filter((n) => !named.has(n))
  if (repeats.length > 0 || strays.length > 0) {
    for (const name of strays) await unlinkQuietly(join(dir, name))
    await unlinkEntries(dir, repeats)
    names = namesOf(ctx, bucket, key)
  }
  const state: KeyState = {
    last: names.entries.length > 0 ? Number(names.entries[0]!.order) : 0,
    count: names.entries.length,
    top: names.entries[0]?.name,
    nulls: new Set(names.entries.filter((e) => e.versionId === 'null').map((e) => e.name)),
  }
  if (states.size >= STATES_MAX) states.delete(states.keys().next().value!)
  states.set(dir, state)
  return state
}

/**
 * Reads the key's entries once and tidies them (stateOf); called before the
 * bucket's file is removed, while it still says which version it holds.
 */
export async function settleVersions(ctx: FsContext, bucket: string, key: string): Promise<void> {
  await stateOf(ctx, bucket, key)
}

/** Whether any key of the bucket keeps a noncurrent version or a delete marker (an entry). */
export async function hasVersions(ctx: FsContext, bucket: string): Promise<boolean> {
  const walk = async (dir: string): Promise<boolean> => {
    let handle
    try {
      handle = await opendir(dir)
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false
      throw err
    }
    for await (const e of handle) {
      if (e.isDirectory() ? await walk(join(dir, e.name)) : ENTRY_NAME.exec(e.name)?.[3] !== undefined) return true
    }
    return false
  }
  return walk(ctx.versionDataDir(bucket))
}

/** Forgets what writes knew of a bucket's keys (the bucket was deleted or made). */
export function forgetVersionState(ctx: FsContext, bucket: string): void {
  const under = ctx.versionDataDir(bucket) + '/'
  for (const dir of states.keys()) if (dir.startsWith(under)) states.delete(dir)
}

async function unlinkQuietly(path: string): Promise<void> {
  try {
    const st = lstatSync(path)
    await unlinkFile(path, st.size)
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err
  }
}

/** The entry before its bytes: a crash in between leaves bytes nothing names, never a version without bytes. */
async function unlinkEntries(dir: string, gone: Array<{ name: string }>): Promise<void> {
  for (const { name } of gone) {
    await unlinkQuietly(join(dir, `${name}.json`))
    await unlinkQuietly(join(dir, name))
  }
}

function readEntry(ctx: FsContext, bucket: string, key: string, name: string): StoredVersion | null {
  const text = readRecord(join(keyDir(ctx, bucket, key), `${name}.json`))
  if (text === null) return null
  let r: (Partial<Omit<EntryRecord, 'sc' | 'marker'>> & { sc?: Sidecar; marker?: boolean }) | null
  try {
    r = JSON.parse(text) as typeof r
  } catch {
    return null
  }
  if (!r || r.v !== 'version' || r.bucket !== bucket || r.key !== key || typeof r.versionId !== 'string' || typeof r.lastModified !== 'number') return null
  if (r.marker === true) return { versionId: r.versionId, lastModified: r.lastModified, marker: true, name }
  return r.sc && typeof r.sc.etag === 'string' ? { versionId: r.versionId, lastModified: r.lastModified, sc: r.sc, name } : null
}

/** The key's noncurrent versions and delete markers, newest first. */
export async function storedVersions(ctx: FsContext, bucket: string, key: string): Promise<StoredVersion[]> {
  const out: StoredVersion[] = []
  for (const { name } of namesOf(ctx, bucket, key).entries) {
    const v = readEntry(ctx, bucket, key, name)
    if (v) out.push(v)
  }
  return out
}

/** The newest entry, which is the latest version when the key has no file. */
export async function topStored(ctx: FsContext, bucket: string, key: string): Promise<StoredVersion | undefined> {
  const known = states.get(keyDir(ctx, bucket, key))?.top
  if (known !== undefined) {
    const v = readEntry(ctx, bucket, key, known)
    if (v) return v
  }
  for (const { name } of namesOf(ctx, bucket, key).entries) {
    const v = readEntry(ctx, bucket, key, name)
    if (v) return v
  }
  return undefined
}

/** A stored version by id, without the one the bucket's file repeats after a crash. */
export async function findStored(
  ctx: FsContext,
  bucket: string,
  key: string,
  versionId: string,
  current: { sc: Sidecar } | null,
): Promise<StoredVersion | undefined> {
  if (current && idOf(current.sc) === versionId) return undefined
  const named = namesOf(ctx, bucket, key).entries.find((e) => e.versionId === versionId)
  return (named && readEntry(ctx, bucket, key, named.name)) ?? undefined
}

const keysOnly: Describe = async (files) => files.map((f) => ({ key: f.key, size: 0 }))

/** A page of the keys that have entries, in key order (the bucket lister on the index tree; sizes are 0). */
export function indexPage(ctx: FsContext, bucket: string, opts: ListOptions): Promise<ListResult> {
  return listPage(ctx.versionsDir(bucket), opts, keysOnly)
}

/** Makes sure the index tree lists the key. Call under the bucket lock. */
async function index(ctx: FsContext, bucket: string, key: string): Promise<void> {
  const tree = indexTree(ctx)
  if (await locate(tree, bucket, key)) return
  const base = await safeDir(ctx.versionsDir(bucket))
  const tmp = await stageJson(ctx, { v: 'versions', bucket, key })
  try {
    const dir = await trackKey(base, key, () => placeAt(tree, bucket, key, tmp))
    await syncDir(dir)
  } finally {
    rmSync(tmp, { force: true })
  }
}

/** Takes the key out of the index tree once it has no entries left. Call under the bucket lock. */
async function unindexIfEmpty(ctx: FsContext, bucket: string, key: string): Promise<void> {
  try {
    rmdirSync(keyDir(ctx, bucket, key))
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) return
  }
  const tree = indexTree(ctx)
  await trackKey(ctx.versionsDir(bucket), key, async () => {
    if (await removeObject(tree, bucket, key)) await prune(tree, bucket, key)
  })
}

/** Adds an entry on top, with its bytes (a staged link) for a data version. Call under the bucket lock. */
async function addEntry(ctx: FsContext, bucket: string, key: string, state: KeyState, entry: StoredMarker | StoredData, staged?: string): Promise<void> {
  if (state.count === 0) await index(ctx, bucket, key)
  const dir = state.count === 0 ? await safeDir(keyDir(ctx, bucket, key)) : keyDir(ctx, bucket, key)
  const name = `${String(state.last + 1).padStart(16, '0')}.${entry.versionId}`
  await writeJson(ctx, join(dir, `${name}.json`), { v: 'version', bucket, key, ...entry } satisfies EntryRecord)
  state.last++
  state.count++
  state.top = name
  if (entry.versionId === 'null') state.nulls.add(name)
  if (staged) renameSync(staged, join(dir, name))
  await syncDir(dir)
}

/** Removes entries and their bytes. Call under the bucket lock. */
export async function removeStored(ctx: FsContext, bucket: string, key: string, gone: Array<{ name: string }>): Promise<void> {
  const state = await stateOf(ctx, bucket, key)
  await unlinkEntries(keyDir(ctx, bucket, key), gone)
  for (const { name } of gone) {
    state.count--
    state.nulls.delete(name)
    if (state.top === name) state.top = undefined
  }
  if (state.count <= 0) {
    states.delete(keyDir(ctx, bucket, key))
    if (namesOf(ctx, bucket, key).entries.length === 0) await unindexIfEmpty(ctx, bucket, key)
  }
}

/** Rewrites one entry's metadata (tags of an old version). Call under the bucket lock. */
export async function updateStored(ctx: FsContext, bucket: string, key: string, v: StoredData & { name: string }): Promise<void> {
  const { name, ...entry } = v
  await writeJson(ctx, join(keyDir(ctx, bucket, key), `${name}.json`), { v: 'version', bucket, key, ...entry } satisfies EntryRecord)
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
 * `null` version when suspended, and puts `marker` on top when given. Call
 * under the bucket lock.
 */
export async function retireCurrent(ctx: FsContext, bucket: string, key: string, status: VersioningStatus, marker?: StoredMarker): Promise<void> {
  const current = await currentOf(ctx, bucket, key)
  const state = await stateOf(ctx, bucket, key)
  // Ids are fresh but for `null`: a suspended write or marker replaces the stored `null` version.
  if (status === 'Suspended' && state.nulls.size > 0)
    await removeStored(
      ctx,
      bucket,
      key,
      [...state.nulls].map((name) => ({ name })),
    )
  const live = (): Promise<KeyState> => stateOf(ctx, bucket, key)
  if (current && (status === 'Enabled' || idOf(current.sc) !== 'null')) {
    const staged = tempPath(ctx, 'version')
    linkSync(current.path, staged)
    try {
      const kept: StoredData = { versionId: idOf(current.sc), lastModified: current.sc.lastModified, sc: { ...current.sc, ...stampOf(current.st) } }
      await addEntry(ctx, bucket, key, await live(), kept, staged)
    } finally {
      rmSync(staged, { force: true })
    }
  }
  if (marker) await addEntry(ctx, bucket, key, await live(), marker)
}

/**
 * Makes the newest stored version the bucket's file again, when there is no
 * file and it is data (not a delete marker): after the latest version was
 * deleted by id. Call under the bucket lock.
 */
export async function promote(ctx: FsContext, bucket: string, key: string): Promise<void> {
  const top = await topStored(ctx, bucket, key)
  if (!top || top.marker || (await locate(ctx, bucket, key))) return
  const from = dataPath(ctx, bucket, key, top)
  const st = lstatSync(from, { bigint: true, throwIfNoEntry: false })
  if (!st?.isFile()) {
    await removeStored(ctx, bucket, key, [top])
    return promote(ctx, bucket, key)
  }
  const sc: Sidecar = { ...top.sc, ...stampOf(st) }
  const scPath = sidecarPath(ctx, bucket, key)
  await safeDir(dirname(scPath))
  const tmp = await stageJson(ctx, sc)
  try {
    const dir = await trackKey(ctx.bucketDir(bucket), key, () => placeAt(ctx, bucket, key, from))
    await placeFile(tmp, scPath)
    forgetListed(ctx, bucket, key)
    await Promise.all([syncDir(dir), syncDir(dirname(scPath))])
  } finally {
    rmSync(tmp, { force: true })
  }
  await removeStored(ctx, bucket, key, [top])
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
    const gone: StoredVersion[] = []
    let newerMs = current?.sc.lastModified
    let newer = 0
    for (const v of stored) {
      // The latest version is the file, or else the top entry: a version becomes noncurrent when the next one is made.
      if (newerMs !== undefined && !v.marker) {
        if (expired({ version: v, sinceMs: newerMs, newer })) gone.push(v)
        newer++
      }
      newerMs = v.lastModified
    }
    const rest = stored.filter((v) => !gone.includes(v))
    const top = rest[0]
    if (!current && rest.length === 1 && top?.marker && loneMarker(top)) gone.push(top)
    if (gone.length === 0) return 0
    await removeStored(ctx, bucket, key, gone)
    return gone.length
  })
}

/** What a read of a delete marker fails with: no such key, saying it is a marker (the headers S3 sends). */
export function markerMiss(versionId: string): BackendError {
  return new BackendError('not_found', 'the version is a delete marker', { code: 'NoSuchKey', deleteMarker: versionId })
}
