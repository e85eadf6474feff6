// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A bucket's multipart uploads as a set, beside what multipart.ts does with
 * one: their ids and locks, listing them (ListMultipartUploads), sweeping
 * them (abandoned ones, and lifecycle rules), and removing one in a step.
 */
import { readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { MultipartUpload } from '../backend.ts'
import { compareKeys } from '../../lib/key-order.ts'
import { requireBucket } from './buckets.ts'
import { isPlainDir, tempPath, type FsContext } from './context.ts'
import { isErrno } from './errors.ts'
import { readJson } from './json.ts'
import { withLock } from './lock.ts'
import type { UploadRecord } from './multipart.ts'

export const UPLOAD_ID = /^[0-9a-f]{32}$/

/** The lock serialising the parts, completion and abort of one upload. */
export function uploadLock(ctx: FsContext, bucket: string, id: string): string {
  return `${ctx.lockName(bucket)}\0upload\0${id}`
}

/**
 * Removes an upload's directory in one step: renamed into this instance's
 * staging directory (which the next start sweeps), then deleted. Deleted in
 * place, a crash partway could take `complete.json` and leave `upload.json`:
 * an upload that looks open after its object landed.
 */
export async function removeUpload(ctx: FsContext, dir: string): Promise<void> {
  const doomed = tempPath(ctx, 'upload')
  await rename(dir, doomed)
  await rm(doomed, { recursive: true, force: true })
}

async function uploadIds(ctx: FsContext, bucket: string): Promise<string[]> {
  if (!(await isPlainDir(ctx.uploadsDir(bucket)))) return []
  try {
    return (await readdir(ctx.uploadsDir(bucket))).filter((id) => UPLOAD_ID.test(id))
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return []
    throw err
  }
}

export async function listUploads(ctx: FsContext, bucket: string, prefix: string): Promise<MultipartUpload[]> {
  await requireBucket(ctx, bucket)
  const uploads: MultipartUpload[] = []
  for (const uploadId of await uploadIds(ctx, bucket)) {
    const record = await readJson<UploadRecord>(join(ctx.uploadsDir(bucket), uploadId, 'upload.json'))
    if (typeof record?.key === 'string' && record.key.startsWith(prefix)) uploads.push({ key: record.key, uploadId, initiated: new Date(record.initiated) })
  }
  return uploads.sort((a, b) => compareKeys(a.key, b.key) || (a.uploadId < b.uploadId ? -1 : 1))
}

/** Aborts the uploads `due` picks, in the buckets named (every bucket when absent); the number aborted. */
export async function expireUploads(
  ctx: FsContext,
  due: (u: { bucket: string; key: string | undefined; initiated: number }) => boolean,
  only?: string[],
): Promise<number> {
  let aborted = 0
  let buckets: string[]
  try {
    buckets = only ?? (await readdir(join(ctx.sys, 'uploads')))
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return 0
    throw err
  }
  for (const bucket of buckets) {
    for (const id of await uploadIds(ctx, bucket)) {
      const dir = join(ctx.uploadsDir(bucket), id)
      const gone = await withLock(uploadLock(ctx, bucket, id), async () => {
        if (!(await isPlainDir(dir))) return false
        const record = await readJson<UploadRecord>(join(dir, 'upload.json'))
        const initiated = record?.initiated ?? Number.parseInt(id.slice(0, 12), 16)
        if (!due({ bucket, key: typeof record?.key === 'string' ? record.key : undefined, initiated })) return false
        await removeUpload(ctx, dir)
        return true
      })
      if (gone) aborted++
    }
  }
  return aborted
}
