// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Writing an object: bytes go to a private staging file (MD5 computed on the
 * way), which is synced, then renamed into place under the bucket lock. A
 * crash or an aborted body before the rename leaves only the staging file,
 * which nothing lists and the next start removes; the rename itself is atomic,
 * so a reader sees the old object or the new one, never a part.
 */
import { closeSync, fstatSync, ftruncate, rmSync, write, writeSync, type BigIntStats } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { BackendError, type ChecksumAlgorithm } from '../backend.ts'
import type { VersioningStatus } from '../bucket-rules.ts'
import { versioningOf } from './bucket-rules.ts'
import { requireBucket } from './buckets.ts'
import { createStaging, DIRECT_BLOCK, safeDir, type FsContext } from './context.ts'
import { checkWriteConditions, type WriteConditions } from './conditions.ts'
import { BodyHasher, type Digests } from './digests.ts'
import { SlabHasher } from './hash-thread.ts'
import { syncDir, syncFd } from './dir-sync.ts'
import { trackKey } from './dir-index.ts'
import { fsFailure } from './errors.ts'
import { withLock } from './lock.ts'
import { placeFile, stageJson } from './json.ts'
import { forgetListed } from './listed.ts'
import { sidecarPath, stampOf, type Sidecar } from './sidecar.ts'
import { placeAt } from './tree.ts'
import { newVersionId, retireCurrent } from './versions.ts'
import { SlabPool } from '../../lib/slab-pool.ts'

export type Staged = {
  path: string
  size: number
  digests: Digests
  st: BigIntStats
  /** Settles once the bytes are on disk and the file is closed; nothing may name the file before. */
  synced: Promise<void>
}

/** Reads of a copy and writes of a body go in pieces of up to this size: a network body arrives in pieces of tens of KiB. */
const COPY_CHUNK = 1024 * 1024

/**
 * Where pieces are gathered: fresh memory costs a page fault per 4 KiB on
 * first touch (≈1 ms a MiB), more than the copy. Aligned for direct writes,
 * shared with the hashing thread.
 */
const chunkSlabs = new SlabPool(COPY_CHUNK, 8, DIRECT_BLOCK, true)
const SMALL_BODY = 64 * 1024

/**
 * Files of at least this size are written past the page cache where the
 * filesystem allows (O_DIRECT). Copying into the page cache is the kernel's
 * costliest part of a write: with 16 writers each writing and syncing 1 MiB
 * files here, 3–3.6 ms of CPU per file buffered against 0.6–1 direct, and
 * twice the files a second (`dd conv=fsync` of 1 GiB: 2.5 s of system time
 * against 0.18 with `oflag=direct`). At 256 KiB direct still won by a third;
 * at 64 KiB the two were alike.
 */
const DIRECT_MIN = 256 * 1024

function writeAsync(fd: number, data: Uint8Array, offset: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, data, offset, data.byteLength - offset, null, (err, n) => (err ? reject(err) : resolve(n))))
}

/**
 * Writes all of `data` at the file's position: whole pieces on the I/O
 * thread pool, where copying a MiB into the page cache does not hold up the
 * event loop; anything smaller right here, which costs less than the trip.
 * A direct write waits for the disk, so it always goes to the pool.
 */
async function writeAll(fd: number, data: Uint8Array, direct = false): Promise<void> {
  let offset = 0
  while (offset < data.byteLength) offset += !direct && data.byteLength < COPY_CHUNK ? writeSync(fd, data, offset) : await writeAsync(fd, data, offset)
}

/**
 * Writes the last `held` bytes gathered in `chunk`, which ends a file of
 * `size` bytes. A direct file takes whole blocks only: the piece is padded
 * with zeros to the next block (`chunk` is a whole slab, so there is room)
 * and the file cut back to its size.
 */
