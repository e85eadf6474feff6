// SPDX-License-Identifier: AGPL-3.0-or-later
/** Single-object operations: head, get, put, delete, copy, tags. */
import type { BigIntStats } from 'node:fs'
import { lstat } from 'node:fs/promises'
import { BackendError, type CopyOptions, type DeleteResult, type GetOptions, type GetResult, type ObjectInfo, type PutOptions, type PutResult } from '../backend.ts'
import { requireBucket } from './buckets.ts'
import type { FsContext } from './context.ts'
import { fsFailure, isErrno } from './errors.ts'
import { isValidKey } from './keys.ts'
import { waitIfLocked, withLock } from './lock.ts'
import { writeJson } from './json.ts'
import { fileBody, notModified, resolveRange } from './read.ts'
import { adopt, contentTypeFor, describes, infoOf, readSidecar, removeSidecar, sidecarPath, type Sidecar } from './sidecar.ts'
import { locate, openObject, prune, removeObject, type Located, type Opened } from './tree.ts'
import { commitObject, stageBody, stageFiles } from './write.ts'

/** S3 caps user metadata at 2 KB and tags at 10 pairs of 128/256 characters. */
const METADATA_BYTES = 2048
const MAX_TAGS = 10

export function checkKey(key: string): void {
  if (!isValidKey(key)) throw new BackendError('invalid', 'object keys are 1 to 1024 bytes of UTF-8')
}

/** An unversioned store has one version per key, which S3 calls `null`. */
function checkVersion(versionId: string | undefined): void {
  if (versionId !== undefined && versionId !== 'null') throw new BackendError('not_found', 'no such version')
}

export function normalizeMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  let bytes = 0
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (typeof value !== 'string' || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(name)) throw new BackendError('invalid', 'invalid metadata')
    out[name.toLowerCase()] = value
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value)
  }
  if (bytes > METADATA_BYTES) throw new BackendError('invalid', 'metadata is larger than 2 KB')
  return out
}

function checkTags(tags: Record<string, string>): void {
  const entries = Object.entries(tags)
  const valid = entries.length <= MAX_TAGS && entries.every(([k, v]) => typeof v === 'string' && k.length >= 1 && k.length <= 128 && v.length <= 256)
  if (!valid) throw new BackendError('invalid', 'at most 10 tags, keys of 1–128 and values of up to 256 characters')
}

/** The sidecar describing this exact file, or what a dropped-in file would have. */
async function describeNow(ctx: FsContext, bucket: string, key: string, st: BigIntStats): Promise<Sidecar> {
  const sc = await readSidecar(sidecarPath(ctx, bucket, key))
  return describes(sc, st) ? sc : adopt(key, st)
}

/**
 * Finds the object and its metadata. A commit moves the data before the
 * sidecar, and pruning moves a `.stowage=` file back to its own name, so a
 * mismatch or a miss seen while the bucket's lock is held is waited out once;
 * a mismatch without one means the file came from elsewhere.
 */
async function described<T extends Located>(ctx: FsContext, bucket: string, key: string, find: () => Promise<T | null>, drop: (found: T) => Promise<void>): Promise<(T & { sc: Sidecar }) | null> {
  for (let attempt = 0; ; attempt++) {
    const found = await find()
    const sc = found && (await readSidecar(sidecarPath(ctx, bucket, key)))
    if (found && describes(sc, found.st)) return { ...found, sc }
    if (attempt === 0 && (await waitIfLocked(ctx.lockName(bucket)))) {
      if (found) await drop(found)
      continue
    }
    return found && { ...found, sc: adopt(key, found.st) }
  }
}

async function prepare(ctx: FsContext, bucket: string, key: string, versionId?: string): Promise<void> {
  await requireBucket(ctx, bucket)
  checkKey(key)
  checkVersion(versionId)
}

export async function headObject(ctx: FsContext, bucket: string, key: string, versionId?: string): Promise<ObjectInfo> {
  await prepare(ctx, bucket, key, versionId)
  const found = await described(ctx, bucket, key, () => locate(ctx, bucket, key), async () => {})
  if (!found) throw new BackendError('not_found', 'no such key')
  return infoOf(key, found.sc, true)
}

async function openDescribed(ctx: FsContext, bucket: string, key: string): Promise<Opened & { sc: Sidecar }> {
  const found = await described(ctx, bucket, key, () => openObject(ctx, bucket, key), (o) => o.fh.close())
  if (!found) throw new BackendError('not_found', 'no such key')
  return found
}

export async function getObject(ctx: FsContext, bucket: string, key: string, opts: GetOptions): Promise<GetResult> {
  await prepare(ctx, bucket, key, opts.versionId)
  const { fh, sc } = await openDescribed(ctx, bucket, key)
  try {
    const info = infoOf(key, sc, true)
    if (notModified(info, opts)) {
      await fh.close()
      return { status: 304, info }
    }
    if (!opts.range) return { status: 200, info, body: fileBody(fh, 0, sc.size - 1, opts.signal), contentLength: sc.size }
    const { start, end } = resolveRange(opts.range, sc.size)
    return {
      status: 206,
      info,
      body: fileBody(fh, start, end, opts.signal),
      contentLength: end - start + 1,
      range: { start, end, total: sc.size },
    }
  } catch (err) {
    await fh.close()
    throw err
  }
}

