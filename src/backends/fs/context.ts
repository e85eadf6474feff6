// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Where the driver keeps things under its root:
 *
 *   <root>/<bucket>/…                       objects (see keys.ts)
 *   <root>/.stowage/tmp/<pid>-<rand>/       this process's staging files
 *   <root>/.stowage/meta/<bucket>/…         metadata sidecars (see sidecar.ts)
 *   <root>/.stowage/uploads/<bucket>/<id>/  multipart uploads (see multipart.ts)
 *   <root>/.stowage/buckets/<bucket>.json   versioning, lifecycle rules and tags (see bucket-rules.ts)
 *   <root>/.stowage/vdata/<bucket>/<h>/…    noncurrent versions and delete markers by key (see versions.ts)
 *   <root>/.stowage/versions/<bucket>/…     an index file per key that has them
 *
 * Everything is staged on the same filesystem as the buckets so a commit is a
 * rename. Bucket names cannot start with `.`, so `.stowage` is never a bucket.
 * Staging dirs carry their process id: on start, those of dead processes (and
 * of driver instances of this process that are gone) are recovered and
 * removed (recover.ts), which is how a crash's half-written files disappear.
 *
 * None of these directories may be a symbolic link: the root refuses to open
 * when `.stowage` or one of its six subdirectories is one, and every
 * directory made below them is checked (`safeDir`) before anything is written
 * into it, so a link planted there cannot send writes outside the root.
 */
import { randomBytes } from 'node:crypto'
import { constants, lstatSync, mkdirSync, open, realpathSync } from 'node:fs'
import { lstat, mkdir, open as openFile, realpath, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { BackendError } from '../backend.ts'
import { fsFailure, isErrno } from './errors.ts'
import { recoverRoot } from './recover.ts'
import { alignedBytes } from '../../lib/slab-pool.ts'

export type FsContext = {
  /** The root with symlinks resolved; every path is built from it. */
  root: string
  sys: string
  /** This instance's staging directory. */
  tmp: string
  /** Whether staging files can be written past the page cache (O_DIRECT), found out once at start-up. */
  directIo: boolean
  bucketDir(bucket: string): string
  metaDir(bucket: string): string
  uploadsDir(bucket: string): string
  /** The record of the bucket's versioning, lifecycle rules and tags. */
  rulesPath(bucket: string): string
  /** The tree of version records, shaped like the bucket's own (a record per key, at the key's path). */
  versionsDir(bucket: string): string
  /** The files of noncurrent versions. */
  versionDataDir(bucket: string): string
  /** The lock serialising commits in one bucket. */
  lockName(bucket: string): string
}

/** Staging dirs of driver instances alive in this process. */
export const liveStaging = new Set<string>()

const linked = (): BackendError => new BackendError('denied', 'a directory of the storage root is a symbolic link')

/**
 * Creates `dir` (and its missing parents) once the deepest one that exists is
 * known to be reached through no link, so nothing is ever made through one;
 * kind `denied` otherwise. Synchronous system calls: every write checks a
 * directory or two, and a few calls cost less than as many trips through the
 * I/O thread pool.
 */
export async function safeDir(dir: string): Promise<string> {
  let existing = dir
  const missing: string[] = []
  for (;;) {
    try {
      lstatSync(existing)
      break
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err
      missing.unshift(basename(existing))
      existing = dirname(existing)
    }
  }
  if (missing.length === 0) {
    if (realpathSync(dir) !== dir) throw linked()
    return dir
  }
  if (realpathSync(existing) !== existing) throw linked()
  for (const name of missing) {
    existing = join(existing, name)
    try {
      mkdirSync(existing)
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err
    }
  }
  if (realpathSync(dir) !== dir) throw linked()
  return dir
}

/** True for a directory that is not a link (a link planted under `.stowage` is never walked into). */
export async function isPlainDir(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory()
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false
    throw err
  }
}

async function checkReal(path: string): Promise<void> {
  const st = await lstat(path)
  if (!st.isDirectory() || (await realpath(path)) !== path) throw new Error(`${path} is not a plain directory`)
}

