// SPDX-License-Identifier: AGPL-3.0-or-later
/** Small JSON records (sidecars, upload and part records), replaced atomically. */
import { closeSync, constants, fstatSync, openSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { createStaging, safeDir, type FsContext } from './context.ts'
import { syncFd } from './dir-sync.ts'
import { isErrno } from './errors.ts'

/** Records are small; anything larger is not one of ours. */
const MAX_RECORD_BYTES = 4 * 1024 * 1024

/** The path an open file really has: one readlink on Linux, realpath of its name elsewhere. */
function openedPath(fd: number, path: string): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`)
  } catch {
    return realpathSync(path)
  }
}

/**
 * The text of a record; null when it is missing, not a regular file, too
 * large, or reached through a symbolic link (the file or a directory on its
 * way), so nothing planted under `.stowage` makes a read leave the root.
 * `dirChecked` says the caller has already made sure no directory on the way
 * is a link (a listing checks a bucket's sidecar directories once per page),
 * which spares the readlink. Synchronous: records are small, every listed
 * object reads one, and a few system calls cost less than as many trips
 * through the I/O thread pool.
 */
export function readRecord(path: string, opts: { dirChecked?: boolean } = {}): string | null {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR', 'ELOOP')) return null
    throw err
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile() || st.size > MAX_RECORD_BYTES || (!opts.dirChecked && openedPath(fd, path) !== path)) return null
    return readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
}

/** Null when the file is missing or not JSON: a torn or foreign record counts as none. */
export async function readJson<T>(path: string): Promise<T | null> {
  const text = readRecord(path)
  if (text === null) return null
  try {
    return JSON.parse(text) as T
  } catch {
    return null
  }
}

/**
 * Writes `value` to a synced staging file, ready for `placeFile`. Only the
 * create and the sync leave the event loop (both can wait for the disk): the
 * write of a few hundred bytes costs less than a trip through the I/O thread
 * pool.
 */
export async function stageJson(ctx: FsContext, value: unknown): Promise<string> {
  const { path: tmp, fd } = await createStaging(ctx, 'json')
  try {
    writeFileSync(fd, JSON.stringify(value))
    await syncFd(fd)
  } catch (err) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw err
  }
  closeSync(fd)
  return tmp
}

/** Renames a staged file to `path`, creating its directory; never through a symbolic link. */
export async function placeFile(tmp: string, path: string): Promise<void> {
  await safeDir(dirname(path))
  renameSync(tmp, path)
}

export async function writeJson(ctx: FsContext, path: string, value: unknown): Promise<void> {
  const tmp = await stageJson(ctx, value)
  try {
    await placeFile(tmp, path)
  } finally {
    rmSync(tmp, { force: true })
  }
}
