// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Where the driver keeps things under its root:
 *
 *   <root>/<bucket>/…                       objects (see keys.ts)
 *   <root>/.stowage/tmp/<pid>-<rand>/       this process's staging files
 *   <root>/.stowage/meta/<bucket>/…         metadata sidecars (see sidecar.ts)
 *   <root>/.stowage/uploads/<bucket>/<id>/  multipart uploads (see multipart.ts)
 *
 * Everything is staged on the same filesystem as the buckets so a commit is a
 * rename. Bucket names cannot start with `.`, so `.stowage` is never a bucket.
 * Staging dirs carry their process id: on start, those of dead processes (and
 * of driver instances of this process that are gone) are removed, which is how
 * a crash's half-written temp files disappear.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, realpath, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { BackendError } from '../backend.ts'
import { fsFailure, isErrno } from './errors.ts'

export type FsContext = {
  /** The root with symlinks resolved; every path is built from it. */
  root: string
  sys: string
  /** This instance's staging directory. */
  tmp: string
  bucketDir(bucket: string): string
  metaDir(bucket: string): string
  uploadsDir(bucket: string): string
  /** The lock serialising commits in one bucket. */
  lockName(bucket: string): string
}

/** Staging dirs of driver instances alive in this process. */
const live = new Set<string>()

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return isErrno(err, 'EPERM')
  }
}

async function removeLeftovers(tmpRoot: string): Promise<void> {
  for (const name of await readdir(tmpRoot)) {
    const path = join(tmpRoot, name)
    const pid = Number(/^(\d+)-[0-9a-f]+$/.exec(name)?.[1])
    const abandoned = !Number.isSafeInteger(pid) || (pid === process.pid ? !live.has(path) : !isAlive(pid))
    if (abandoned) await rm(path, { recursive: true, force: true })
  }
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
    await Promise.all(['tmp', 'meta', 'uploads'].map((dir) => mkdir(join(sys, dir), { recursive: true })))
    await removeLeftovers(join(sys, 'tmp'))
    const tmp = join(sys, 'tmp', `${process.pid}-${randomBytes(6).toString('hex')}`)
    // Registered first, so another instance starting meanwhile cannot take it for a leftover.
    live.add(tmp)
    await mkdir(tmp)
    return {
      root,
      sys,
      tmp,
      bucketDir: (bucket) => join(root, bucket),
      metaDir: (bucket) => join(sys, 'meta', bucket),
      uploadsDir: (bucket) => join(sys, 'uploads', bucket),
      lockName: (bucket) => `${root}\0${bucket}`,
    }
  } catch (err) {
    throw new BackendError('unavailable', 'cannot prepare the storage root', { cause: fsFailure(err, 'prepare root') })
  }
}

export async function closeContext(ctx: FsContext): Promise<void> {
  live.delete(ctx.tmp)
  await rm(ctx.tmp, { recursive: true, force: true })
}

/** A fresh path in this instance's staging directory. */
export function tempPath(ctx: FsContext, label: string): string {
  return join(ctx.tmp, `${label}-${randomBytes(8).toString('hex')}`)
}
