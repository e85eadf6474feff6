// SPDX-License-Identifier: AGPL-3.0-or-later
/** Single-object operations: head, get, put, delete, tags. */
import type { BigIntStats } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import {
  BackendError,
  type ContentHeaders,
  type DeleteResult,
  type GetOptions,
  type GetResult,
  type ObjectInfo,
  type PutOptions,
  type PutResult,
} from '../backend.ts'
import { requireBucket } from './buckets.ts'
import { tempPath, type FsContext } from './context.ts'
import { verifyDigests } from './digests.ts'
import { trackKey } from './dir-index.ts'
import { fsFailure, isErrno } from './errors.ts'
import { isValidKey } from './keys.ts'
import { waitIfLocked, withLock } from './lock.ts'
import { writeJson } from './json.ts'
import { forgetListed } from './listed.ts'
import { fileSource, notModified, resolveRange } from './read.ts'
import { adopt, contentTypeFor, describes, fullInfoOf, readSidecar, sidecarPath, type Sidecar } from './sidecar.ts'
import { locate, openObject, prune, removeObject, type Located, type Opened } from './tree.ts'
import { checkWriteConditions, type WriteConditions } from './conditions.ts'
import { commitObject, stageBody } from './write.ts'

/** S3 caps user metadata at 2 KB and tags at 10 pairs of 128/256 characters. */
const METADATA_BYTES = 2048
const MAX_TAGS = 10
/** A header value as HTTP can carry it back: bytes, tabs and spaces, no other control character. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

export function checkKey(key: string): void {
  if (typeof key === 'string' && key.isWellFormed() && Buffer.byteLength(key) > 1024) {
    throw new BackendError('invalid', 'Your key is too long.', { code: 'KeyTooLongError' })
  }
  if (!isValidKey(key)) throw new BackendError('invalid', 'object keys are 1 to 1024 bytes of UTF-8')
}

/** An unversioned store has one version per key, which S3 calls `null`. */
function checkVersion(versionId: string | undefined): void {
  if (versionId !== undefined && versionId !== 'null') throw new BackendError('not_found', 'no such version', { code: 'NoSuchVersion' })
}

export function normalizeMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  let bytes = 0
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (typeof value !== 'string' || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(name) || !HEADER_VALUE.test(value))
      throw new BackendError('invalid', 'invalid metadata')
    out[name.toLowerCase()] = value
    bytes += name.length + value.length
  }
  if (bytes > METADATA_BYTES) throw new BackendError('invalid', 'Your metadata headers exceed the maximum allowed metadata size.', { code: 'MetadataTooLarge' })
  return out
}

export function normalizeHeaders(headers: ContentHeaders | undefined): ContentHeaders {
  const out: ContentHeaders = {}
  for (const [name, value] of Object.entries(headers ?? {}) as Array<[keyof ContentHeaders, string | undefined]>) {
    if (value === undefined) continue
    if (typeof value !== 'string' || !HEADER_VALUE.test(value)) throw new BackendError('invalid', `invalid ${name}`)
    out[name] = value
  }
  return out
}

export function checkTags(tags: Record<string, string> | undefined): Record<string, string> {
  const entries = Object.entries(tags ?? {})
  const valid = entries.length <= MAX_TAGS && entries.every(([k, v]) => typeof v === 'string' && k.length >= 1 && k.length <= 128 && v.length <= 256)
  if (!valid) throw new BackendError('invalid', 'at most 10 tags, keys of 1–128 and values of up to 256 characters', { code: 'InvalidTag' })
  return Object.fromEntries(entries)
}

/** The sidecar describing this exact file, or what a dropped-in file would have. */
export async function describeNow(ctx: FsContext, bucket: string, key: string, st: BigIntStats): Promise<Sidecar> {
  const sc = await readSidecar(ctx, bucket, key)
  return describes(sc, st) ? sc : adopt(bucket, key, st)
}

/**
 * Finds the object and its metadata. A commit moves the data before the
 * sidecar, and pruning moves a `.stowage=` file back to its own name, so a
 * mismatch or a miss seen while the bucket's lock is held is waited out once;
 * a mismatch without one means the file came from elsewhere.
 */
