// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * ListObjects over a directory tree, with S3's rules: keys in UTF-8 byte
 * order, prefix, any delimiter, common prefixes counted against maxKeys, and
 * a continuation token naming the last key or common prefix returned.
 *
 * Directory order is not key order (escapes, `.stowage=` twins, the `/` that a
 * directory adds), so each directory is read through its sorted index
 * (dir-index.ts), and the open directories are merged: an entry for a
 * subdirectory sorts at the key prefix it holds, which is below every key in
 * it, and is only opened when it comes up. Each directory is entered by a
 * binary search for the token (or the prefix), and the walk stops at the
 * first entry past the prefix, so a page costs the entries it returns plus a
 * few searches, however large the directory. With a delimiter, a
 * subdirectory whose whole content rolls up into one common prefix is never
 * read: one streamed peek confirms it holds an object.
 */
import { opendir, realpath } from 'node:fs/promises'
import { join } from 'node:path'
import { BackendError, type ListOptions, type ListResult, type ObjectInfo } from '../backend.ts'
import { readIndex } from './dir-index.ts'
import type { DirIndex, Entry } from './packed-index.ts'
import { isErrno } from './errors.ts'
import { compareKeys } from '../../lib/key-order.ts'
import { encodeSegment, isCanonical, isValidKey, parseName } from './keys.ts'

/** `sort` is the key or key prefix the entry stands for. */
type Item = { name: string; sort: string; rank: number } & ({ kind: 'object'; key: string; alt: boolean } | { kind: 'dir'; prefix: string })

type Cursor = { parts: string[]; dir: string; prefix: string; index: DirIndex; next: number; head?: Item }

type Found = { kind: 'object'; key: string; path: string } | { kind: 'prefix'; prefix: string }

/** Builds the listed ObjectInfo of each file; null for one that vanished meanwhile. */
export type Describe = (files: Array<{ key: string; path: string }>, withMetadata: boolean) => Promise<Array<ObjectInfo | null>>

const MISSING = ['ENOENT', 'ENOTDIR', 'ELOOP']

function compareItems(a: Item, b: Item): number {
  return compareKeys(a.sort, b.sort) || a.rank - b.rank
}

function itemOf(prefix: string, e: Entry): Item {
  const sort = prefix + e.local
  if (e.dir) return { kind: 'dir', name: e.name, prefix: sort, sort, rank: e.rank }
  return { kind: 'object', name: e.name, key: sort, alt: e.parsed.type === 'alt', sort, rank: e.rank }
}

function head(c: Cursor): Item | undefined {
  if (c.next >= c.index.size) return undefined
  c.head ??= itemOf(c.prefix, c.index.at(c.next))
  return c.head
}

function advance(c: Cursor, to = c.next + 1): void {
  if (to <= c.next) return
  c.next = to
  c.head = undefined
}

/** The smallest string above every string that starts with `s`, or null when there is no simple one. */
function successor(s: string): string | null {
  const last = s.charCodeAt(s.length - 1)
  return s.length > 0 && last < 0xd7ff ? s.slice(0, -1) + String.fromCharCode(last + 1) : null
}

/**
 * Moves a cursor past every entry that sorts under `skip` (a common prefix
 * already returned), but not past a directory whose prefix `skip` lies under:
 * it holds keys beyond `skip` too.
 */
function jumpPast(c: Cursor, skip: string): void {
  if (!skip.startsWith(c.prefix)) return
  const local = skip.slice(c.prefix.length)
  const next = successor(local)
  if (next === null) return
  let to = c.index.lowerBound(next)
  for (let j = c.index.lowerBound(local) - 1; j >= c.next; j--) {
    const e = c.index.at(j)
    if (!local.startsWith(e.local)) break
    if (e.dir) to = j
  }
  advance(c, to)
}

/**
 * A cursor over one directory, positioned at the first entry that can hold
 * a key at or after `bound`: the first entry from there, or a directory just
 * before it whose prefix the bound lies under.
 */
async function openLevel(bucketDir: string, parts: string[], prefix: string, bound: string): Promise<Cursor | null> {
  const dir = join(bucketDir, ...parts)
  const index = await readIndex(dir)
  if (!index) return null
  const c: Cursor = { parts, dir, prefix, index, next: 0 }
  if (!bound.startsWith(prefix)) return compareKeys(bound, prefix) < 0 ? c : null
  const local = bound.slice(prefix.length)
  let at = index.lowerBound(local)
  for (let j = at - 1; j >= 0; j--) {
    const e = index.at(j)
    if (!local.startsWith(e.local)) break
    if (e.dir) at = j
  }
  advance(c, at)
  return c
}

/** True when the directory holds at least one object, reading as little of it as possible. */
async function holdsObject(bucketDir: string, parts: string[], prefix: string): Promise<boolean> {
  const subdirs: Array<{ name: string; prefix: string }> = []
  try {
    for await (const entry of await opendir(join(bucketDir, ...parts))) {
      const parsed = parseName(entry.name)
      if (!parsed) continue
      if (entry.isFile() && parsed.type !== 'cont') {
        if (isCanonical(prefix + parsed.fragment, [...parts, entry.name], parsed.type === 'alt')) return true
      } else if (entry.isDirectory() && parsed.type !== 'alt') {
        subdirs.push({ name: entry.name, prefix: parsed.type === 'cont' ? prefix + parsed.fragment : prefix + parsed.fragment + '/' })
      }
    }
  } catch (err) {
    if (isErrno(err, ...MISSING)) return false
    throw err
  }
  for (const sub of subdirs) if (await holdsObject(bucketDir, [...parts, sub.name], sub.prefix)) return true
  return false
}