export async function openContext(rootOption: string): Promise<FsContext> {
  let root: string
  try {
    root = await realpath(rootOption)
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory')
  } catch (err) {
    throw new BackendError('unavailable', 'storage root is not a directory', { cause: err })
  }
  const sys = join(root, '.stowage')
  try {
    await mkdir(sys, { recursive: true })
    await checkReal(sys)
    for (const dir of ['tmp', 'meta', 'uploads', 'buckets', 'versions', 'vdata']) {
      await mkdir(join(sys, dir), { recursive: true })
      await checkReal(join(sys, dir))
    }
  } catch (err) {
    throw new BackendError('unavailable', 'the storage root’s .stowage directory is unusable (a symbolic link, or not writable)', { cause: err })
  }
  const tmp = join(sys, 'tmp', `${process.pid}-${randomBytes(6).toString('hex')}`)
  const ctx: FsContext = {
    root,
    sys,
    tmp,
    directIo: false,
    bucketDir: (bucket) => join(root, bucket),
    metaDir: (bucket) => join(sys, 'meta', bucket),
    uploadsDir: (bucket) => join(sys, 'uploads', bucket),
    rulesPath: (bucket) => join(sys, 'buckets', `${bucket}.json`),
    versionsDir: (bucket) => join(sys, 'versions', bucket),
    versionDataDir: (bucket) => join(sys, 'vdata', bucket),
    lockName: (bucket) => `${root}\0${bucket}`,
  }
  try {
    await recoverRoot(ctx)
    // Registered first, so another instance starting meanwhile cannot take it for a leftover.
    liveStaging.add(tmp)
    await mkdir(tmp)
    ctx.directIo = await canWriteDirect(ctx)
    return ctx
  } catch (err) {
    liveStaging.delete(tmp)
    throw new BackendError('unavailable', 'cannot prepare the storage root', { cause: fsFailure(err, 'prepare root') })
  }
}

export async function closeContext(ctx: FsContext): Promise<void> {
  liveStaging.delete(ctx.tmp)
  await rm(ctx.tmp, { recursive: true, force: true })
}

/** A fresh path in this instance's staging directory. */
export function tempPath(ctx: FsContext, label: string): string {
  return join(ctx.tmp, `${label}-${randomBytes(8).toString('hex')}`)
}

/** What writes past the page cache need: memory, file offsets and lengths in multiples of this. */
export const DIRECT_BLOCK = 4096

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL

/**
 * Whether the staging directory's filesystem takes O_DIRECT writes of
 * DIRECT_BLOCK-aligned memory: tried once with a block, since some refuse
 * the flag at open (older tmpfs) and a few only at the write.
 */
async function canWriteDirect(ctx: FsContext): Promise<boolean> {
  const path = tempPath(ctx, 'probe')
  try {
    const file = await openFile(path, CREATE | constants.O_DIRECT)
    try {
      await file.write(alignedBytes(DIRECT_BLOCK, DIRECT_BLOCK), 0, DIRECT_BLOCK, 0)
    } finally {
      await file.close()
    }
    return true
  } catch {
    return false
  } finally {
    await rm(path, { force: true })
  }
}

/**
 * Creates a fresh staging file for writing, on the I/O thread pool: while
 * concurrent commits sync, creating a file waits for the filesystem journal
 * (milliseconds on ext4); done synchronously, it was 11 % of the server's
 * profile under 16 concurrent 1 MiB PUTs, all of it the event loop waiting.
 *
 * `direct` asks for a file written past the page cache where the filesystem
 * allows it (the answer's `direct` says whether it does): such a file takes
 * only whole DIRECT_BLOCKs of aligned memory.
 */
export function createStaging(ctx: FsContext, label: string, direct = false): Promise<{ path: string; fd: number; direct: boolean }> {
  const path = tempPath(ctx, label)
  const useDirect = direct && ctx.directIo
  const flags = CREATE | (useDirect ? constants.O_DIRECT : 0)
  return new Promise((resolve, reject) => open(path, flags, 0o666, (err, fd) => (err ? reject(err) : resolve({ path, fd, direct: useDirect }))))
}