async function described<T extends Located>(
  ctx: FsContext,
  bucket: string,
  key: string,
  find: () => Promise<T | null>,
  drop: (found: T) => Promise<void>,
): Promise<(T & { sc: Sidecar }) | null> {
  for (let attempt = 0; ; attempt++) {
    const found = await find()
    const sc = found && (await readSidecar(ctx, bucket, key))
    if (found && describes(sc, found.st)) return { ...found, sc }
    if (attempt === 0 && (await waitIfLocked(ctx.lockName(bucket)))) {
      if (found) await drop(found)
      continue
    }
    return found && { ...found, sc: adopt(bucket, key, found.st) }
  }
}

export async function prepare(ctx: FsContext, bucket: string, key: string, versionId?: string): Promise<void> {
  await requireBucket(ctx, bucket)
  checkKey(key)
  checkVersion(versionId)
}

export async function headObject(ctx: FsContext, bucket: string, key: string, versionId?: string): Promise<ObjectInfo> {
  await prepare(ctx, bucket, key, versionId)
  const found = await described(
    ctx,
    bucket,
    key,
    () => locate(ctx, bucket, key),
    async () => {},
  )
  if (!found) throw new BackendError('not_found', 'no such key', { code: 'NoSuchKey' })
  return fullInfoOf(found.sc)
}

/** The opened object with the metadata that describes it; `not_found` when there is none. */
export async function openDescribed(ctx: FsContext, bucket: string, key: string): Promise<Opened & { sc: Sidecar }> {
  const found = await described(
    ctx,
    bucket,
    key,
    () => openObject(ctx, bucket, key),
    (o) => o.fh.close(),
  )
  if (!found) throw new BackendError('not_found', 'no such key', { code: 'NoSuchKey' })
  return found
}

/** The bytes of part `n`: from the object's part layout, or the whole of an object that has none. */
function partSpan(sc: Sidecar, n: number): { start: number; end: number } {
  const count = sc.parts?.length ?? 1
  if (!Number.isInteger(n) || n < 1 || n > count)
    throw new BackendError('bad_range', 'The requested partnumber is not satisfiable', { code: 'InvalidPartNumber' })
  if (!sc.parts) return { start: 0, end: sc.size - 1 }
  let start = 0
  for (let i = 0; i < n - 1; i++) start += sc.parts[i]!.size
  return { start, end: start + sc.parts[n - 1]!.size - 1 }
}

export async function getObject(ctx: FsContext, bucket: string, key: string, opts: GetOptions): Promise<GetResult> {
  await prepare(ctx, bucket, key, opts.versionId)
  if (opts.partNumber !== undefined && opts.range)
    throw new BackendError('invalid', 'Cannot specify both Range header and partNumber query parameter.', { code: 'InvalidRequest' })
  const { fh, sc } = await openDescribed(ctx, bucket, key)
  try {
    const info = fullInfoOf(sc)
    if (notModified(info, opts)) {
      await fh.close()
      return { status: 304, info }
    }
    const whole = (): GetResult => ({ status: 200, info, ...fileSource(fh, 0, sc.size - 1, opts.signal, ctx.directIo), contentLength: sc.size })
    const span = ({ start, end }: { start: number; end: number }): GetResult => ({
      status: 206,
      info,
      ...fileSource(fh, start, end, opts.signal, ctx.directIo),
      contentLength: end - start + 1,
      range: { start, end, total: sc.size },
    })
    if (opts.partNumber !== undefined) {
      const part = partSpan(sc, opts.partNumber)
      // A part read of an object that is not multipart is the whole object, as a plain 200.
      return !sc.parts || sc.size === 0 ? whole() : span(part)
    }
    return opts.range ? span(resolveRange(opts.range, sc.size)) : whole()
  } catch (err) {
    await fh.close()
    throw err
  }
}

