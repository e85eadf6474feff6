// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Multipart uploads, kept across restarts as S3 keeps them, in
 * `<root>/.stowage/uploads/<bucket>/<uploadId>/`:
 *
 *   upload.json                 key, content type, metadata, initiation time
 *   00001.part, 00001.json      a part's bytes, then its record (MD5, size, stamp)
 *
 * A part is staged and renamed into place like an object, then its record is
 * written; the record carries the part file's inode/size/mtime, so after a
 * crash between the two a stale record no longer describes the file and the
 * part simply counts as missing. Completing streams the named parts into one
 * staging file and commits it like a put, under S3's rules (ascending part
 * numbers, matching ETags, all but the last part at least 5 MiB) and S3's
 * ETag: md5 of the concatenated binary part MD5s, then `-<part count>`.
 */
import { createHash, randomBytes } from 'node:crypto'
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { BackendError, type CompletedPart, type MultipartUpload, type PutResult, type UploadedPart } from '../backend.ts'
import { requireBucket } from './buckets.ts'
import type { FsContext } from './context.ts'
import { fsFailure, isErrno } from './errors.ts'
import { readJson, writeJson } from './json.ts'
import { compareKeys } from './keys.ts'
import { withLock } from './lock.ts'
import { checkKey, normalizeMetadata } from './objects.ts'
import { contentTypeFor, stampOf } from './sidecar.ts'
import { commitObject, stageBody, stageFiles } from './write.ts'

export const MAX_PARTS = 10_000
export const MAX_PART_BYTES = 5 * 1024 ** 3
const MIN_PART_BYTES = 5 * 1024 ** 2
const UPLOAD_ID = /^[0-9a-f]{32}$/

type UploadRecord = { key: string; contentType?: string; metadata: Record<string, string>; initiated: number }
type PartRecord = UploadedPart & { ino: string; mtimeNs: string }

function uploadLock(ctx: FsContext, bucket: string, id: string): string {
  return `${ctx.lockName(bucket)}\0upload\0${id}`
}

function partBase(dir: string, partNumber: number): string {
  return join(dir, String(partNumber).padStart(5, '0'))
}

function bareEtag(etag: string): string {
  return etag.trim().replace(/^"(.*)"$/, '$1')
}

/** The upload's directory and record; `not_found` for unknown ids, malformed ids or another key. */
async function loadUpload(ctx: FsContext, bucket: string, key: string, id: string): Promise<{ dir: string; record: UploadRecord }> {
  if (typeof id === 'string' && UPLOAD_ID.test(id)) {
    const dir = join(ctx.uploadsDir(bucket), id)
    const record = await readJson<UploadRecord>(join(dir, 'upload.json'))
    if (record?.key === key) return { dir, record }
  }
  throw new BackendError('not_found', 'no such upload')
}

export async function createUpload(ctx: FsContext, bucket: string, key: string, opts: { contentType?: string; metadata?: Record<string, string> }): Promise<string> {
  await requireBucket(ctx, bucket)
  checkKey(key)
  const record: UploadRecord = { key, contentType: opts.contentType, metadata: normalizeMetadata(opts.metadata), initiated: Date.now() }
  const id = randomBytes(16).toString('hex')
  await withLock(ctx.lockName(bucket), async () => {
    await requireBucket(ctx, bucket)
    const dir = join(ctx.uploadsDir(bucket), id)
    await mkdir(dir, { recursive: true })
    await writeJson(ctx, join(dir, 'upload.json'), record)
  })
  return id
}