async function writeLast(fd: number, chunk: Uint8Array, held: number, size: number, direct: boolean): Promise<void> {
  if (!direct) return writeAll(fd, chunk.subarray(0, held))
  const padded = Math.ceil(held / DIRECT_BLOCK) * DIRECT_BLOCK
  chunk.fill(0, held, padded)
  await writeAll(fd, chunk.subarray(0, padded), true)
  if (padded !== held) await new Promise<void>((resolve, reject) => ftruncate(fd, size, (err) => (err ? reject(err) : resolve())))
}

/**
 * Describes a staged file for the commit and starts syncing it (which closes
 * it): the commit stages the sidecar meanwhile, so the two flushes overlap.
 */
function finish(fd: number, path: string, size: number, digests: Digests): Staged {
  const st = fstatSync(fd, { bigint: true })
  const synced = syncFd(fd).finally(() => closeSync(fd))
  // Awaited by whoever places the file; one that gives up first must not leave it unhandled.
  synced.catch(() => {})
  return { path, size, digests, st, synced }
}

/**
 * How a staged file is digested: as its pieces arrive, on the event loop; or,
 * for a direct file, its MD5 slab by slab on the hashing thread while the
 * slab is written (a checksum asked for is still taken as pieces arrive: the
 * ones clients send by default, CRC32 and CRC32C, cost far less than MD5).
 */
class StageHasher {
  private readonly here: BodyHasher
  private readonly slabs: SlabHasher | null

  constructor(direct: boolean, algorithm?: ChecksumAlgorithm) {
    this.here = new BodyHasher(algorithm, !direct)
    this.slabs = direct ? new SlabHasher() : null
  }

  /** A piece as it arrives. */
  piece(data: Uint8Array): void {
    this.here.update(data)
  }

  /** A gathered slab, settled once it may be refilled. */
  slab(data: Uint8Array): Promise<void> | undefined {
    return this.slabs?.update(data)
  }

  async digest(): Promise<Digests> {
    return this.here.digest(await this.slabs?.digest())
  }

  drop(): void {
    this.slabs?.drop()
  }
}

/** Writes a full gathered slab and hashes it (when slabs are hashed) at the same time. */
async function flushSlab(fd: number, slab: Uint8Array, hasher: StageHasher, direct: boolean): Promise<void> {
  await Promise.all([writeAll(fd, slab, direct), hasher.slab(slab)])
}

/** The last, partial slab: hashed as gathered, then written padded (the padding lies past what the thread reads). */
async function flushLast(fd: number, slab: Uint8Array, held: number, size: number, hasher: StageHasher, direct: boolean): Promise<void> {
  await Promise.all([hasher.slab(slab.subarray(0, held)), writeLast(fd, slab, held, size, direct)])
}

/** Closes a staging file and removes it (a write that failed). */
function discard(fd: number | undefined, path: string): void {
  if (fd !== undefined) closeSync(fd)
  rmSync(path, { force: true })
}

export type StageOptions = { signal?: AbortSignal; checksum?: ChecksumAlgorithm }

/** Whether a file of `size` bytes is staged past the page cache (where the filesystem allows it). */
const wantsDirect = (size: number): boolean => size >= DIRECT_MIN

/**
 * Streams `body` into a staging file. The body must be exactly `size` bytes:
 * more is cut off as soon as it shows, fewer is noticed at the end, and
 * either way nothing is kept (kind `invalid`). A body stream that errors
 * fails the same way, with its error as the cause. Pieces are gathered into
 * chunks of COPY_CHUNK (a piece that large is written as it is); a full
 * gathered chunk is written while the next one is received and hashed, so
 * disk and network overlap with two chunks held.
 */