export async function putObject(ctx: FsContext, bucket: string, key: string, body: ReadableStream<Uint8Array>, opts: PutOptions): Promise<PutResult> {
  const conditions: WriteConditions = {
    ...(opts.ifMatch !== undefined ? { ifMatch: opts.ifMatch } : {}),
    ...(opts.ifNoneMatch !== undefined ? { ifNoneMatch: opts.ifNoneMatch } : {}),
  }
  let metadata: Record<string, string>
  let headers: ContentHeaders
  let tags: Record<string, string>
  try {
    await prepare(ctx, bucket, key)
    metadata = normalizeMetadata(opts.metadata)
    headers = normalizeHeaders(opts.headers)
    tags = checkTags(opts.tags)
    // Checked again at commit under the lock; this only spares streaming a doomed body.
    await checkWriteConditions(ctx, bucket, key, conditions)
  } catch (err) {
    await body.cancel().catch(() => {})
    throw err
  }
  const staged = await stageBody(ctx, body, opts.size, { signal: opts.signal, checksum: opts.checksum?.algorithm })
  try {
    verifyDigests(staged.digests, opts)
  } catch (err) {
    await rm(staged.path, { force: true })
    throw err
  }
  const etag = `"${staged.digests.md5.toString('hex')}"`
  const checksum =
    opts.checksum && staged.digests.checksum !== undefined
      ? { algorithm: opts.checksum.algorithm, value: staged.digests.checksum, type: 'FULL_OBJECT' as const }
      : undefined
  const contentType = opts.contentType ?? contentTypeFor(key)
  await commitObject(ctx, bucket, key, staged, { etag, contentType, metadata, tags, headers, checksum, ...conditions })
  return checksum ? { etag, checksum } : { etag }
}

/**
 * Removes the object and its sidecar; the caller holds the bucket's commit
 * lock. The sidecar is moved to staging before the data goes, so a crash in
 * between leaves it for recover.ts to put back beside the data that is still
 * there.
 */
async function removeLocked(ctx: FsContext, bucket: string, key: string): Promise<void> {
  const parked = tempPath(ctx, 'json-deleted')
  try {
    await rename(sidecarPath(ctx, bucket, key), parked).catch((err: unknown) => {
      if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err
    })
    forgetListed(ctx, bucket, key)
    await trackKey(ctx.bucketDir(bucket), key, async () => {
      if (await removeObject(ctx, bucket, key)) await prune(ctx, bucket, key)
    })
    await rm(parked, { force: true })
  } catch (err) {
    throw fsFailure(err, 'delete object')
  }
}

/** S3 semantics: deleting a key that does not exist succeeds. */
export async function deleteObject(ctx: FsContext, bucket: string, key: string, versionId?: string): Promise<void> {
  await prepare(ctx, bucket, key, versionId)
  await withLock(ctx.lockName(bucket), () => removeLocked(ctx, bucket, key))
}

export type ExpiryCandidate = { size: number; modifiedMs: number; tags: Record<string, string> }

/**
 * Deletes the object if, under the commit lock, `due` still says it may go (lifecycle expiry):
 * a write that replaced it after it was listed keeps the new object. True when it was deleted.
 */
export async function expireObject(ctx: FsContext, bucket: string, key: string, due: (o: ExpiryCandidate) => boolean): Promise<boolean> {
  await prepare(ctx, bucket, key)
  return withLock(ctx.lockName(bucket), async () => {
    const found = await locate(ctx, bucket, key)
    if (!found) return false
    const sc = await readSidecar(ctx, bucket, key)
    const own = describes(sc, found.st)
    const candidate = {
      size: Number(found.st.size),
      modifiedMs: own ? sc.lastModified : Number(found.st.mtimeNs / 1_000_000n),
      tags: own ? sc.tags : {},
    }
    if (!due(candidate)) return false
    await removeLocked(ctx, bucket, key)
    return true
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
      const e = err instanceof BackendError ? err : undefined
      result.errors.push({ key, versionId, code: e?.code ?? S3_CODES[e?.kind ?? 'failed'] ?? 'InternalError', message: e?.message ?? 'failed' })
    }
  }
  return result
}

export async function getObjectTags(ctx: FsContext, bucket: string, key: string, versionId?: string): Promise<Record<string, string>> {
  await prepare(ctx, bucket, key, versionId)
  const found = await described(
    ctx,
    bucket,
    key,
    () => locate(ctx, bucket, key),
    async () => {},
  )
  if (!found) throw new BackendError('not_found', 'no such key', { code: 'NoSuchKey' })
  return { ...found.sc.tags }
}

export async function putObjectTags(ctx: FsContext, bucket: string, key: string, tags: Record<string, string>, versionId?: string): Promise<void> {
  await prepare(ctx, bucket, key, versionId)
  const checked = checkTags(tags)
  await withLock(ctx.lockName(bucket), async () => {
    const found = await locate(ctx, bucket, key)
    if (!found) throw new BackendError('not_found', 'no such key', { code: 'NoSuchKey' })
    const sc = await describeNow(ctx, bucket, key, found.st)
    await writeJson(ctx, sidecarPath(ctx, bucket, key), { ...sc, tags: checked })
    forgetListed(ctx, bucket, key)
  })
}
