// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A directory's entries in key order (see list.ts for the order), held
 * compactly: names are packed into strings of at most BLOCK entries (a kind
 * byte and the name, joined by NUL, with a 4-byte offset each), ~26 bytes per
 * entry for 20-byte names. Positions are found by binary search; an update
 * repacks one block. dir-index.ts keeps these per directory and keeps them
 * current.
 */
import type { Dirent } from 'node:fs'
import { compareKeys } from '../../lib/key-order.ts'
import { parseName, type ParsedName } from './keys.ts'

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
const HIGH_UNITS = /[\ud800-\uffff]/

/** Null for names that stand for nothing (our reserved space) or entries that are neither file nor directory. */
export function entryOf(name: string, dir: boolean): Entry | null {
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

export class PackedIndex implements DirIndex {
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

  /**
   * Where `e` is, or -1. Names that are not canonical can stand for the same
   * fragment as another, so it is looked for by name among the entries that
   * sort as it does (a file and a directory of one name never sort alike).
   */
  private position(e: Entry): number {
    for (let i = this.search((x) => compareEntries(x, e) < 0); i < this.size; i++) {
      const x = this.at(i)
      if (compareEntries(x, e) !== 0) return -1
      if (x.name === e.name) return i
    }
    return -1
  }

  /** Puts `e` in its place (replacing an entry of the same name), or removes `name`. */
  update(name: string, e: Entry | null): void {
    // Our own writes are patched in twice, by the commit and by the watcher's report of it.
    if (e && this.position(e) >= 0) return
    const old = [entryOf(name, false), entryOf(name, true)].filter((x) => x !== null)
    for (const o of old) {
      const i = this.position(o)
      if (i >= 0) {
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

/**
 * The directory's entries in key order. Most names stand for themselves, so
 * their sort key is the name (with `/` for a directory) and the native sort
 * on plain strings, several times faster than a comparator, orders
 * `sortKey NUL rank kind name`; it gives byte order when no sort key holds
 * NUL (an escaped `%00`) or a UTF-16 unit at or above U+D800. Otherwise the
 * comparator does it.
 */
export function sortedItems(dirents: Dirent[]): string[] {
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
