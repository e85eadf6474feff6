// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Multipart uploads, kept across restarts as S3 keeps them, in
 * `<root>/.stowage/uploads/<bucket>/<uploadId>/`:
 *
 *   upload.json                 key, content type and headers, metadata, tags, checksum algorithm, initiation time
 *   00001.part, 00001.json      a part's bytes, then its record (MD5, checksum, size, stamp)
 *   complete.json               while a completion is being committed: the stamp of the assembled file
 *
 * Upload ids are 32 hex digits that start with the initiation time, so their
 * order is the initiation order, as ListMultipartUploads' upload-id-marker
 * assumes.
 *
 * A part is staged and renamed into place like an object, then its record is
 * written; the record carries the part file's inode/size/mtime, so after a
 * crash between the two a stale record no longer describes the file and the
 * part simply counts as missing (recover.ts removes the orphan). Completing
 * streams the named parts into one staging file and commits it like a put,
 * under S3's rules (ascending part numbers, matching ETags and checksums, all
 * but the last part at least 5 MiB) and S3's ETag: md5 of the concatenated
 * binary part MD5s, then `-<part count>`. The object keeps its part sizes and
 * part checksums, for `partNumber` reads and GetObjectAttributes.
 */
import { randomBytes } from 'node:crypto'
import { lstat, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import {
  BackendError,
  type Checksum,
  type ChecksumAlgorithm,
  type CompletedPart,
  type CopyConditions,
  type CreateUploadOptions,
  type PutResult,
  type UploadedPart,
  type UploadPartOptions,
} from '../backend.ts'
import { requireBucket } from './buckets.ts'
import { safeDir, type FsContext } from './context.ts'
import { compositeChecksum, multipartEtag, verifyDigests } from './digests.ts'
import { fsFailure, isErrno } from './errors.ts'
import { readJson, writeJson } from './json.ts'
import { withLock } from './lock.ts'
import { checkKey, checkTags, normalizeHeaders, normalizeMetadata, openDescribed, prepare } from './objects.ts'
import { checkCopyConditions } from '../conditions.ts'
import { contentTypeFor, describes, fullInfoOf, putResultOf, readSidecar, stampOf } from './sidecar.ts'
import { locate } from './tree.ts'
import { removeUpload, UPLOAD_ID, uploadLock } from './uploads.ts'
import { commitObject, stageBody, stageFiles, type Staged } from './write.ts'

export const MAX_PARTS = 10_000
export const MAX_PART_BYTES = 5 * 1024 ** 3
const MIN_PART_BYTES = 5 * 1024 ** 2

export type UploadRecord = Required<Pick<CreateUploadOptions, 'metadata'>> & Omit<CreateUploadOptions, 'metadata'> & { key: string; initiated: number }
/** `checksum` is the value in the upload's algorithm. */
export type PartRecord = Omit<UploadedPart, 'lastModified' | 'checksum'> & { ino: string; mtimeNs: string; lastModified?: number; checksum?: string }
/** The assembled file a completion is committing. */
export type CompleteIntent = { ino: string; size: number; mtimeNs: string }

const noSuchUpload = (): BackendError =>
  new BackendError('not_found', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', {
    code: 'NoSuchUpload',
  })

function partBase(dir: string, partNumber: number): string {
  return join(dir, String(partNumber).padStart(5, '0'))
}

function bareEtag(etag: string): string {
  return etag.trim().replace(/^"(.*)"$/, '$1')
}

let lastIdStamp = 0

/**
 * Milliseconds first, so ids sort as uploads began (ListMultipartUploads
 * lists one key's uploads by initiation); two begun in one millisecond
 * take the next one, or the random part would order them.
 */
function newUploadId(): string {
  lastIdStamp = Math.max(Date.now(), lastIdStamp + 1)
  return lastIdStamp.toString(16).padStart(12, '0') + randomBytes(10).toString('hex')
}

/** The upload's directory and record; `not_found` for unknown ids, malformed ids or another key. */
async function loadUpload(ctx: FsContext, bucket: string, key: string, id: string): Promise<{ dir: string; record: UploadRecord }> {
  if (typeof id === 'string' && UPLOAD_ID.test(id)) {
    const dir = join(ctx.uploadsDir(bucket), id)
    const record = await readJson<UploadRecord>(join(dir, 'upload.json'))
    if (record?.key === key) return { dir, record }
  }
  throw noSuchUpload()
}

