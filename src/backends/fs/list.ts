// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * ListObjects over a directory tree, with S3's rules: keys in UTF-8 byte
 * order, prefix, any delimiter, common prefixes counted against maxKeys, and
 * a continuation token naming the last key or common prefix returned.
 *
 * Directory order is not key order (escapes, `.stowage=` twins, the `/` that a
 * directory adds), so each directory read is sorted by the key fragment its
 * entries stand for, and the open directories are merged: an entry for a
 * subdirectory sorts at the key prefix it holds, which is below every key in
 * it, and is only opened when it comes up. A page therefore reads the
 * directories on its way down to the token, plus those it returns keys from.
 * With a delimiter, a subdirectory whose whole content rolls up into one
 * common prefix is never read: one streamed peek confirms it holds an object.
 *
 * Memory per page is the directories on the current path, never the bucket.
 * There is no sorted readdir, though, so each page reads and sorts every
 * directory it passes through: paging through one directory of 50,000 files
 * costs a readdir of it per page.
 */
import type { Dirent } from 'node:fs'
import { opendir, readdir, realpath } from 'node:fs/promises'
import { join } from 'node:path'
import { BackendError, type ListOptions, type ListResult, type ObjectInfo } from '../backend.ts'
import { isErrno } from './errors.ts'
import { compareKeys, encodeSegment, isCanonical, isValidKey, parseName } from './keys.ts'

/** `sort` is the key or key prefix the entry stands for; `plain` when it has no UTF-16 unit ≥ U+D800. */
type Item = { name: string; sort: string; plain: boolean } & ({ kind: 'object'; key: string; alt: boolean } | { kind: 'dir'; prefix: string })

type Cursor = { parts: string[]; prefix: string; items: Item[]; next: number }

type Found = { kind: 'object'; key: string; path: string } | { kind: 'prefix'; prefix: string }

/** Builds the listed ObjectInfo of a file; null when it vanished meanwhile. */
export type Describe = (key: string, path: string, withMetadata: boolean) => Promise<ObjectInfo | null>

const MISSING = ['ENOENT', 'ENOTDIR', 'ELOOP']

const HIGH_UNITS = /[\ud800-\uffff]/

/** A file's own name before its `.stowage=` twin, files before a directory at the same key. */
function rank(item: Item): number {
  if (item.kind === 'dir') return 2
  return item.alt ? 1 : 0
}

/** Below U+D800, UTF-16 order is UTF-8 byte order, so most names sort natively. */
function compareItems(a: Item, b: Item): number {
  const order = a.plain && b.plain ? (a.sort < b.sort ? -1 : a.sort > b.sort ? 1 : 0) : compareKeys(a.sort, b.sort)
  return order || rank(a) - rank(b)
}

async function readLevel(bucketDir: string, parts: string[], prefix: string): Promise<Cursor> {
  const items: Item[] = []
  let entries: Dirent[]
  try {
    entries = await readdir(join(bucketDir, ...parts), { withFileTypes: true })
  } catch (err) {
    if (!isErrno(err, ...MISSING)) throw err
    entries = []
  }
  for (const entry of entries) {
    const parsed = parseName(entry.name)
    if (!parsed) continue
    if (entry.isFile() && parsed.type !== 'cont') {
      const key = prefix + parsed.fragment
      items.push({ kind: 'object', name: entry.name, key, alt: parsed.type === 'alt', sort: key, plain: !HIGH_UNITS.test(key) })
    } else if (entry.isDirectory() && parsed.type !== 'alt') {
      const sub = parsed.type === 'cont' ? prefix + parsed.fragment : prefix + parsed.fragment + '/'
      items.push({ kind: 'dir', name: entry.name, prefix: sub, sort: sub, plain: !HIGH_UNITS.test(sub) })
    }
  }
  items.sort(compareItems)
  return { parts, prefix, items, next: 0 }
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

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

export async function listPage(bucketDir: string, opts: ListOptions, describe: Describe): Promise<ListResult> {
  const prefix = opts.prefix ?? ''
  const delimiter = opts.delimiter ?? ''
  const max = pageSize(opts.maxKeys)
  const { after, skip: tokenSkip } = opts.token ? decodeToken(opts.token) : { after: '', skip: null }
  let skip = tokenSkip
  const found: Found[] = []
  let truncated = false

  const start = await startingPoint(bucketDir, prefix)
  let cursors = start ? [await readLevel(bucketDir, start.parts, start.prefix)] : []
  let lastKey: string | null = null

  const rollup = (key: string): string | null => {
    if (delimiter === '') return null
    const at = key.indexOf(delimiter, prefix.length)
    return at < 0 ? null : key.slice(0, at + delimiter.length)
  }
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
    }
    return true
  }

  for (;;) {
    let cursor: Cursor | undefined
    for (const c of cursors) {
      if (c.next < c.items.length && (!cursor || compareItems(c.items[c.next]!, cursor.items[cursor.next]!) < 0)) cursor = c
    }
    if (!cursor) break
    const item = cursor.items[cursor.next++]!
    if (item.kind === 'object') {
      const { key } = item
      if (key === lastKey || !key.startsWith(prefix) || compareKeys(key, after) <= 0 || (skip && key.startsWith(skip))) continue
      const parts = [...cursor.parts, item.name]
      if (!isCanonical(key, parts, item.alt)) continue
      lastKey = key
      const common = rollup(key)
      const entry: Found = common ? { kind: 'prefix', prefix: common } : { kind: 'object', key, path: join(bucketDir, ...parts) }
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
      cursors.push(await readLevel(bucketDir, parts, sub))
    }
    cursors = cursors.filter((c) => c.next < c.items.length)
  }

  const files = found.filter((f) => f.kind === 'object')
  const infos = await mapLimit(files, 32, (f) => describe(f.key, f.path, opts.withMetadata === true))
  const result: ListResult = {
    objects: infos.filter((info) => info !== null),
    commonPrefixes: found.flatMap((f) => (f.kind === 'prefix' ? [f.prefix] : [])),
    isTruncated: truncated,
  }
  if (truncated) result.nextToken = encodeToken(found.at(-1)!)
  return result
}
