// SPDX-License-Identifier: AGPL-3.0-or-later
/** Buckets are the directories directly under the root whose names S3 would accept. */
import { lstatSync } from 'node:fs'
import { lstat, mkdir, opendir, readdir, rm, rmdir } from 'node:fs/promises'
import { join } from 'node:path'
import { BackendError, type BucketInfo } from '../backend.ts'
import type { FsContext } from './context.ts'
import { forgetTree } from './dir-index.ts'
import { fsFailure, isErrno } from './errors.ts'
import { forgetListedUnder } from './listed.ts'
import { forgetVersionState, hasVersions } from './versions.ts'
import { withLock } from './lock.ts'

/** S3's rules: 3–63 of [a-z0-9.-], alphanumeric at both ends, no `..`, not an IP address. */
export function isValidBucketName(name: string): boolean {
  return typeof name === 'string' && /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name)
}

/**
 * Checked on every call, so a bucket removed or made by hand counts at once.
 * Synchronous, like the driver's other single-file system calls on the
 * request path: a trip through Bun's I/O thread pool costs several times the
 * call itself (≈30 µs against ≈4 µs for an lstat).
 */
function isBucketDir(ctx: FsContext, name: string): boolean {
  if (!isValidBucketName(name)) return false
  try {
    // lstat: a symlink planted at the top level is not a bucket.
    return lstatSync(ctx.bucketDir(name)).isDirectory()
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false
    throw fsFailure(err, 'stat bucket')
  }
}

export async function bucketExists(ctx: FsContext, name: string): Promise<boolean> {
  return isBucketDir(ctx, name)
}

export async function requireBucket(ctx: FsContext, name: string): Promise<void> {
  if (!isBucketDir(ctx, name)) throw new BackendError('bucket_not_found', 'no such bucket')
}

export async function listBuckets(ctx: FsContext): Promise<BucketInfo[]> {
  const out: BucketInfo[] = []
  for (const entry of await readdir(ctx.root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !isValidBucketName(entry.name)) continue
    try {
      const st = await lstat(join(ctx.root, entry.name))
      out.push({ name: entry.name, createdAt: st.birthtimeMs > 0 ? st.birthtime : st.mtime })
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1))
}

export async function createBucket(ctx: FsContext, name: string): Promise<void> {
  if (!isValidBucketName(name)) throw new BackendError('invalid', 'invalid bucket name')
  try {
    await mkdir(ctx.bucketDir(name))
    // What a bucket of this name removed by hand left behind is not the new bucket's.
    await rm(ctx.rulesPath(name), { force: true })
    await rm(ctx.versionsDir(name), { recursive: true, force: true })
    await rm(ctx.versionDataDir(name), { recursive: true, force: true })
    forgetVersionState(ctx, name)
  } catch (err) {
    if (isErrno(err, 'EEXIST')) throw new BackendError('exists', 'bucket already exists')
    throw fsFailure(err, 'create bucket')
  }
}

/** Removes a tree of directories; fails with `not_empty` at the first thing that is not one. */
async function removeEmptyTree(dir: string): Promise<void> {
  const subdirs: string[] = []
  for await (const entry of await opendir(dir)) {
    if (!entry.isDirectory()) throw new BackendError('not_empty', 'bucket is not empty')
    subdirs.push(join(dir, entry.name))
  }
  for (const sub of subdirs) await removeEmptyTree(sub)
  try {
    // rmdir, never rm -r: a file dropped in meanwhile makes this fail rather than vanish.
    await rmdir(dir)
  } catch (err) {
    if (isErrno(err, 'ENOTEMPTY', 'EEXIST')) throw new BackendError('not_empty', 'bucket is not empty')
    throw err
  }
}

/**
 * A bucket is empty when only directories are left in it and it keeps no
 * noncurrent version or delete marker, as on S3. Anything else, including
 * files that are not objects (a link, a name in our reserved space), keeps
 * it: they may be someone's data. Pending multipart uploads and stale
 * sidecars go with the bucket, and so do its versioning state, lifecycle
 * rules and tags.
 */
export async function deleteBucket(ctx: FsContext, name: string): Promise<void> {
  await withLock(ctx.lockName(name), async () => {
    await requireBucket(ctx, name)
    try {
      forgetTree(ctx.bucketDir(name))
      forgetListedUnder(ctx.bucketDir(name))
      if (await hasVersions(ctx, name)) throw new BackendError('not_empty', 'bucket is not empty')
      await removeEmptyTree(ctx.bucketDir(name))
      // Only index files and bytes no entry names can be left there (a crash's), never a version.
      forgetTree(ctx.versionsDir(name))
      await rm(ctx.versionsDir(name), { recursive: true, force: true })
      await rm(ctx.versionDataDir(name), { recursive: true, force: true })
      forgetVersionState(ctx, name)
      await rm(ctx.metaDir(name), { recursive: true, force: true })
      await rm(ctx.uploadsDir(name), { recursive: true, force: true })
      await rm(ctx.rulesPath(name), { force: true })
    } catch (err) {
      throw fsFailure(err, 'delete bucket')
    }
  })
}