export async function createUpload(ctx: FsContext, bucket: string, key: string, opts: CreateUploadOptions): Promise<string> {
  await requireBucket(ctx, bucket)
  checkKey(key)
  if (opts.checksum?.algorithm === 'crc64nvme' && opts.checksum.type === 'COMPOSITE') {
    throw new BackendError('invalid', 'The COMPOSITE checksum type is not supported with CRC64NVME.', { code: 'InvalidRequest' })
  }
  if (opts.checksum?.type === 'FULL_OBJECT' && (opts.checksum.algorithm === 'sha1' || opts.checksum.algorithm === 'sha256')) {
    throw new BackendError('invalid', 'The FULL_OBJECT checksum type is not supported with SHA checksums.', { code: 'InvalidRequest' })
  }
  const record: UploadRecord = {
    key,
    ...(opts.contentType !== undefined ? { contentType: opts.contentType } : {}),
    metadata: normalizeMetadata(opts.metadata),
    headers: normalizeHeaders(opts.headers),
    tags: checkTags(opts.tags),
    ...(opts.checksum ? { checksum: { ...opts.checksum } } : {}),
    initiated: Date.now(),
  }
  const id = newUploadId()
  await withLock(ctx.lockName(bucket), async () => {
    await requireBucket(ctx, bucket)
    const dir = await safeDir(join(ctx.uploadsDir(bucket), id))
    await writeJson(ctx, join(dir, 'upload.json'), record)
  })
  return id
}

function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw new BackendError('invalid', 'Part number must be an integer between 1 and 10000, inclusive.', { code: 'InvalidArgument' })
  }
}

/** The algorithm parts of this upload are checksummed with; a part sent with another one is refused. */
function partAlgorithm(record: UploadRecord, requested: UploadPartOptions['checksum']): ChecksumAlgorithm | undefined {
  const own = record.checksum?.algorithm
  if (own && requested && requested.algorithm !== own) {
    throw new BackendError('invalid', `Checksum Type mismatch occurred, expected checksum Type: ${own}, actual checksum Type: ${requested.algorithm}`, {
      code: 'InvalidRequest',
    })
  }
  return own ?? requested?.algorithm
}

/** Moves a staged part into place and records it (its checksum when the upload has an algorithm); the staged file is gone afterwards. */
async function placePart(
  ctx: FsContext,
  bucket: string,
  key: string,
  id: string,
  partNumber: number,
  staged: Staged,
  algorithm: ChecksumAlgorithm | undefined,
): Promise<UploadedPart> {
  const value = algorithm ? staged.digests.checksum : undefined
  const uploaded: UploadedPart = {
    partNumber,
    etag: `"${staged.digests.md5.toString('hex')}"`,
    size: staged.size,
    lastModified: new Date(),
    ...(algorithm && value !== undefined ? { checksum: { algorithm, value } } : {}),
  }
  const record: PartRecord = {
    partNumber,
    etag: uploaded.etag,
    ...stampOf(staged.st),
    lastModified: uploaded.lastModified!.getTime(),
    ...(value !== undefined ? { checksum: value } : {}),
  }
  try {
    await staged.synced
    await withLock(uploadLock(ctx, bucket, id), async () => {
      const { dir } = await loadUpload(ctx, bucket, key, id)
      const base = partBase(dir, partNumber)
      await rename(staged.path, base + '.part')
      await writeJson(ctx, base + '.json', record)
    })
  } catch (err) {
    throw fsFailure(err, 'store part')
  } finally {
    await rm(staged.path, { force: true })
  }
  return uploaded
}

export async function uploadPart(
  ctx: FsContext,
  bucket: string,
  key: string,
  id: string,
  partNumber: number,
  body: ReadableStream<Uint8Array>,
  opts: UploadPartOptions,
): Promise<UploadedPart> {
  let algorithm: ChecksumAlgorithm | undefined
  let own: ChecksumAlgorithm | undefined
  try {
    await requireBucket(ctx, bucket)
    checkKey(key)
    checkPartNumber(partNumber)
    if (opts.size > MAX_PART_BYTES) throw new BackendError('invalid', 'Your proposed upload exceeds the maximum allowed size.', { code: 'EntityTooLarge' })
    const { record } = await loadUpload(ctx, bucket, key, id)
    algorithm = partAlgorithm(record, opts.checksum)
    own = record.checksum?.algorithm
  } catch (err) {
    await body.cancel().catch(() => {})
    throw err
  }
  const staged = await stageBody(ctx, body, opts.size, { signal: opts.signal, checksum: algorithm })
  try {
    verifyDigests(staged.digests, opts)
  } catch (err) {
    await rm(staged.path, { force: true })
    throw err
  }
  return placePart(ctx, bucket, key, id, partNumber, staged, own)
}