export async function stageBody(ctx: FsContext, body: ReadableStream<Uint8Array>, size: number, opts: StageOptions = {}): Promise<Staged> {
  const { signal } = opts
  if (!Number.isSafeInteger(size) || size < 0) {
    await body.cancel().catch(() => {})
    throw new BackendError('invalid', 'size must be a byte count')
  }
  let path: string | undefined
  const reader = body.getReader()
  const onAbort = (): void => void reader.cancel(signal?.reason).catch(() => {})
  signal?.addEventListener('abort', onAbort, { once: true })
  let fd: number | undefined
  let writing: Promise<void> = Promise.resolve()
  let direct = false
  let chunkSize = Math.min(size, COPY_CHUNK)
  // Taken when a piece first needs gathering; small bodies touch a page or two of fresh memory.
  const gather = (): Uint8Array => (size < SMALL_BODY ? new Uint8Array(size) : chunkSlabs.take(chunkSize))
  let pending: Uint8Array | null = null
  let spare: Uint8Array | null = null
  let hasher: StageHasher | undefined
  try {
    ;({ path, fd, direct } = await createStaging(ctx, 'put', wantsDirect(size)))
    // A direct file is written from whole slabs: the last piece is padded within its slab.
    if (direct) chunkSize = COPY_CHUNK
    hasher = new StageHasher(direct, opts.checksum)
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
      hasher.piece(chunk.value)
      let data = chunk.value
      while (data.byteLength > 0) {
        if (!direct && held === 0 && data.byteLength >= chunkSize) {
          // A piece the size of a chunk (a body read whole) goes to disk as it is, before the next piece
          // is read: written in the background it would keep the producer's next piece alive beside it.
          const piece = data.subarray(0, chunkSize)
          await writing
          await writeAll(fd, piece)
          data = data.subarray(piece.byteLength)
          continue
        }
        pending ??= gather()
        const n = Math.min(data.byteLength, chunkSize - held)
        pending.set(data.subarray(0, n), held)
        held += n
        data = data.subarray(n)
        if (held === chunkSize) {
          await writing
          writing = flushSlab(fd, pending, hasher, direct)
          ;[pending, spare] = [spare, pending]
          held = 0
        }
      }
    }
    if (received !== size) throw new BackendError('invalid', 'the body is shorter than its declared size', { code: 'IncompleteBody' })
    await writing
    if (pending && held > 0) await flushLast(fd, pending, held, size, hasher, direct)
    const staged = finish(fd, path, size, await hasher.digest())
    fd = undefined
    return staged
  } catch (err) {
    await reader.cancel().catch(() => {})
    await writing.catch(() => {})
    hasher?.drop()
    if (path !== undefined) discard(fd, path)
    throw fsFailure(err, 'write object')
  } finally {
    signal?.removeEventListener('abort', onAbort)
    reader.releaseLock()
    if (pending) chunkSlabs.give(pending)
    if (spare) chunkSlabs.give(spare)
  }
}

/** A file to copy from (an open handle, or a path opened for the occasion), whole or bytes `start..end` inclusive. */
export type Source = { file: FileHandle | string; start?: number; end?: number }

/** The buffer sources are gathered in, written out whenever it is full. */
type Gathering = { fd: number; direct: boolean; buf: Uint8Array; held: number; hasher: StageHasher }

/** Appends one source to a staging file; the number of bytes copied. */
async function appendSource(g: Gathering, source: Source, signal?: AbortSignal): Promise<number> {
  const src = typeof source.file === 'string' ? await open(source.file, 'r') : source.file
  try {
    const start = source.start ?? 0
    const stop = source.end === undefined ? Infinity : source.end + 1
    let pos = start
    while (pos < stop) {
      signal?.throwIfAborted()
      const want = Math.min(g.buf.byteLength - g.held, stop - pos)
      const { bytesRead } = await src.read(g.buf, g.held, want, pos)
      if (bytesRead === 0) {
        if (stop !== Infinity) throw new BackendError('precondition', 'the source shrank while being copied')
        break
      }
      pos += bytesRead
      g.hasher.piece(g.buf.subarray(g.held, g.held + bytesRead))
      g.held += bytesRead
      if (g.held === g.buf.byteLength) {
        await flushSlab(g.fd, g.buf, g.hasher, g.direct)
        g.held = 0
      }
    }
    return pos - start
  } finally {
    if (src !== source.file) await src.close()
  }
}