/** The directory that holds every key under `prefix` up to its last `/`. */
async function startingPoint(bucketDir: string, prefix: string): Promise<{ parts: string[]; prefix: string } | null> {
  const segments = prefix.split('/').slice(0, -1)
  const parts = segments.flatMap(encodeSegment)
  if (parts.length > 0) {
    const dir = join(bucketDir, ...parts)
    try {
      if ((await realpath(dir)) !== dir) return null
    } catch (err) {
      if (isErrno(err, ...MISSING, 'ENAMETOOLONG')) return null
      throw err
    }
  }
  return { parts, prefix: segments.map((s) => s + '/').join('') }
}

function encodeToken(found: Found): string {
  const text = found.kind === 'object' ? 'k' + found.key : 'p' + found.prefix
  return Buffer.from(text, 'utf8').toString('base64url')
}

function decodeToken(token: string): { after: string; skip: string | null } {
  const text = Buffer.from(token, 'base64url').toString('utf8')
  const value = text.slice(1)
  if (!/^[A-Za-z0-9_-]+$/.test(token) || !isValidKey(value) || (text[0] !== 'k' && text[0] !== 'p')) {
    throw new BackendError('invalid', 'invalid continuation token')
  }
  return { after: value, skip: text[0] === 'p' ? value : null }
}

function pageSize(maxKeys: number | undefined): number {
  if (maxKeys === undefined) return 1000
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new BackendError('invalid', 'maxKeys must be 1..1000')
  return Math.min(maxKeys, 1000)
}

export async function listPage(bucketDir: string, opts: ListOptions, describe: Describe): Promise<ListResult> {
  const prefix = opts.prefix ?? ''
  const delimiter = opts.delimiter ?? ''
  const max = pageSize(opts.maxKeys)
  const rollup = (key: string): string | null => {
    if (delimiter === '' || !key.startsWith(prefix)) return null
    const at = key.indexOf(delimiter, prefix.length)
    return at < 0 ? null : key.slice(0, at + delimiter.length)
  }
  let after = ''
  let skip: string | null = null
  if (opts.token) ({ after, skip } = decodeToken(opts.token))
  else if (opts.startAfter) {
    after = opts.startAfter
    // A start-after that is itself a common prefix stands for all the keys rolled into it.
    if (rollup(after) === after) skip = after
  }
  const found: Found[] = []
  let truncated = false

  const bound = compareKeys(after, prefix) > 0 ? after : prefix
  const start = await startingPoint(bucketDir, prefix)
  const first = start && (await openLevel(bucketDir, start.parts, start.prefix, bound))
  let cursors = first ? [first] : []
  if (skip) for (const c of cursors) jumpPast(c, skip)
  let lastKey: string | null = null

  /** Records one result; false once the page is full (so there is more). */
  const add = (entry: Found): boolean => {
    if (found.length === max) {
      truncated = true
      return false
    }
    found.push(entry)
    if (entry.kind === 'prefix') {
      skip = entry.prefix
      cursors = cursors.filter((c) => !c.prefix.startsWith(entry.prefix))
      for (const c of cursors) jumpPast(c, entry.prefix)
    }
    return true
  }

  for (;;) {
    let cursor: Cursor | undefined
    let item: Item | undefined
    for (const c of cursors) {
      const h = head(c)
      if (h && (!item || compareItems(h, item) < 0)) {
        cursor = c
        item = h
      }
    }
    if (!cursor || !item) break
    advance(cursor)
    // Everything from here on sorts after the prefix's range.
    if (!item.sort.startsWith(prefix) && !prefix.startsWith(item.sort) && compareKeys(item.sort, prefix) > 0) break
    if (item.kind === 'object') {
      const { key } = item
      if (key === lastKey || !key.startsWith(prefix) || compareKeys(key, after) <= 0 || (skip && key.startsWith(skip))) continue
      const parts = [...cursor.parts, item.name]
      if (!isCanonical(key, parts, item.alt)) continue
      lastKey = key
      const common = rollup(key)
      const entry: Found = common ? { kind: 'prefix', prefix: common } : { kind: 'object', key, path: `${cursor.dir}/${item.name}` }
      if (!add(entry)) break
      continue
    }
    const sub = item.prefix
    if (!sub.startsWith(prefix) && !prefix.startsWith(sub)) continue
    if (skip && sub.startsWith(skip)) continue
    if (compareKeys(sub, after) < 0 && !after.startsWith(sub)) continue
    const parts = [...cursor.parts, item.name]
    const common = sub.startsWith(prefix) ? rollup(sub) : null
    if (common && compareKeys(common, after) > 0) {
      if ((await holdsObject(bucketDir, parts, sub)) && !add({ kind: 'prefix', prefix: common })) break
    } else {
      const level = await openLevel(bucketDir, parts, sub, bound)
      if (level) {
        if (skip) jumpPast(level, skip)
        cursors.push(level)
      }
    }
    cursors = cursors.filter((c) => c.next < c.index.size)
  }

  const commonPrefixes: string[] = []
  const files: Array<{ key: string; path: string }> = []
  for (const f of found) {
    if (f.kind === 'prefix') commonPrefixes.push(f.prefix)
    else files.push(f)
  }
  const objects = (await describe(files, opts.withMetadata === true)).filter((info) => info !== null)
  const result: ListResult = { objects, commonPrefixes, isTruncated: truncated }
  if (truncated) result.nextToken = encodeToken(found.at(-1)!)
  return result
}