export async function uploadPartCopy(
  ctx: FsContext,
  dst: { bucket: string; key: string; uploadId: string; partNumber: number },
  src: { bucket: string; key: string; versionId?: string },
  opts: { range?: { start: number; end: number }; conditions?: CopyConditions; signal?: AbortSignal },
): Promise<UploadedPart> {
  await prepare(ctx, src.bucket, src.key)
  await requireBucket(ctx, dst.bucket)
  checkKey(dst.key)
  checkPartNumber(dst.partNumber)
  const { record } = await loadUpload(ctx, dst.bucket, dst.key, dst.uploadId)
  const { fh, sc } = await openDescribed(ctx, src.bucket, src.key, src.versionId)
  let staged
  try {
    checkCopyConditions(fullInfoOf(sc), opts.conditions)
    const range = opts.range
    if (range && (!Number.isSafeInteger(range.start) || range.start < 0 || range.end < range.start || range.end >= sc.size)) {
      throw new BackendError('bad_range', 'The x-amz-copy-source-range value is not valid for this object.', { code: 'InvalidRange' })
    }
    if ((range ? range.end - range.start + 1 : sc.size) > MAX_PART_BYTES)
      throw new BackendError('invalid', 'Your proposed upload exceeds the maximum allowed size.', { code: 'EntityTooLarge' })
    staged = await stageFiles(ctx, [{ file: fh, ...(range ? { start: range.start, end: range.end } : {}) }], range ? range.end - range.start + 1 : sc.size, {
      signal: opts.signal,
      checksum: record.checksum?.algorithm,
    })
  } finally {
    await fh.close()
  }
  return placePart(ctx, dst.bucket, dst.key, dst.uploadId, dst.partNumber, staged, record.checksum?.algorithm)
}

/** Parts whose record still describes the bytes beside it, by part number. */
async function readParts(dir: string): Promise<PartRecord[]> {
  const parts: PartRecord[] = []
  for (const name of await readdir(dir)) {
    const n = /^(\d{5})\.json$/.exec(name)?.[1]
    if (n === undefined) continue
    const record = await readJson<PartRecord>(join(dir, name))
    if (!record) continue
    try {
      const stamp = stampOf(await lstat(join(dir, `${n}.part`), { bigint: true }))
      if (stamp.ino === record.ino && stamp.size === record.size && stamp.mtimeNs === record.mtimeNs) parts.push(record)
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err
    }
  }
  return parts.sort((a, b) => a.partNumber - b.partNumber)
}

export async function listParts(ctx: FsContext, bucket: string, key: string, id: string): Promise<UploadedPart[]> {
  await requireBucket(ctx, bucket)
  const { dir, record } = await loadUpload(ctx, bucket, key, id)
  const algorithm = record.checksum?.algorithm
  return (await readParts(dir)).map(({ partNumber, etag, size, lastModified, checksum }) => ({
    partNumber,
    etag,
    size,
    ...(lastModified !== undefined ? { lastModified: new Date(lastModified) } : {}),
    ...(algorithm && checksum !== undefined ? { checksum: { algorithm, value: checksum } } : {}),
  }))
}

/**
 * A part number named twice in a row counts once, as its last entry: a client
 * that uploaded a part again lists both answers, and RGW (asked) completes with
 * the last and checks only that one. Out of order is still InvalidPartOrder.
 */
function lastOfEachNumber(listed: CompletedPart[]): CompletedPart[] {
  const kept: CompletedPart[] = []
  for (const part of listed) {
    if (kept.at(-1)?.partNumber === part.partNumber) kept[kept.length - 1] = part
    else kept.push(part)
  }
  return kept
}

