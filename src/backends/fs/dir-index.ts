// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Sorted indexes of bucket directories, kept in memory so that a listing page
 * costs a binary search and the entries it returns, not a read and sort of
 * the whole directory (which at 100,000 files is ~250 ms a page, and grows
 * with the square of the folder when paging through all of it).
 *
 * An index is a snapshot of a directory's entry names in key order (see
 * list.ts for the order), validated by the directory's mtime on every use:
 * files added, removed or renamed by other means (a NAS client, rsync) change
 * it, and the next listing re-reads the directory. The driver's own commits
 * and deletes patch the indexes they touch in place instead (`trackKey`),
 * under the bucket lock: they stat the directory before (a snapshot that is
 * already stale is dropped), make their change, re-stat the names they
 * touched and take the directory's new mtime.
 *
 * Reads run while our own changes commit (listings take no lock), and the
 * directory may change between a read and the stat after it. A read during
 * which the directory changed, and none of our own changes ran, serves its
 * own listing only and is not kept. When our own changes overlapped it
 * (`trackKey` tells the reads in flight), the names they touched are looked
 * up again and the snapshot is kept as racy (below), so a commit that has
 * answered is never hidden from a later listing. A snapshot kept while a
 * change ran is patched when it ends, as any other.
 *
 * Two changes in the same timestamp tick cannot be told apart by mtime, so a
 * snapshot taken within RACY_NS of the directory's last change, or patched by
 * our own write (a foreign change may have landed in the same tick), is
 * "racy": it is used, but re-read once it is RECHECK_MS old. A file dropped
 * in by other means therefore shows at the next listing, or, in the rare case
 * that it lands in the same tick as one of our own writes to that directory,
 * within RECHECK_MS.
 *
 * A directory of WATCH_MIN entries or more (whose read costs a second at a
 * million) on a local filesystem is watched (inotify) while its index is
 * held: each entry added, removed or renamed by any process is looked up and
 * patched in as our own changes are, so a folder that other programs keep
 * writing into (a camera, a sync tool) is not read again at every listing,
 * nor every RECHECK_MS after our own writes. A listing that finds the mtime moved waits up to
 * WATCH_LAG_MS for the watcher's report to patch it before reading it all.
 * The watcher is trusted for WATCHED_RECHECK_MS; a patched snapshot is then
 * read again once, in case an event was lost.
 *
 * Memory: ~26 bytes per entry for 20-byte names (packed-index.ts), so a
 * 1,000,000-file directory costs ~26 MB. Indexes live in an LRU bounded by
 * `setIndexBudget` (bytes, all directories together); a directory larger
 * than the whole budget is still listed, from an index built for that one
 * call.
 */
import { lstatSync, statfsSync, watch, type Dirent, type FSWatcher } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { isErrno } from './errors.ts'
import { ALT_PREFIX, encodeKey } from './keys.ts'
import { entryOf, PackedIndex, sortedItems, type DirIndex, type Entry } from './packed-index.ts'

const RACY_NS = 50_000_000n
const RECHECK_MS = 10_000
const WATCH_MIN = 10_000
const WATCHED_RECHECK_MS = 300_000
const WATCH_LAG_MS = 5
const MISSING = ['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']

type Snapshot = { index: PackedIndex; mtimeNs: bigint; racySince?: number }

const snapshots = new Map<string, Snapshot>()
let budget = 64 * 1024 * 1024
let used = 0
let builds = 0

/** How the cache is doing: directories read in full so far, and what is held now. */
export function indexStats(): { builds: number; cached: number; bytes: number } {
  return { builds, cached: snapshots.size, bytes: used }
}

/** The memory all cached indexes may take together, in bytes. */
export function setIndexBudget(bytes: number): void {
  budget = bytes
  evict()
}

function evict(): void {
  for (const [dir, snap] of snapshots) {
    if (used <= budget) return
    drop(dir, snap)
  }
}

function drop(dir: string, snap: Snapshot): void {
  release(dir, snap)
  unwatch(dir)
}

function release(dir: string, snap: Snapshot): void {
  snapshots.delete(dir)
  used -= snap.index.bytes
}

function keep(dir: string, snap: Snapshot): void {
  const old = snapshots.get(dir)
  if (old) release(dir, old)
  if (snap.index.bytes > budget) return unwatch(dir)
  snapshots.set(dir, snap)
  used += snap.index.bytes
  evict()
}