/**
 * Concatenates sources into a staging file through one reused buffer,
 * digests over the whole. `expected` is the size they should add up to,
 * which decides how the file is written.
 */
export async function stageFiles(ctx: FsContext, sources: Source[], expected: number, opts: StageOptions = {}): Promise<Staged> {
  let path: string | undefined
  const buf = chunkSlabs.take(COPY_CHUNK)
  let fd: number | undefined
  let g: Gathering | undefined
  try {
    let direct: boolean
    ;({ path, fd, direct } = await createStaging(ctx, 'copy', wantsDirect(expected)))
    g = { fd, direct, buf, held: 0, hasher: new StageHasher(direct, opts.checksum) }
    let size = 0
    for (const source of sources) size += await appendSource(g, source, opts.signal)
    if (g.held > 0) await flushLast(fd, buf, g.held, size, g.hasher, direct)
    const staged = finish(fd, path, size, await g.hasher.digest())
    fd = undefined
    return staged
  } catch (err) {
    g?.hasher.drop()
    if (path !== undefined) discard(fd, path)
    throw fsFailure(err, 'copy object')
  } finally {
    chunkSlabs.give(buf)
  }
}

export type Commit = Pick<Sidecar, 'etag' | 'contentType' | 'metadata' | 'tags' | 'headers' | 'checksum' | 'parts' | 'uploadId'> & WriteConditions

/** The version id a new object gets under `status`. */
function versionFor(sidecar: Sidecar, status: VersioningStatus | null): void {
  if (status === null) delete sidecar.versionId
  else sidecar.versionId = status === 'Enabled' ? newVersionId() : 'null'
}

/**
 * Moves a staged file into place as `key` and records its metadata; the
 * staged file is gone afterwards. Data, sidecar and both directories are
 * synced before this returns, so an acknowledged write survives a power cut.
 * In a bucket that keeps versions, the object it replaces is kept as a
 * noncurrent version first (versions.ts).
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
  // Read again under the lock; the sidecar is staged before it on what it is likely to be.
  const expected = await versioningOf(ctx, bucket).catch(() => null)
  versionFor(sidecar, expected)
  let sidecarTmp: string | undefined
  try {
    // Staged and synced while the data syncs, both before the data moves: a crash between the two renames
    // leaves the sidecar for recover.ts.
    const [json, data] = await Promise.allSettled([stageJson(ctx, sidecar), staged.synced])
    if (json.status === 'fulfilled') sidecarTmp = json.value
    for (const r of [data, json]) if (r.status === 'rejected') throw r.reason
    const scPath = sidecarPath(ctx, bucket, key)
    // Made (and checked for links) before the data moves, so a bad metadata directory fails the write cleanly.
    await safeDir(dirname(scPath))
    const dir = await withLock(ctx.lockName(bucket), async () => {
      await requireBucket(ctx, bucket)
      await checkWriteConditions(ctx, bucket, key, commit)
      const status = await versioningOf(ctx, bucket)
      if (status !== expected) {
        versionFor(sidecar, status)
        rmSync(sidecarTmp!, { force: true })
        sidecarTmp = await stageJson(ctx, sidecar)
      }
      if (status) await retireCurrent(ctx, bucket, key, status)
      // Data first: a failure here leaves the previous object and its sidecar untouched.
      const target = await trackKey(ctx.bucketDir(bucket), key, () => placeAt(ctx, bucket, key, staged.path))
      await placeFile(sidecarTmp!, scPath)
      forgetListed(ctx, bucket, key)
      return target
    })
    await Promise.all([syncDir(dir), syncDir(dirname(scPath))])
    return sidecar
  } catch (err) {
    // Only a failed commit can leave them: a successful one has renamed both.
    rmSync(staged.path, { force: true })
    if (sidecarTmp) rmSync(sidecarTmp, { force: true })
    throw fsFailure(err, 'commit object')
  }
}