export async function putObject(ctx: FsContext, bucket: string, key: string, body: ReadableStream<Uint8Array>, opts: PutOptions): Promise<PutResult> {
  let metadata: Record<string, string>
  try {
    await prepare(ctx, bucket, key)
    metadata = normalizeMetadata(opts.metadata)
    // Checked again at commit under the lock; this only spares streaming a doomed body.
    if (opts.ifNoneMatch === '*' && (await locate(ctx, bucket, key))) throw new BackendError('precondition', 'the object already exists')
  } catch (err) {
    await body.cancel().catch(() => {})
    throw err
  }
  const staged = await stageBody(ctx, body, opts.size, opts.signal)
  const etag = `"${staged.md5.toString('hex')}"`
  const contentType = opts.contentType ?? contentTypeFor(key)
  await commitObject(ctx, bucket, key, staged, { etag, contentType, metadata, tags: {}, ifNoneMatch: opts.ifNoneMatch })
  return { etag }
}

/** S3 semantics: deleting a key that does not exist succeeds. */
export async function deleteObject(ctx: FsContext, bucket: string, key: string, versionId?: string): Promise<void> {
  await prepare(ctx, bucket, key, versionId)
  await withLock(ctx.lockName(bucket), async () => {
    try {
      if (await removeObject(ctx, bucket, key)) await prune(ctx, bucket, key)
      await removeSidecar(sidecarPath(ctx, bucket, key))
    } catch (err) {
      throw fsFailure(err, 'delete object')
    }
  })
}

const S3_CODES: Partial<Record<BackendError['kind'], string>> = { invalid: 'InvalidArgument', not_found: 'NoSuchVersion', denied: 'AccessDenied' }

export async function deleteObjects(ctx: FsContext, bucket: string, keys: Array<{ key: string; versionId?: string }>): Promise<DeleteResult> {
  await requireBucket(ctx, bucket)
  if (keys.length > 1000) throw new BackendError('invalid', 'at most 1000 keys per request')
  const result: DeleteResult = { deleted: [], errors: [] }
  for (const { key, versionId } of keys) {
    try {
      await deleteObject(ctx, bucket, key, versionId)
      result.deleted.push(versionId === undefined ? { key } : { key, versionId })
    } catch (err) {
      const kind = err instanceof BackendError ? err.kind : 'failed'
      result.errors.push({ key, versionId, code: S3_CODES[kind] ?? 'InternalError', message: err instanceof Error ? err.message : 'failed' })
    }
  }
  return result
}

type Ref = { bucket: string; key: string }

/** Copying onto itself rewrites the metadata in place; S3 refuses it when nothing changes. */
async function editInPlace(ctx: FsContext, ref: Ref, opts: CopyOptions): Promise<ObjectInfo> {
  if (opts.metadata === undefined && opts.contentType === undefined) {
    throw new BackendError('invalid', 'copying an object onto itself must change its metadata or content type')
  }
  const metadata = opts.metadata === undefined ? undefined : normalizeMetadata(opts.metadata)
  return withLock(ctx.lockName(ref.bucket), async () => {
    const found = await locate(ctx, ref.bucket, ref.key)
    if (!found) throw new BackendError('not_found', 'no such key')
    const sc = await describeNow(ctx, ref.bucket, ref.key, found.st)
    const next: Sidecar = { ...sc, metadata: metadata ?? sc.metadata, contentType: opts.contentType ?? sc.contentType, lastModified: Date.now() }
    await writeJson(ctx, sidecarPath(ctx, ref.bucket, ref.key), next)
    return infoOf(ref.key, next, true)
  })
}

export async function copyObject(ctx: FsContext, src: Ref, dst: Ref, opts: CopyOptions): Promise<ObjectInfo> {
  await prepare(ctx, src.bucket, src.key, opts.srcVersionId)
  await prepare(ctx, dst.bucket, dst.key)
  if (src.bucket === dst.bucket && src.key === dst.key) return editInPlace(ctx, dst, opts)
  const metadata = opts.metadata === undefined ? undefined : normalizeMetadata(opts.metadata)
  const { fh, sc } = await openDescribed(ctx, src.bucket, src.key)
  let staged
  try {
    staged = await stageFiles(ctx, [fh], opts.signal)
  } finally {
    await fh.close()
  }
  const written = await commitObject(ctx, dst.bucket, dst.key, staged, {
    etag: `"${staged.md5.toString('hex')}"`,
    contentType: opts.contentType ?? sc.contentType,
    metadata: metadata ?? sc.metadata,
    tags: sc.tags,
  })
  return infoOf(dst.key, written, true)
}

export async function getObjectTags(ctx: FsContext, bucket: string, key: string, versionId?: string): Promise<Record<string, string>> {
  await prepare(ctx, bucket, key, versionId)
  const found = await described(ctx, bucket, key, () => locate(ctx, bucket, key), async () => {})
  if (!found) throw new BackendError('not_found', 'no such key')
  return { ...found.sc.tags }
}

export async function putObjectTags(ctx: FsContext, bucket: string, key: string, tags: Record<string, string>, versionId?: string): Promise<void> {
  await prepare(ctx, bucket, key, versionId)
  checkTags(tags)
  await withLock(ctx.lockName(bucket), async () => {
    const found = await locate(ctx, bucket, key)
    if (!found) throw new BackendError('not_found', 'no such key')
    const sc = await describeNow(ctx, bucket, key, found.st)
    await writeJson(ctx, sidecarPath(ctx, bucket, key), { ...sc, tags: { ...tags } })
  })
}

/** What a listing shows for the file it found at `path`; null when it went away meanwhile. */
export async function listedInfo(ctx: FsContext, bucket: string, key: string, path: string, withMetadata: boolean): Promise<ObjectInfo | null> {
  let st: BigIntStats
  try {
    st = await lstat(path, { bigint: true })
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null
    throw err
  }
  return st.isFile() ? infoOf(key, await describeNow(ctx, bucket, key, st), withMetadata) : null
}
