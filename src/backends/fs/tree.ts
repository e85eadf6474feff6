// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Finding, placing and removing one object's file inside a bucket directory.
 *
 * Symlinks are never followed: the parent directory must resolve to exactly
 * the path built from the key (so no component is a link), and the file is
 * opened with O_NOFOLLOW. Someone who can swap a directory for a link between
 * that check and the open could still race it; closing that needs openat2,
 * which Node does not offer, and such a person can already write the folder.
 *
 * The system calls are synchronous but for the open of a file to read and
 * the unlinking of a large file: each is a few microseconds, a trip through
 * Bun's I/O thread pool several times that.
 */
import { constants, lstatSync, mkdirSync, realpathSync, renameSync, rmdirSync, unlinkSync, type BigIntStats } from 'node:fs'
import { open, rename, unlink, type FileHandle } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { BackendError } from '../backend.ts'
import type { FsContext } from './context.ts'
import { isErrno } from './errors.ts'
import { ALT_PREFIX, CONT_PREFIX, encodeKey } from './keys.ts'

export type Located = { path: string; st: BigIntStats }
export type Opened = Located & { fh: FileHandle }

const MISSING = ['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']

/** Unlinking a file frees its blocks in the call, ≈350 ms a GiB on the reference machine: from this size on, off the event loop. */
const BIG_FILE = 16 * 1024 * 1024

/** Unlinks a file of `size` bytes. */
export async function unlinkFile(path: string, size: number): Promise<void> {
  if (size >= BIG_FILE) await unlink(path)
  else unlinkSync(path)
}

/** Renames `from` onto `to`, which holds a file of `replaces` bytes (0 for none) that the rename unlinks. */
export async function renameOnto(from: string, to: string, replaces: number): Promise<void> {
  if (replaces >= BIG_FILE) await rename(from, to)
  else renameSync(from, to)
}

/** The key's parent directory when it exists and no component of it is a link. */
async function parentDir(ctx: FsContext, bucket: string, dirs: string[]): Promise<string | null> {
  const dir = join(ctx.bucketDir(bucket), ...dirs)
  try {
    return realpathSync(dir) === dir ? dir : null
  } catch (err) {
    if (isErrno(err, ...MISSING)) return null
    throw err
  }
}

/** The file's own name first, then its `.stowage=` name (used while a directory has the first). */
async function candidates(ctx: FsContext, bucket: string, key: string): Promise<string[]> {
  const { dirs, name } = encodeKey(key)
  const dir = await parentDir(ctx, bucket, dirs)
  return dir === null ? [] : [join(dir, name), join(dir, ALT_PREFIX + name)]
}

export async function locate(ctx: FsContext, bucket: string, key: string): Promise<Located | null> {
  for (const path of await candidates(ctx, bucket, key)) {
    try {
      const st = lstatSync(path, { bigint: true })
      if (st.isFile()) return { path, st }
    } catch (err) {
      if (!isErrno(err, ...MISSING)) throw err
    }
  }
  return null
}

/** Opens the object for reading; the handle keeps serving this version even if it is replaced. */
export async function openObject(ctx: FsContext, bucket: string, key: string): Promise<Opened | null> {
  for (const path of await candidates(ctx, bucket, key)) {
    let fh: FileHandle
    try {
      // O_NONBLOCK so a FIFO dropped into the folder cannot hang the open.
      fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    } catch (err) {
      if (isErrno(err, ...MISSING)) continue
      throw err
    }
    const st = await fh.stat({ bigint: true }).catch(async (err: unknown) => {
      await fh.close()
      throw err
    })
    if (st.isFile()) return { path, st, fh }
    await fh.close()
  }
  return null
}