/** The watcher of a directory, and the inode it watches: a directory replaced by another under the same path is not the one watched. */
const watchers = new Map<string, { watcher: FSWatcher; ino: bigint }>()

/** How many directories are watched now. */
export function watchedCount(): number {
  return watchers.size
}

function unwatch(dir: string): void {
  watchers.get(dir)?.watcher.close()
  watchers.delete(dir)
}

/**
 * Local filesystems (statfs magic numbers), where inotify reports every
 * change. On NFS, SMB or FUSE it reports only this machine's, and a patch
 * taking the directory's new mtime would hide another machine's change.
 */
const LOCAL_FILESYSTEMS = new Set([
  0xef53, // ext2, ext3, ext4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0x2fc12fc1, // zfs
  0xf2f52010, // f2fs
  0xca451a4e, // bcachefs
  0x794c7630, // overlayfs
  0x52654973, // reiserfs
  0x3153464a, // jfs
])

/** Whether a directory on a filesystem of this statfs type may be watched. */
export function watchesFilesystem(type: number): boolean {
  return LOCAL_FILESYSTEMS.has(type)
}

function onLocalFilesystem(dir: string): boolean {
  try {
    return watchesFilesystem(statfsSync(dir).type)
  } catch {
    return false
  }
}

/**
 * Watches a kept snapshot's directory. Changes between the snapshot's read
 * and the watch's start are not reported, so the snapshot is dropped if the
 * directory moved meanwhile (the next listing reads it, watched).
 */
function watchFor(dir: string, snap: Snapshot): void {
  if (snapshots.get(dir) !== snap || watchers.has(dir) || !onLocalFilesystem(dir)) return
  let watcher: FSWatcher
  try {
    // 'change' is a file's content or times: no entry comes or goes (nor does the directory's mtime move).
    watcher = watch(dir, { persistent: false }, (event, name) => event === 'rename' && onWatched(dir, name))
  } catch {
    return
  }
  watcher.on('error', () => {
    if (watchers.get(dir)?.watcher !== watcher) return watcher.close()
    const current = snapshots.get(dir)
    if (current) drop(dir, current)
    else unwatch(dir)
  })
  const st = dirStat(dir)
  if (!st || st.mtimeNs !== snap.mtimeNs) {
    watcher.close()
    drop(dir, snap)
    return
  }
  watchers.set(dir, { watcher, ino: st.ino })
}

/** An entry of a watched directory came, went or was renamed, by whichever process: the index follows what `lstat` says of it now. */
function onWatched(dir: string, name: string | Buffer | null): void {
  const snap = snapshots.get(dir)
  if (typeof name !== 'string' || name === '') {
    if (snap) drop(dir, snap)
    markReads(dir, null)
    return
  }
  markReads(dir, [name])
  if (!snap) return
  patch(dir, snap, [name])
  evict()
}

/** Brings the snapshot up to date for `names` and takes the directory's mtime, or drops it. */
function patch(dir: string, snap: Snapshot, names: string[]): void {
  try {
    const before = snap.index.bytes
    for (const name of names) snap.index.update(name, entryAt(dir, name))
    used += snap.index.bytes - before
    const st = dirStat(dir)
    const watched = watchers.get(dir)
    if (st === null || (watched && watched.ino !== st.ino)) drop(dir, snap)
    else {
      snap.mtimeNs = st.mtimeNs
      snap.racySince ??= Date.now()
    }
  } catch {
    drop(dir, snap)
  }
}

/** Synchronous: every listing and every write into a listed directory asks, and a trip through the I/O thread pool costs more than the call. */
function mtimeOf(dir: string): bigint | null {
  return dirStat(dir)?.mtimeNs ?? null
}

function dirStat(dir: string): { mtimeNs: bigint; ino: bigint } | null {
  try {
    const st = lstatSync(dir, { bigint: true })
    return st.isDirectory() ? st : null
  } catch (err) {
    if (isErrno(err, ...MISSING)) return null
    throw err
  }
}

/** A read in flight: the names our own changes touched in its directory meanwhile (null once the directory is forgotten). */
type Read = { changed: Set<string> | null }

const reading = new Map<string, Set<Read>>()

function markReads(dir: string, names: string[] | null): void {
  for (const read of reading.get(dir) ?? []) {
    if (names === null) read.changed = null
    else for (const name of names) read.changed?.add(name)
  }
}