/** The stored parts named by the request, checked against S3's rules (kind `invalid`, with S3's codes). */
function choose(stored: PartRecord[], requested: CompletedPart[], algorithm: ChecksumAlgorithm | undefined): PartRecord[] {
  if (requested.length === 0) throw new BackendError('invalid', 'You must specify at least one part.', { code: 'MalformedXML' })
  if (requested.length > MAX_PARTS) throw new BackendError('invalid', 'A completion names at most 10000 parts.', { code: 'InvalidArgument' })
  const byNumber = new Map(stored.map((p) => [p.partNumber, p]))
  let previous = 0
  const chosen = requested.map((want) => {
    if (!(want.partNumber > previous))
      throw new BackendError('invalid', 'The list of parts was not in ascending order. Parts must be ordered by part number.', { code: 'InvalidPartOrder' })
    previous = want.partNumber
    const have = byNumber.get(want.partNumber)
    const sameChecksum = want.checksum === undefined || (want.checksum.algorithm === algorithm && want.checksum.value === have?.checksum)
    if (!have || typeof want.etag !== 'string' || bareEtag(have.etag) !== bareEtag(want.etag) || !sameChecksum) {
      throw new BackendError(
        'invalid',
        'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part’s entity tag.',
        { code: 'InvalidPart' },
      )
    }
    return have
  })
  if (chosen.slice(0, -1).some((p) => p.size < MIN_PART_BYTES))
    throw new BackendError('invalid', 'Your proposed upload is smaller than the minimum allowed object size.', { code: 'EntityTooSmall' })
  return chosen
}

/**
 * A completion repeated after the first succeeded: S3 and RGW answer it with
 * success again, so a client whose first answer was lost can retry. It is
 * when the key still holds the object made from this upload (its sidecar
 * names the upload) and the same parts are named; otherwise NoSuchUpload.
 */
async function completedBefore(ctx: FsContext, bucket: string, key: string, id: string, requested: CompletedPart[]): Promise<PutResult> {
  const found = await locate(ctx, bucket, key)
  const sc = found ? await readSidecar(ctx, bucket, key) : null
  if (!found || !describes(sc, found.st) || sc.uploadId !== id || requested.length === 0 || multipartEtag(requested.map((p) => p.etag)) !== sc.etag)
    throw noSuchUpload()
  return putResultOf(sc)
}

export async function completeUpload(
  ctx: FsContext,
  bucket: string,
  key: string,
  id: string,
  listed: CompletedPart[],
  opts: { ifNoneMatch?: '*' } = {},
): Promise<PutResult> {
  await requireBucket(ctx, bucket)
  checkKey(key)
  const requested = lastOfEachNumber(listed)
  return withLock(uploadLock(ctx, bucket, id), async () => {
    let loaded
    try {
      loaded = await loadUpload(ctx, bucket, key, id)
    } catch (err) {
      if (err instanceof BackendError && err.kind === 'not_found') return completedBefore(ctx, bucket, key, id, requested)
      throw err
    }
    const { dir, record } = loaded
    const parts = choose(await readParts(dir), requested, record.checksum?.algorithm)
    if (opts.ifNoneMatch === '*' && (await locate(ctx, bucket, key))) throw new BackendError('precondition', 'the object already exists')
    const etag = multipartEtag(parts.map((p) => p.etag))
    const wanted = record.checksum
    const composite = wanted?.type === 'COMPOSITE' && parts.every((p) => p.checksum !== undefined)
    const staged = await stageFiles(
      ctx,
      parts.map((p) => ({ file: partBase(dir, p.partNumber) + '.part' })),
      parts.reduce((sum, p) => sum + p.size, 0),
      { checksum: wanted && !composite ? wanted.algorithm : undefined },
    )
    let checksum: Checksum | undefined
    if (wanted && composite)
      checksum = {
        algorithm: wanted.algorithm,
        value: compositeChecksum(
          wanted.algorithm,
          parts.map((p) => p.checksum!),
        ),
        type: 'COMPOSITE',
      }
    else if (wanted && staged.digests.checksum !== undefined) checksum = { algorithm: wanted.algorithm, value: staged.digests.checksum, type: 'FULL_OBJECT' }
    const intent: CompleteIntent = stampOf(staged.st)
    await writeJson(ctx, join(dir, 'complete.json'), intent)
    const written = await commitObject(ctx, bucket, key, staged, {
      etag,
      contentType: record.contentType ?? contentTypeFor(key),
      metadata: record.metadata,
      tags: record.tags ?? {},
      headers: record.headers,
      checksum,
      parts: parts.map((p) => (p.checksum !== undefined && wanted ? { size: p.size, checksum: p.checksum } : { size: p.size })),
      uploadId: id,
      ifNoneMatch: opts.ifNoneMatch,
    }).catch(async (err: unknown) => {
      await rm(join(dir, 'complete.json'), { force: true })
      throw err
    })
    await removeUpload(ctx, dir)
    return putResultOf(written)
  })
}

export async function abortUpload(ctx: FsContext, bucket: string, key: string, id: string): Promise<void> {
  await requireBucket(ctx, bucket)
  await withLock(uploadLock(ctx, bucket, id), async () => {
    const { dir } = await loadUpload(ctx, bucket, key, id)
    await removeUpload(ctx, dir)
  })
}