/** Makes `name` in `parent` a directory, moving a file that holds the name to its `.stowage=` name. */
async function ensureDir(parent: string, name: string): Promise<string> {
  const path = join(parent, name)
  // Looked at first: the directory is there for all but the first key in it.
  let st = lstatSync(path, { throwIfNoEntry: false })
  if (!st) {
    try {
      mkdirSync(path)
      return path
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err
    }
    st = lstatSync(path)
  }
  if (st.isDirectory()) return path
  if (!st.isFile()) throw new BackendError('invalid', 'the key crosses a symbolic link or special file')
  // Only names keys produce have a twin; a stray file on a continuation name is someone else's.
  if (name.startsWith(CONT_PREFIX)) throw new BackendError('invalid', 'a file that is not an object blocks the key')
  renameSync(path, join(parent, ALT_PREFIX + name))
  mkdirSync(path)
  return path
}

export type Target = {
  /** Where the new file goes. */
  path: string
  /** The size of the file there now (0 for none), which the new one replaces. */
  replaces: number
  /** A `.stowage=` twin to remove once the file is in place. */
  stale?: { path: string; size: number }
}

function fileSize(path: string): number {
  const st = lstatSync(path, { throwIfNoEntry: false })
  return st?.isFile() ? st.size : 0
}

/** Creates the key's directories and picks its file path. Call under the bucket lock. */
export async function prepareTarget(ctx: FsContext, bucket: string, key: string): Promise<Target> {
  const { dirs, name } = encodeKey(key)
  let dir = ctx.bucketDir(bucket)
  for (const part of dirs) dir = await ensureDir(dir, part)
  const natural = join(dir, name)
  const alt = join(dir, ALT_PREFIX + name)
  const st = lstatSync(natural, { throwIfNoEntry: false })
  if (st?.isDirectory()) return { path: alt, replaces: fileSize(alt) }
  if (st && !st.isFile()) throw new BackendError('invalid', 'the key names a symbolic link or special file')
  const twin = lstatSync(alt, { throwIfNoEntry: false })
  return { path: natural, replaces: st?.size ?? 0, ...(twin?.isFile() ? { stale: { path: alt, size: twin.size } } : {}) }
}

/**
 * Moves the file `from` into place as `key` (prepareTarget, then one rename)
 * and drops the `.stowage=` twin it supersedes; the directory it went into.
 * Call under the bucket lock, inside trackKey.
 */
export async function placeAt(ctx: FsContext, bucket: string, key: string, from: string): Promise<string> {
  const t = await prepareTarget(ctx, bucket, key)
  // Data first: a failure here leaves what the key held untouched.
  await renameOnto(from, t.path, t.replaces)
  if (t.stale)
    await unlinkFile(t.stale.path, t.stale.size).catch((err: unknown) => {
      if (!isErrno(err, 'ENOENT')) throw err
    })
  return dirname(t.path)
}

/**
 * Removes the key's directories that became empty, bottom-up, never the
 * bucket directory; a file parked at `.stowage=<dir>` gets its name back.
 * Call under the bucket lock.
 */
export async function prune(ctx: FsContext, bucket: string, key: string): Promise<void> {
  const { dirs } = encodeKey(key)
  const base = ctx.bucketDir(bucket)
  for (let depth = dirs.length; depth > 0; depth--) {
    const parent = join(base, ...dirs.slice(0, depth - 1))
    const name = dirs[depth - 1]!
    try {
      rmdirSync(join(parent, name))
    } catch (err) {
      if (isErrno(err, 'ENOTEMPTY', 'EEXIST', 'ENOENT', 'ENOTDIR')) return
      throw err
    }
    if (name.startsWith(CONT_PREFIX)) continue
    try {
      renameSync(join(parent, ALT_PREFIX + name), join(parent, name))
      return
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err
    }
  }
}

/** Unlinks the key's file (and a `.stowage=` twin); false when there was none. Call under the bucket lock. */
export async function removeObject(ctx: FsContext, bucket: string, key: string): Promise<boolean> {
  let removed = false
  for (const path of await candidates(ctx, bucket, key)) {
    try {
      const st = lstatSync(path)
      if (!st.isFile()) continue
      await unlinkFile(path, st.size)
      removed = true
    } catch (err) {
      if (!isErrno(err, ...MISSING)) throw err
    }
  }
  return removed
}
