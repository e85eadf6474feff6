// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Writing an object: bytes go to a private staging file (MD5 computed on the
 * way), which is synced, then renamed into place under the bucket lock. A
 * crash or an aborted body before the rename leaves only the staging file,
 * which nothing lists and the next start removes; the rename itself is atomic,
 * so a reader sees the old object or the new one, never a part.
 */
import { createHash, type Hash } from 'node:crypto'
import type { BigIntStats } from 'node:fs'
import { open, rename, rm, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { BackendError } from '../backend.ts'
import { requireBucket } from './buckets.ts'
import { tempPath, type FsContext } from './context.ts'
import { fsFailure } from './errors.ts'
import { withLock } from './lock.ts'
import { placeFile, stageJson } from './json.ts'
import { sidecarPath, stampOf, type Sidecar } from './sidecar.ts'
import { locate, prepareTarget } from './tree.ts'

export type Staged = { path: string; size: number; md5: Buffer; st: BigIntStats }

const COPY_CHUNK = 1024 * 1024

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, offset, chunk.byteLength - offset)
    offset += bytesWritten
  }
}

/** Syncs a staged file and describes it for the commit. */
async function finish(fh: FileHandle, path: string, size: number, hash: Hash): Promise<Staged> {
  await fh.sync()
  const st = await fh.stat({ bigint: true })
  return { path, size, md5: hash.digest(), st }
}

/**
 * Streams `body` into a staging file. The body must be exactly `size` bytes:
 * more is cut off as soon as it shows, fewer is noticed at the end, and
 * either way nothing is kept (kind `invalid`).
 */
export async function stageBody(ctx: FsContext, body: ReadableStream<Uint8Array>, size: number, signal?: AbortSignal): Promise<Staged> {
  if (!Number.isSafeInteger(size) || size < 0) {
    await body.cancel().catch(() => {})
    throw new BackendError('invalid', 'size must be a byte count')
  }
  const path = tempPath(ctx, 'put')
  const reader = body.getReader()
  const onAbort = (): void => void reader.cancel(signal?.reason).catch(() => {})
  signal?.addEventListener('abort', onAbort, { once: true })
  let fh: FileHandle | undefined
  try {
    fh = await open(path, 'wx')
    const hash = createHash('md5')
    let received = 0
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>
      try {
        chunk = await reader.read()
        signal?.throwIfAborted()
      } catch (err) {
        throw new BackendError('invalid', 'the request body could not be read', { cause: err })
      }
      if (chunk.done) break
      received += chunk.value.byteLength
      if (received > size) throw new BackendError('invalid', 'the body is longer than its declared size')
      hash.update(chunk.value)
      await writeAll(fh, chunk.value)
    }
    if (received !== size) throw new BackendError('invalid', 'the body is shorter than its declared size')
    return await finish(fh, path, size, hash)
  } catch (err) {
    await reader.cancel().catch(() => {})
    await fh?.close()
    fh = undefined
    await rm(path, { force: true })
    throw fsFailure(err, 'write object')
  } finally {
    signal?.removeEventListener('abort', onAbort)
    reader.releaseLock()
    await fh?.close()
  }
}

/** Appends one file (an open handle, or a path opened for the occasion) to a staging file. */
async function appendFile(fh: FileHandle, source: FileHandle | string, buf: Uint8Array, hash: Hash, signal?: AbortSignal): Promise<number> {
  const src = typeof source === 'string' ? await open(source, 'r') : source
  try {
    let pos = 0
    for (;;) {
      signal?.throwIfAborted()
      const { bytesRead } = await src.read(buf, 0, buf.byteLength, pos)
      if (bytesRead === 0) return pos
      pos += bytesRead
      hash.update(buf.subarray(0, bytesRead))
      await writeAll(fh, buf.subarray(0, bytesRead))
    }
  } finally {
    if (src !== source) await src.close()
  }
}

/** Concatenates files into a staging file through one reused buffer, MD5 over the whole. */
export async function stageFiles(ctx: FsContext, sources: Array<FileHandle | string>, signal?: AbortSignal): Promise<Staged> {
  const path = tempPath(ctx, 'copy')
  const buf = new Uint8Array(COPY_CHUNK)
  let fh: FileHandle | undefined
  try {
    fh = await open(path, 'wx')
    const hash = createHash('md5')
    let size = 0
    for (const source of sources) size += await appendFile(fh, source, buf, hash, signal)
    return await finish(fh, path, size, hash)
  } catch (err) {
    await fh?.close()
    fh = undefined
    await rm(path, { force: true })
    throw fsFailure(err, 'copy object')
  } finally {
    await fh?.close()
  }
}

export type Commit = Pick<Sidecar, 'etag' | 'contentType' | 'metadata' | 'tags'> & { ifNoneMatch?: '*' }

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Moves a staged file into place as `key` and records its metadata; the staged file is gone afterwards. */
export async function commitObject(ctx: FsContext, bucket: string, key: string, staged: Staged, commit: Commit): Promise<Sidecar> {
  const sidecar: Sidecar = {
    v: 1,
    ...stampOf(staged.st),
    etag: commit.etag,
    contentType: commit.contentType,
    metadata: commit.metadata,
    tags: commit.tags,
    lastModified: Date.now(),
  }
  let sidecarTmp: string | undefined
  try {
    sidecarTmp = await stageJson(ctx, sidecar)
    const dir = await withLock(ctx.lockName(bucket), async () => {
      await requireBucket(ctx, bucket)
      if (commit.ifNoneMatch === '*' && (await locate(ctx, bucket, key))) throw new BackendError('precondition', 'the object already exists')
      const target = await prepareTarget(ctx, bucket, key)
      // Data first: a failure here leaves the previous object and its sidecar untouched.
      await rename(staged.path, target.path)
      if (target.stale) await rm(target.stale, { force: true })
      await placeFile(sidecarTmp!, sidecarPath(ctx, bucket, key))
      return dirname(target.path)
    })
    await syncDir(dir)
    return sidecar
  } catch (err) {
    throw fsFailure(err, 'commit object')
  } finally {
    await rm(staged.path, { force: true })
    if (sidecarTmp) await rm(sidecarTmp, { force: true })
  }
}
