// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Writing an object: bytes go to a private staging file (MD5 computed on the
 * way), which is synced, then renamed into place under the bucket lock. A
 * crash or an aborted body before the rename leaves only the staging file,
 * which nothing lists and the next start removes; the rename itself is atomic,
 * so a reader sees the old object or the new one, never a part.
 */
import type { BigIntStats } from 'node:fs'
import { open, rename, rm, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { BackendError, type ChecksumAlgorithm } from '../backend.ts'
import { requireBucket } from './buckets.ts'
import { safeDir, tempPath, type FsContext } from './context.ts'
import { checkWriteConditions, type WriteConditions } from './conditions.ts'
import { BodyHasher, type Digests } from './digests.ts'
import { syncDir } from './dir-sync.ts'
import { trackKey } from './dir-index.ts'
import { fsFailure } from './errors.ts'
import { withLock } from './lock.ts'
import { placeFile, stageJson } from './json.ts'
import { forgetListed } from './listed.ts'
import { sidecarPath, stampOf, type Sidecar } from './sidecar.ts'
import { prepareTarget } from './tree.ts'

export type Staged = { path: string; size: number; digests: Digests; st: BigIntStats }

/** Reads of a copy and writes of a body go in pieces of up to this size: a network body arrives in pieces of tens of KiB. */
const COPY_CHUNK = 1024 * 1024

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, offset, chunk.byteLength - offset)
    offset += bytesWritten
  }
}

/** Syncs a staged file and describes it for the commit. */
async function finish(fh: FileHandle, path: string, size: number, hasher: BodyHasher): Promise<Staged> {
  await fh.sync()
  const st = await fh.stat({ bigint: true })
  return { path, size, digests: hasher.digest(), st }
}

export type StageOptions = { signal?: AbortSignal; checksum?: ChecksumAlgorithm }

/**
 * Streams `body` into a staging file. The body must be exactly `size` bytes:
 * more is cut off as soon as it shows, fewer is noticed at the end, and
 * either way nothing is kept (kind `invalid`). A body stream that errors
 * fails the same way, with its error as the cause.
 */
export async function stageBody(ctx: FsContext, body: ReadableStream<Uint8Array>, size: number, opts: StageOptions = {}): Promise<Staged> {
  const { signal } = opts
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
    const hasher = new BodyHasher(opts.checksum)
    const pending = new Uint8Array(Math.min(size, COPY_CHUNK))
    let held = 0
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
      if (received > size) throw new BackendError('invalid', 'the body is longer than its declared size', { code: 'IncompleteBody' })
      hasher.update(chunk.value)
      let data = chunk.value
      while (data.byteLength > 0) {
        const n = Math.min(data.byteLength, pending.byteLength - held)
        pending.set(data.subarray(0, n), held)
        held += n
        data = data.subarray(n)
        if (held === pending.byteLength) {
          await writeAll(fh, pending)
          held = 0
        }
      }
    }
    if (received !== size) throw new BackendError('invalid', 'the body is shorter than its declared size', { code: 'IncompleteBody' })
    if (held > 0) await writeAll(fh, pending.subarray(0, held))
    return await finish(fh, path, size, hasher)
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

/** A file to copy from (an open handle, or a path opened for the occasion), whole or bytes `start..end` inclusive. */
export type Source = { file: FileHandle | string; start?: number; end?: number }

/** Appends one source to a staging file; the number of bytes copied. */
async function appendSource(fh: FileHandle, source: Source, buf: Uint8Array, hasher: BodyHasher, signal?: AbortSignal): Promise<number> {
  const src = typeof source.file === 'string' ? await open(source.file, 'r') : source.file
  try {
    const start = source.start ?? 0
    const stop = source.end === undefined ? Infinity : source.end + 1
    let pos = start
    while (pos < stop) {
      signal?.throwIfAborted()
      const want = Math.min(buf.byteLength, stop - pos)
      const { bytesRead } = await src.read(buf, 0, want, pos)
      if (bytesRead === 0) {
        if (stop !== Infinity) throw new BackendError('precondition', 'the source shrank while being copied')
        break
      }
      pos += bytesRead
      hasher.update(buf.subarray(0, bytesRead))
      await writeAll(fh, buf.subarray(0, bytesRead))
    }
    return pos - start
  } finally {
    if (src !== source.file) await src.close()
  }
}

/** Concatenates sources into a staging file through one reused buffer, digests over the whole. */
export async function stageFiles(ctx: FsContext, sources: Source[], opts: StageOptions = {}): Promise<Staged> {
  const path = tempPath(ctx, 'copy')
  const buf = new Uint8Array(COPY_CHUNK)
  let fh: FileHandle | undefined
  try {
    fh = await open(path, 'wx')
    const hasher = new BodyHasher(opts.checksum)
    let size = 0
    for (const source of sources) size += await appendSource(fh, source, buf, hasher, opts.signal)
    return await finish(fh, path, size, hasher)
  } catch (err) {
    await fh?.close()
    fh = undefined
    await rm(path, { force: true })
    throw fsFailure(err, 'copy object')
  } finally {
    await fh?.close()
  }
}

export type Commit = Pick<Sidecar, 'etag' | 'contentType' | 'metadata' | 'tags' | 'headers' | 'checksum' | 'parts' | 'uploadId'> & WriteConditions

/**
 * Moves a staged file into place as `key` and records its metadata; the
 * staged file is gone afterwards. Data, sidecar and both directories are
 * synced before this returns, so an acknowledged write survives a power cut.
 */
export async function commitObject(ctx: FsContext, bucket: string, key: string, staged: Staged, commit: Commit): Promise<Sidecar> {
  const sidecar: Sidecar = {
    v: 2,
    bucket,
    key,
    ...stampOf(staged.st),
    etag: commit.etag,
    contentType: commit.contentType,
    metadata: commit.metadata,
    tags: commit.tags,
    lastModified: Date.now(),
  }
  if (commit.headers && Object.keys(commit.headers).length > 0) sidecar.headers = commit.headers
  if (commit.checksum) sidecar.checksum = commit.checksum
  if (commit.parts) sidecar.parts = commit.parts
  if (commit.uploadId) sidecar.uploadId = commit.uploadId
  let sidecarTmp: string | undefined
  try {
    // Staged and synced before the data moves: a crash between the two renames leaves it for recover.ts.
    sidecarTmp = await stageJson(ctx, sidecar)
    const scPath = sidecarPath(ctx, bucket, key)
    // Made (and checked for links) before the data moves, so a bad metadata directory fails the write cleanly.
    await safeDir(dirname(scPath))
    const dir = await withLock(ctx.lockName(bucket), async () => {
      await requireBucket(ctx, bucket)
      await checkWriteConditions(ctx, bucket, key, commit)
      const target = await trackKey(ctx.bucketDir(bucket), key, async () => {
        const t = await prepareTarget(ctx, bucket, key)
        // Data first: a failure here leaves the previous object and its sidecar untouched.
        await rename(staged.path, t.path)
        if (t.stale) await rm(t.stale, { force: true })
        return t
      })
      await placeFile(sidecarTmp!, scPath)
      forgetListed(ctx, bucket, key)
      return dirname(target.path)
    })
    await Promise.all([syncDir(dir), syncDir(dirname(scPath))])
    return sidecar
  } catch (err) {
    throw fsFailure(err, 'commit object')
  } finally {
    await rm(staged.path, { force: true })
    if (sidecarTmp) await rm(sidecarTmp, { force: true })
  }
}