/**
 * Reads the directory. The snapshot is kept for later listings unless the
 * directory changed by other means during the read; names our own changes
 * touched meanwhile are looked up again first.
 */
async function build(dir: string): Promise<Snapshot | null> {
  builds++
  const startedNs = BigInt(Date.now()) * 1_000_000n
  const before = mtimeOf(dir)
  if (before === null) return null
  const read: Read = { changed: new Set() }
  const reads = reading.get(dir) ?? new Set()
  reading.set(dir, reads.add(read))
  let dirents: Dirent[]
  try {
    dirents = await readdir(dir, { withFileTypes: true })
  } catch (err) {
    if (isErrno(err, ...MISSING)) return null
    throw err
  } finally {
    reads.delete(read)
    if (reads.size === 0 && reading.get(dir) === reads) reading.delete(dir)
  }
  const after = mtimeOf(dir)
  if (after === null) return null
  const snap: Snapshot = { index: new PackedIndex(sortedItems(dirents)), mtimeNs: after }
  const ours = read.changed
  if (ours === null || (before !== after && ours.size === 0)) return snap
  for (const name of ours) snap.index.update(name, entryAt(dir, name))
  if (ours.size > 0 || after + RACY_NS > startedNs) snap.racySince = Date.now()
  keep(dir, snap)
  return snap
}

function fresh(dir: string, snap: Snapshot, mtime: bigint): boolean {
  if (snap.mtimeNs !== mtime) return false
  return snap.racySince === undefined || Date.now() - snap.racySince < (watchers.has(dir) ? WATCHED_RECHECK_MS : RECHECK_MS)
}

/** The directory's index, current as of this call; null when it does not exist. */
export async function readIndex(dir: string): Promise<DirIndex | null> {
  let mtime = mtimeOf(dir)
  if (mtime === null) return null
  // The watcher's report of a change arrives some turns of the event loop after it (≈0.4 ms here).
  const waitUntil = performance.now() + WATCH_LAG_MS
  while (watchers.has(dir) && snapshots.get(dir)?.mtimeNs !== mtime && performance.now() < waitUntil) {
    await new Promise((resolve) => setImmediate(resolve))
    mtime = mtimeOf(dir)
    if (mtime === null) return null
  }
  const cached = snapshots.get(dir)
  if (cached && fresh(dir, cached, mtime)) {
    snapshots.delete(dir)
    snapshots.set(dir, cached)
    return cached.index
  }
  const built = await build(dir)
  if (built && built.index.size >= WATCH_MIN) watchFor(dir, built)
  return built?.index ?? null
}

/** The directories a key's path runs through, with the names a write or delete of it may add or remove in each. */
function touched(bucketDir: string, key: string): Array<{ dir: string; names: string[] }> {
  const { dirs, name } = encodeKey(key)
  const out: Array<{ dir: string; names: string[] }> = []
  let dir = bucketDir
  for (const part of dirs) {
    out.push({ dir, names: [part, ALT_PREFIX + part] })
    dir = join(dir, part)
  }
  out.push({ dir, names: [name, ALT_PREFIX + name] })
  return out
}

function entryAt(dir: string, name: string): Entry | null {
  try {
    const st = lstatSync(join(dir, name))
    return st.isFile() ? entryOf(name, false) : st.isDirectory() ? entryOf(name, true) : null
  } catch (err) {
    if (isErrno(err, ...MISSING)) return null
    throw err
  }
}

/**
 * Runs a commit or delete of `key` (under its bucket lock) and brings the
 * cached indexes of the directories it may change up to date, or drops them.
 */
export async function trackKey<T>(bucketDir: string, key: string, change: () => Promise<T>): Promise<T> {
  const dirs = touched(bucketDir, key)
  for (const t of dirs) {
    const snap = snapshots.get(t.dir)
    if (snap && mtimeOf(t.dir) !== snap.mtimeNs) drop(t.dir, snap)
  }
  try {
    return await change()
  } finally {
    for (const t of dirs) {
      markReads(t.dir, t.names)
      const snap = snapshots.get(t.dir)
      if (snap) patch(t.dir, snap, t.names)
    }
    evict()
  }
}

/** Forgets the indexes of a directory and everything below it (a deleted bucket). */
export function forgetTree(dir: string): void {
  const under = (d: string) => d === dir || d.startsWith(dir + '/')
  for (const [d, snap] of snapshots) if (under(d)) drop(d, snap)
  for (const d of reading.keys()) if (under(d)) markReads(d, null)
}
