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
 * patched in as our own changes are, so a folder that other programs keep writing into (a camera,
 * a sync tool) is not read again at every listing, nor every RECHECK_MS after
 * our own writes. A listing that finds the mtime moved waits up to
 * WATCH_LAG_MS for the watcher's report to patch it before reading it all.
 * The watcher is trusted for WATCHED_RECHECK_MS; a patched snapshot is then
 * read again once, in case an event was lost.
 *
 * Memory: names are packed into strings of at most BLOCK entries (name plus
 * a kind byte and a 4-byte offset, ~26 bytes per entry for 20-byte names),
 * so a 1,000,000-file directory costs ~26 MB. Indexes live in an LRU bounded
 * by `setIndexBudget` (bytes, all directories together); a directory larger
 * than the whole budget is still listed, from an index built for that one
 * call.
 */
import { lstatSync, statfsSync, watch, type Dirent, type FSWatcher } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { isErrno } from './errors.ts'
import { compareKeys } from '../../lib/key-order.ts'
import { ALT_PREFIX, encodeKey, parseName, type ParsedName } from './keys.ts'

/** One directory entry that can stand for objects: a file (its own name or `.stowage=`) or a directory. */
export type Entry = {
  name: string
  dir: boolean
  parsed: ParsedName
  /** The key fragment it stands for: the file's, or the directory's with its `/` (none for continuation chunks). */
  local: string
  /** At equal `local`: a file's own name, then its `.stowage=` twin, then a directory. */
  rank: number
}

export interface DirIndex {
  readonly size: number
  at(i: number): Entry
  /** The first position whose entry sorts at or after `local` (with rank 0). */
  lowerBound(local: string): number
}

const BLOCK = 512
const RACY_NS = 50_000_000n
const RECHECK_MS = 10_000
const WATCH_MIN = 10_000
const WATCHED_RECHECK_MS = 300_000
const WATCH_LAG_MS = 5
const MISSING = ['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']
const HIGH_UNITS = /[\ud800-\uffff]/

/** Null for names that stand for nothing (our reserved space) or entries that are neither file nor directory. */
function entryOf(name: string, dir: boolean): Entry | null {
  const parsed = parseName(name)
  if (!parsed) return null
  if (dir) {
    if (parsed.type === 'alt') return null
    return { name, dir, parsed, local: parsed.type === 'cont' ? parsed.fragment : parsed.fragment + '/', rank: 2 }
  }
  if (parsed.type === 'cont') return null
  return { name, dir, parsed, local: parsed.fragment, rank: parsed.type === 'alt' ? 1 : 0 }
}

function compareEntries(a: Entry, b: Entry): number {
  return compareKeys(a.local, b.local) || a.rank - b.rank
}

/** `kind byte + name` per entry, joined by NUL (no file name holds one). */
type Block = { packed: string; offsets: Uint32Array; count: number }

function pack(items: string[]): Block {
  const offsets = new Uint32Array(items.length)
  let at = 0
  for (let i = 0; i < items.length; i++) {
    offsets[i] = at
    at += items[i]!.length + 1
  }
  return { packed: items.join('\0'), offsets, count: items.length }
}

function itemOf(block: Block, i: number): string {
  const start = block.offsets[i]!
  const end = i + 1 < block.count ? block.offsets[i + 1]! - 1 : block.packed.length
  return block.packed.slice(start, end)
}

function decodeItem(item: string): Entry {
  return entryOf(item.slice(1), item.charCodeAt(0) === 100)!
}

function encodeItem(e: Entry): string {
  return (e.dir ? 'd' : 'f') + e.name
}

function unpack(block: Block): string[] {
  return Array.from({ length: block.count }, (_, i) => itemOf(block, i))
}

class PackedIndex implements DirIndex {
  private blocks: Block[] = []
  private starts: number[] = []
  size = 0
  bytes = 0

  /** `items` in key order, each `kind byte + name`. */
  constructor(items: string[]) {
    for (let i = 0; i < items.length; i += BLOCK) this.blocks.push(pack(items.slice(i, i + BLOCK)))
    this.reindex()
  }