export async function uploadPart(
  ctx: FsContext,
  bucket: string,
  key: string,
  id: string,
  partNumber: number,
  body: ReadableStream<Uint8Array>,
  opts: { size: number; signal?: AbortSignal },
): Promise<UploadedPart> {
  try {
    await requireBucket(ctx, bucket)
    checkKey(key)
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) throw new BackendError('invalid', 'part numbers are 1 to 10000')
    if (opts.size > MAX_PART_BYTES) throw new BackendError('invalid', 'a part is at most 5 GiB')
    await loadUpload(ctx, bucket, key, id)
  } catch (err) {
    await body.cancel().catch(() => {})
    throw err
  }
  const staged = await stageBody(ctx, body, opts.size, opts.signal)
  const part: PartRecord = { ...stampOf(staged.st), partNumber, etag: `"${staged.md5.toString('hex')}"` }
  try {
    await withLock(uploadLock(ctx, bucket, id), async () => {
      const { dir } = await loadUpload(ctx, bucket, key, id)
      const base = partBase(dir, partNumber)
      await rename(staged.path, base + '.part')
      await writeJson(ctx, base + '.json', part)
    })
  } catch (err) {
    throw fsFailure(err, 'store part')
  } finally {
    await rm(staged.path, { force: true })
  }
  return { partNumber, etag: part.etag, size: part.size }
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
  const { dir } = await loadUpload(ctx, bucket, key, id)
  return (await readParts(dir)).map(({ partNumber, etag, size }) => ({ partNumber, etag, size }))
}

/** The stored parts named by the request, checked against S3's rules (kind `invalid`). */
function choose(stored: PartRecord[], requested: CompletedPart[]): PartRecord[] {
  if (requested.length === 0 || requested.length > MAX_PARTS) throw new BackendError('invalid', 'a completion names 1 to 10000 parts')
  const byNumber = new Map(stored.map((p) => [p.partNumber, p]))
  let previous = 0
  return requested.map((want, i) => {
    if (!(want.partNumber > previous)) throw new BackendError('invalid', 'parts must be listed in ascending order')
    previous = want.partNumber
    const have = byNumber.get(want.partNumber)
    if (!have || typeof want.etag !== 'string' || bareEtag(have.etag) !== bareEtag(want.etag)) {
      throw new BackendError('invalid', `part ${want.partNumber} was not uploaded or its ETag does not match`)
    }
    if (i < requested.length - 1 && have.size < MIN_PART_BYTES) throw new BackendError('invalid', `part ${want.partNumber} is smaller than 5 MiB`)
    return have
  })
}

export async function completeUpload(ctx: FsContext, bucket: string, key: string, id: string, requested: CompletedPart[]): Promise<PutResult> {
  await requireBucket(ctx, bucket)
  checkKey(key)
  return withLock(uploadLock(ctx, bucket, id), async () => {
    const { dir, record } = await loadUpload(ctx, bucket, key, id)
    const parts = choose(await readParts(dir), requested)
    const md5s = parts.map((p) => Buffer.from(bareEtag(p.etag), 'hex'))
    const etag = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${parts.length}"`
    const staged = await stageFiles(
      ctx,
      parts.map((p) => partBase(dir, p.partNumber) + '.part'),
    )
    const contentType = record.contentType ?? contentTypeFor(key)
    await commitObject(ctx, bucket, key, staged, { etag, contentType, metadata: record.metadata, tags: {} })
    await rm(dir, { recursive: true, force: true })
    return { etag }
  })
}

export async function abortUpload(ctx: FsContext, bucket: string, key: string, id: string): Promise<void> {
  await requireBucket(ctx, bucket)
  await withLock(uploadLock(ctx, bucket, id), async () => {
    const { dir } = await loadUpload(ctx, bucket, key, id)
    await rm(dir, { recursive: true, force: true })
  })
}

export async function listUploads(ctx: FsContext, bucket: string, prefix: string): Promise<MultipartUpload[]> {
  await requireBucket(ctx, bucket)
  let ids: string[]
  try {
    ids = (await readdir(ctx.uploadsDir(bucket))).filter((id) => UPLOAD_ID.test(id))
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return []
    throw err
  }
  const uploads: MultipartUpload[] = []
  for (const uploadId of ids) {
    const record = await readJson<UploadRecord>(join(ctx.uploadsDir(bucket), uploadId, 'upload.json'))
    if (record?.key.startsWith(prefix)) uploads.push({ key: record.key, uploadId, initiated: new Date(record.initiated) })
  }
  return uploads.sort((a, b) => compareKeys(a.key, b.key) || a.initiated!.getTime() - b.initiated!.getTime())
}
