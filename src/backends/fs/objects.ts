// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Single-object operations: head, get, put, tags. A version id names the
 * bucket's file when it is that file's version, and a stored version
 * otherwise (versions.ts); without one, a key whose latest version is a
 * delete marker is missing, and says so.
 */
import { constants } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { BackendError, type ContentHeaders, type GetOptions, type GetResult, type ObjectInfo, type PutOptions, type PutResult } from '../backend.ts'
import { requireBucket } from './buckets.ts'
import type { FsContext } from './context.ts'
import { verifyDigests } from './digests.ts'
import { isErrno } from './errors.ts'
import { isValidKey } from './keys.ts'
import { waitIfLocked, withLock } from './lock.ts'
import { writeJson } from './json.ts'
import { forgetListed } from './listed.ts'
import { fileSource, notModified, resolveRange } from './read.ts'
import { adopt, contentTypeFor, describeNow, describes, fullInfoOf, putResultOf, readSidecar, sidecarPath, type Sidecar } from './sidecar.ts'
import { locate, openObject, type Located, type Opened } from './tree.ts'
import { dataPath, findStored, idOf, markerMiss, topStored, updateStored, type StoredData } from './versions.ts'
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

const noSuchKey = (): BackendError => new BackendError('not_found', 'no such key', { code: 'NoSuchKey' })
const noSuchVersion = (): BackendError => new BackendError('not_found', 'no such version', { code: 'NoSuchVersion' })

/** Why a key without a file has no latest version: a delete marker, or nothing at all. */
async function latestMiss(ctx: FsContext, bucket: string, key: string): Promise<BackendError> {
  const top = await topStored(ctx, bucket, key)
  return top?.marker ? markerMiss(top.versionId) : noSuchKey()
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

export async function prepare(ctx: FsContext, bucket: string, key: string): Promise<void> {
  await requireBucket(ctx, bucket)
  checkKey(key)
}

/** The object's metadata, without opening it; `not_found` when there is none. */
async function describeLatest(ctx: FsContext, bucket: string, key: string): Promise<Sidecar> {
  const found = await described(
    ctx,
    bucket,
    key,
    () => locate(ctx, bucket, key),
    async () => {},
  )
  if (!found) throw await latestMiss(ctx, bucket, key)
  return found.sc
}

async function openStored(
  ctx: FsContext,
  bucket: string,
  key: string,
  v: StoredData & { name: string },
): Promise<(Opened & { sc: Sidecar; stored: true }) | null> {
  const path = dataPath(ctx, bucket, key, v)
  try {
    const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    const st = await fh.stat({ bigint: true })
    return { path, st, fh, sc: { ...v.sc, versionId: v.versionId }, stored: true }
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null
    throw err
  }
}

/**
 * The opened object (or the version named) with the metadata that describes
 * it (`stored` when it is not the bucket's file); `not_found` when there is none. A version that moved between the
 * bucket's file and the store while it was looked for is looked for again
 * once the commit in flight is done.
 */
export async function openDescribed(ctx: FsContext, bucket: string, key: string, versionId?: string): Promise<Opened & { sc: Sidecar; stored?: true }> {
  for (let attempt = 0; ; attempt++) {
    const found = await described(
      ctx,
      bucket,
      key,
      () => openObject(ctx, bucket, key),
      (o) => o.fh.close(),
    )
    if (found && (versionId === undefined || idOf(found.sc) === versionId)) return found
    await found?.fh.close()
    if (versionId === undefined) throw await latestMiss(ctx, bucket, key)
    const v = await findStored(ctx, bucket, key, versionId, found)
    const opened = v && !v.marker ? await openStored(ctx, bucket, key, v) : null
    if (opened) return opened
    if (attempt === 0 && (await waitIfLocked(ctx.lockName(bucket)))) continue
    throw v?.marker ? markerMiss(v.versionId) : noSuchVersion()
  }
}

/** The metadata of the object or of the version named. */
async function describeVersion(ctx: FsContext, bucket: string, key: string, versionId: string | undefined): Promise<Sidecar> {
  if (versionId === undefined) return describeLatest(ctx, bucket, key)
  const { fh, sc } = await openDescribed(ctx, bucket, key, versionId)
  await fh.close()
  return sc
}

export async function headObject(ctx: FsContext, bucket: string, key: string, versionId?: string): Promise<ObjectInfo> {
  await prepare(ctx, bucket, key)
  return fullInfoOf(await describeVersion(ctx, bucket, key, versionId))
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
  await prepare(ctx, bucket, key)
  if (opts.partNumber !== undefined && opts.range)
    throw new BackendError('invalid', 'Cannot specify both Range header and partNumber query parameter.', { code: 'InvalidRequest' })
  const { fh, sc } = await openDescribed(ctx, bucket, key, opts.versionId)
  try {
    const info = fullInfoOf(sc)
    if (notModified(info, opts)) {
      await fh.close()
      return { status: 304, info }
    }
    const whole = (): GetResult => ({ status: 200, info, body: fileSource(fh, 0, sc.size - 1, opts.signal, ctx.directIo), contentLength: sc.size })
    const span = ({ start, end }: { start: number; end: number }): GetResult => ({
      status: 206,
      info,
      body: fileSource(fh, start, end, opts.signal, ctx.directIo),
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
  return putResultOf(await commitObject(ctx, bucket, key, staged, { etag, contentType, metadata, tags, headers, checksum, ...conditions }))
}

export async function getObjectTags(ctx: FsContext, bucket: string, key: string, versionId?: string): Promise<Record<string, string>> {
  await prepare(ctx, bucket, key)
  return { ...(await describeVersion(ctx, bucket, key, versionId)).tags }
}

export async function putObjectTags(ctx: FsContext, bucket: string, key: string, tags: Record<string, string>, versionId?: string): Promise<void> {
  await prepare(ctx, bucket, key)
  const checked = checkTags(tags)
  await withLock(ctx.lockName(bucket), async () => {
    const found = await locate(ctx, bucket, key)
    const sc = found && (await describeNow(ctx, bucket, key, found.st))
    if (sc && (versionId === undefined || idOf(sc) === versionId)) {
      await writeJson(ctx, sidecarPath(ctx, bucket, key), { ...sc, tags: checked })
      forgetListed(ctx, bucket, key)
      return
    }
    if (versionId === undefined) throw await latestMiss(ctx, bucket, key)
    const v = await findStored(ctx, bucket, key, versionId, sc && { sc })
    if (!v) throw noSuchVersion()
    if (v.marker) throw markerMiss(v.versionId)
    await updateStored(ctx, bucket, key, { ...v, sc: { ...v.sc, tags: checked } })
  })
}
