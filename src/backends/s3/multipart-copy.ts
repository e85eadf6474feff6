// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A copy too large for one CopyObject: a multipart upload on the destination
 * whose parts are byte ranges of the source (UploadPartCopy). Multipart has no
 * metadata directive, so the upload starts with the headers the caller carries
 * over, and the tags CopyObject would have kept are put back afterwards. On
 * any failure or abort the upload is aborted, so no parts are left billed.
 */
import { BackendError, type CompletedPart } from '../backend.ts'
import type { S3Http } from './client.ts'
import { backendError, resultOf } from './errors.ts'
import { copySource, getObjectTags, headObject, putObjectTags, quoteEtag } from './objects.ts'
import { abortMultipartUpload, completeMultipartUpload, createMultipartUpload } from './uploads.ts'
import { textOf } from '../../s3/xml.ts'

const MiB = 1024 ** 2
const MIN_PART = 5 * MiB
const MAX_PART = 5 * 1024 * MiB
const MAX_PARTS = 10_000
/** The copying is the server's; a few parts in flight hide the round trips without crowding it. */
const PARALLEL_PARTS = 4

export type CopySource = { bucket: string; key: string; versionId?: string; etag?: string; size: number }

/** Returns the new object's version id, if the bucket keeps versions. */
export async function multipartCopy(
  s3: S3Http,
  partBytes: number,
  src: CopySource,
  dst: { bucket: string; key: string },
  headers: Record<string, string | undefined>,
  signal?: AbortSignal,
  replaceTags?: Record<string, string>,
): Promise<string | undefined> {
  const tags = replaceTags ?? (await sourceTags(s3, src))
  // Not abortable: an upload created after we stopped listening could not be aborted.
  const uploadId = await createMultipartUpload(s3, dst.bucket, dst.key, { raw: headers })
  let versionId: string | undefined
  try {
    signal?.throwIfAborted()
    const parts = await copyParts(s3, partBytes, src, dst, uploadId, signal)
    await assertUnchanged(s3, src, signal)
    versionId = (await completeMultipartUpload(s3, dst.bucket, dst.key, uploadId, parts)).versionId
  } catch (err) {
    await abortMultipartUpload(s3, dst.bucket, dst.key, uploadId).catch(() => {})
    throw err
  }
  // RGW 16.2 ignores x-amz-tagging on CreateMultipartUpload (and then cannot list the object's tags).
  if (Object.keys(tags).length > 0) await putObjectTags(s3, dst.bucket, dst.key, tags, versionId)
  return versionId
}

/** The source's tags; none where the server has no tagging. */
export async function sourceTags(s3: S3Http, src: { bucket: string; key: string; versionId?: string }): Promise<Record<string, string>> {
  try {
    return await getObjectTags(s3, src.bucket, src.key, src.versionId)
  } catch (err) {
    if (err instanceof BackendError && err.kind === 'not_supported') return {}
    throw err
  }
}

/** Every part is settled, copied or failed, before this returns or throws, so an abort that follows finds none in flight. */
async function copyParts(
  s3: S3Http,
  partBytes: number,
  src: CopySource,
  dst: { bucket: string; key: string },
  uploadId: string,
  signal?: AbortSignal,
): Promise<CompletedPart[]> {
  const size = Math.min(MAX_PART, Math.max(partBytes, MIN_PART, Math.ceil(src.size / MAX_PARTS)))
  const count = Math.ceil(src.size / size)
  const parts: CompletedPart[] = []
  const stop = new AbortController()
  const partSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal
  let next = 0
  let failure: { error: unknown } | undefined
  const worker = async (): Promise<void> => {
    while (next < count && !failure) {
      const n = next++
      const first = n * size
      try {
        parts[n] = await copyPart(s3, src, dst, uploadId, n + 1, `bytes=${first}-${Math.min(first + size, src.size) - 1}`, partSignal)
      } catch (error) {
        failure ??= { error }
        stop.abort()
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, count) }, worker))
  if (failure) throw failure.error
  return parts
}

const CHANGED = 'The source object changed during the copy.'

async function copyPart(
  s3: S3Http,
  src: CopySource,
  dst: { bucket: string; key: string },
  uploadId: string,
  partNumber: number,
  range: string,
  signal: AbortSignal,
): Promise<CompletedPart> {
  const { body } = await s3
    .text({
      method: 'PUT',
      bucket: dst.bucket,
      key: dst.key,
      query: { partNumber, uploadId },
      headers: {
        'x-amz-copy-source': copySource(src.bucket, src.key, src.versionId),
        'x-amz-copy-source-range': range,
        'x-amz-copy-source-if-match': src.etag,
      },
      signal,
    })
    .catch((err: unknown) => {
      // The range was measured on the source we started from; it no longer fits the one there now.
      throw err instanceof BackendError && err.kind === 'bad_range' ? backendError('precondition', err, CHANGED) : err
    })
  const etag = quoteEtag(textOf(resultOf(body), 'ETag'))
  if (!etag) throw backendError('failed', undefined, 'The storage backend returned no ETag for a copied part.')
  return { partNumber, etag }
}

/**
 * RGW ignores x-amz-copy-source-if-match on part copies, so a source rewritten
 * mid-copy is caught here rather than completed into a mix of two versions.
 */
async function assertUnchanged(s3: S3Http, src: CopySource, signal?: AbortSignal): Promise<void> {
  if (src.versionId || !src.etag) return
  const now = await headObject(s3, src.bucket, src.key, { signal, bucketKnown: true })
  if (now.etag !== src.etag) throw backendError('precondition', undefined, CHANGED)
}
