// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Copies within the root. The source is opened once and its metadata read
 * from that open file, so the conditions are checked against the very bytes
 * that are copied; they are staged and committed like a put, so the
 * destination never shows a partial copy. A copy onto itself that only
 * changes metadata rewrites the sidecar and leaves the bytes alone.
 */
import { BackendError, type CopyOptions, type ObjectInfo } from '../backend.ts'
import { versioningOf } from './bucket-rules.ts'
import type { FsContext } from './context.ts'
import { locate } from './tree.ts'
import { withLock } from './lock.ts'
import { writeJson } from './json.ts'
import { forgetListed } from './listed.ts'
import { checkTags, normalizeHeaders, normalizeMetadata, openDescribed, prepare } from './objects.ts'
import { checkCopyConditions } from '../conditions.ts'
import { describeNow, fullInfoOf, sidecarPath, type Sidecar } from './sidecar.ts'
import { commitObject, stageFiles } from './write.ts'

type Ref = { bucket: string; key: string }

/** What the copy replaces; undefined fields keep the source's. */
function replacements(opts: CopyOptions): Partial<Pick<Sidecar, 'metadata' | 'contentType' | 'headers' | 'tags'>> {
  const out: Partial<Pick<Sidecar, 'metadata' | 'contentType' | 'headers' | 'tags'>> = {}
  if (opts.metadata !== undefined) out.metadata = normalizeMetadata(opts.metadata)
  if (opts.contentType !== undefined) out.contentType = opts.contentType
  if (opts.headers !== undefined) out.headers = normalizeHeaders(opts.headers)
  if (opts.tags !== undefined) out.tags = checkTags(opts.tags)
  return out
}

/** Copying onto itself rewrites the metadata in place; S3 refuses it when nothing changes. */
async function editInPlace(ctx: FsContext, ref: Ref, opts: CopyOptions): Promise<ObjectInfo> {
  const changes = replacements(opts)
  if (Object.keys(changes).length === 0) {
    throw new BackendError('invalid', 'This copy request is illegal because it is trying to copy an object to itself without changing the object’s metadata.', {
      code: 'InvalidRequest',
    })
  }
  return withLock(ctx.lockName(ref.bucket), async () => {
    const found = await locate(ctx, ref.bucket, ref.key)
    if (!found) throw new BackendError('not_found', 'no such key', { code: 'NoSuchKey' })
    const sc = await describeNow(ctx, ref.bucket, ref.key, found.st)
    checkCopyConditions(fullInfoOf(sc), opts.conditions)
    const next: Sidecar = { ...sc, ...changes, lastModified: Date.now() }
    await writeJson(ctx, sidecarPath(ctx, ref.bucket, ref.key), next)
    forgetListed(ctx, ref.bucket, ref.key)
    return fullInfoOf(next)
  })
}

export async function copyObject(ctx: FsContext, src: Ref, dst: Ref, opts: CopyOptions): Promise<ObjectInfo> {
  await prepare(ctx, src.bucket, src.key)
  await prepare(ctx, dst.bucket, dst.key)
  const changes = replacements(opts)
  const { fh, sc, stored } = await openDescribed(ctx, src.bucket, src.key, opts.srcVersionId)
  const algorithm = opts.checksumAlgorithm ?? sc.checksum?.algorithm
  // A stored version copied onto its key brings it back; in a bucket that keeps versions, any copy onto itself is a new version.
  const onItself = src.bucket === dst.bucket && src.key === dst.key && !stored && algorithm === sc.checksum?.algorithm
  if (onItself && (Object.keys(changes).length === 0 || !(await versioningOf(ctx, dst.bucket)))) {
    await fh.close()
    return editInPlace(ctx, dst, opts)
  }
  let staged
  try {
    checkCopyConditions(fullInfoOf(sc), opts.conditions)
    staged = await stageFiles(ctx, [{ file: fh }], sc.size, { signal: opts.signal, checksum: algorithm })
  } finally {
    await fh.close()
  }
  const checksum = algorithm && staged.digests.checksum !== undefined ? { algorithm, value: staged.digests.checksum, type: 'FULL_OBJECT' as const } : undefined
  const written = await commitObject(ctx, dst.bucket, dst.key, staged, {
    etag: `"${staged.digests.md5.toString('hex')}"`,
    contentType: sc.contentType,
    metadata: sc.metadata,
    tags: sc.tags,
    headers: sc.headers,
    ...changes,
    checksum,
  })
  return fullInfoOf(written)
}
