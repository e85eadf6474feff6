// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Start-up recovery: what a crash (kill -9, power cut) can leave behind, and
 * how each is settled before the first operation runs.
 *
 * - Staging files of dead processes (half-written bodies, assembled uploads
 *   never committed) are deleted with their staging directory: nothing ever
 *   listed them, so no reader saw them.
 * - A staged sidecar whose object is in place but whose own rename never
 *   happened (a crash between the two renames of a commit), or one parked by
 *   a delete that did not get to remove the data, is put in place when it
 *   describes the file now at its key and the sidecar there does not;
 *   otherwise it is dropped.
 * - In multipart uploads: a directory without a readable upload record (a
 *   crash while creating it) is removed; a part file whose record does not
 *   describe it, and a record without its part, are removed; a completion
 *   that was being committed (`complete.json`) either landed, and the upload
 *   is removed, or did not, and the upload stays open for the client to
 *   complete again.
 *
 * Uploads are swept only when no other driver instance of this process uses
 * the root (tests open several), since one might be between a part's rename
 * and its record.
 */
import { lstat, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { isValidBucketName } from './buckets.ts'
import { isPlainDir, liveStaging, type FsContext } from './context.ts'
import { isErrno } from './errors.ts'
import { placeFile, readJson, readRecord } from './json.ts'
import { isValidKey } from './keys.ts'
import type { CompleteIntent, PartRecord, UploadRecord } from './multipart.ts'
import { describes, parseSidecar, readSidecar, sidecarPath, stampOf } from './sidecar.ts'
import { locate } from './tree.ts'

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return isErrno(err, 'EPERM')
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return []
    throw err
  }
}

/** Puts a staged sidecar in place when its commit got as far as the data. */
async function rollForward(ctx: FsContext, staged: string): Promise<void> {
  const text = readRecord(staged)
  if (text === null) return
  const raw = JSON.parse(text) as { bucket?: unknown; key?: unknown } | null
  if (!raw || typeof raw.bucket !== 'string' || typeof raw.key !== 'string' || !isValidBucketName(raw.bucket) || !isValidKey(raw.key)) return
  const sc = parseSidecar(text, raw.bucket, raw.key)
  const found = sc && (await locate(ctx, sc.bucket, sc.key))
  if (!sc || !found || !describes(sc, found.st)) return
  if (describes(await readSidecar(ctx, sc.bucket, sc.key), found.st)) return
  await placeFile(staged, sidecarPath(ctx, sc.bucket, sc.key))
}

async function recoverStaging(ctx: FsContext, dir: string): Promise<void> {
  for (const name of await list(dir)) {
    if (!name.startsWith('json-')) continue
    try {
      await rollForward(ctx, join(dir, name))
    } catch {
      // Unreadable leftovers are dropped with the directory.
    }
  }
  await rm(dir, { recursive: true, force: true })
}

/** True when the stamp recorded for a file (a part, an assembled upload) is the file's now. */
async function stampHolds(path: string, recorded: { ino: string; size: number; mtimeNs: string }): Promise<boolean> {
  try {
    const now = stampOf(await lstat(path, { bigint: true }))
    return now.ino === recorded.ino && now.size === recorded.size && now.mtimeNs === recorded.mtimeNs
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false
    throw err
  }
}

async function sweepUpload(ctx: FsContext, bucket: string, dir: string): Promise<void> {
  const record = await readJson<UploadRecord>(join(dir, 'upload.json'))
  if (!record || typeof record.key !== 'string' || !isValidKey(record.key)) return rm(dir, { recursive: true, force: true })
  const intent = await readJson<CompleteIntent>(join(dir, 'complete.json'))
  if (intent) {
    const found = isValidBucketName(bucket) ? await locate(ctx, bucket, record.key) : null
    if (found && (await stampHolds(found.path, intent))) return rm(dir, { recursive: true, force: true })
    await rm(join(dir, 'complete.json'), { force: true })
  }
  const names = new Set(await list(dir))
  for (const name of names) {
    const n = /^(\d{5})\.(part|json)$/.exec(name)
    if (!n) continue
    if (n[2] === 'json') {
      if (!names.has(`${n[1]}.part`)) await rm(join(dir, name), { force: true })
      continue
    }
    const part = await readJson<PartRecord>(join(dir, `${n[1]}.json`))
    if (part && (await stampHolds(join(dir, name), part))) continue
    await rm(join(dir, name), { force: true })
    await rm(join(dir, `${n[1]}.json`), { force: true })
  }
}

export async function recoverRoot(ctx: FsContext): Promise<void> {
  const tmpRoot = join(ctx.sys, 'tmp')
  const shared = [...liveStaging].some((dir) => dir.startsWith(tmpRoot + '/'))
  for (const name of await list(tmpRoot)) {
    const path = join(tmpRoot, name)
    const pid = Number(/^(\d+)-[0-9a-f]+$/.exec(name)?.[1])
    const abandoned = !Number.isSafeInteger(pid) || (pid === process.pid ? !liveStaging.has(path) : !isAlive(pid))
    if (!abandoned) continue
    if (await isPlainDir(path)) await recoverStaging(ctx, path)
    else await rm(path, { force: true })
  }
  if (shared) return
  const uploads = join(ctx.sys, 'uploads')
  for (const bucket of await list(uploads)) {
    if (!(await isPlainDir(join(uploads, bucket)))) continue
    for (const id of await list(join(uploads, bucket))) {
      const dir = join(uploads, bucket, id)
      if (/^[0-9a-f]{32}$/.test(id) && (await isPlainDir(dir))) await sweepUpload(ctx, bucket, dir)
    }
  }
}