  private reindex(): void {
    this.blocks = this.blocks.filter((b) => b.count > 0)
    this.starts = []
    let n = 0
    let bytes = 0
    for (const b of this.blocks) {
      this.starts.push(n)
      n += b.count
      bytes += b.packed.length + b.offsets.byteLength + 64
    }
    this.size = n
    this.bytes = bytes
  }

  private locate(i: number): [Block, number] {
    let lo = 0
    let hi = this.starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.starts[mid]! <= i) lo = mid
      else hi = mid - 1
    }
    return [this.blocks[lo]!, i - this.starts[lo]!]
  }

  at(i: number): Entry {
    const [block, j] = this.locate(i)
    return decodeItem(itemOf(block, j))
  }

  /** First position whose entry is not below `probe`. */
  private search(below: (e: Entry) => boolean): number {
    let lo = 0
    let hi = this.size
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (below(this.at(mid))) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  lowerBound(local: string): number {
    return this.search((e) => compareKeys(e.local, local) < 0)
  }

  private holds(e: Entry): boolean {
    for (let i = this.search((x) => compareEntries(x, e) < 0); i < this.size; i++) {
      const x = this.at(i)
      if (compareEntries(x, e) !== 0) return false
      if (x.name === e.name) return x.dir === e.dir
    }
    return false
  }

  /** Puts `e` in its place (replacing an entry of the same name), or removes `name`. */
  update(name: string, e: Entry | null): void {
    // Our own writes are patched in twice, by the commit and by the watcher's report of it.
    if (e && this.holds(e)) return
    const old = [entryOf(name, false), entryOf(name, true)].filter((x) => x !== null)
    for (const o of old) {
      // Names that are not canonical can stand for the same fragment as another; find this one among them.
      let i = this.search((x) => compareEntries(x, o) < 0)
      while (i < this.size && this.at(i).name !== name && compareEntries(this.at(i), o) === 0) i++
      if (i < this.size && this.at(i).name === name) {
        const [block, j] = this.locate(i)
        const items = unpack(block)
        items.splice(j, 1)
        Object.assign(block, pack(items))
        this.reindex()
      }
    }
    if (!e) return
    if (this.blocks.length === 0) {
      this.blocks.push(pack([encodeItem(e)]))
      this.reindex()
      return
    }
    const i = this.search((x) => compareEntries(x, e) < 0)
    const [block, j] = i < this.size ? this.locate(i) : [this.blocks.at(-1)!, this.blocks.at(-1)!.count]
    const items = unpack(block)
    items.splice(j, 0, encodeItem(e))
    const at = this.blocks.indexOf(block)
    this.blocks.splice(at, 1, ...(items.length > 2 * BLOCK ? [pack(items.slice(0, BLOCK)), pack(items.slice(BLOCK))] : [pack(items)]))
    this.reindex()
  }
}

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

/**
 * The directory's entries in key order. Most names stand for themselves, so
 * their sort key is the name (with `/` for a directory) and the native sort
 * on plain strings, several times faster than a comparator, orders
 * `sortKey NUL rank kind name`; it gives byte order when no sort key holds
 * NUL (an escaped `%00`) or a UTF-16 unit at or above U+D800. Otherwise the
 * comparator does it.
 */
function sortedItems(dirents: Dirent[]): string[] {
  const composite: string[] = []
  let plain = true
  for (const d of dirents) {
    const dir = d.isDirectory()
    if (!dir && !d.isFile()) continue
    const name = d.name
    let local: string
    let rank: number
    if (!name.includes('%') && !name.startsWith('.stowage')) {
      local = dir ? name + '/' : name
      rank = dir ? 2 : 0
    } else {
      const e = entryOf(name, dir)
      if (!e) continue
      local = e.local
      rank = e.rank
    }
    if (plain && (local.includes('\0') || HIGH_UNITS.test(local))) plain = false
    composite.push(`${local}\0${rank}${dir ? 'd' : 'f'}${name}`)
  }
  if (plain) return composite.sort().map((c) => c.slice(c.indexOf('\0') + 2))
  return composite
    .map((c) => decodeItem(c.slice(c.lastIndexOf('\0') + 2)))
    .sort(compareEntries)
    .map(encodeItem)
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
