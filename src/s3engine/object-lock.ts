// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Object retention and legal holds on a directory. A bucket of an `fs`
 * backend never has an Object Lock configuration (nothing could keep a file
 * from its administrator), so these answer as S3 does for any bucket without
 * one: 400 InvalidRequest, after the bucket (and, for reads, the object) has
 * been found. Nothing is ever recorded, so no lock is promised that the
 * directory cannot keep.
 */
import type { S3Reply } from '../s3proxy/call.ts'
import { requireBucket } from './buckets.ts'
import { keyOf, versionOf, type OpContext } from './context.ts'
import { invalidRequest, s3Failure } from './errors.ts'

const NOT_CONFIGURED = 'Bucket is missing Object Lock Configuration'

/** GetObjectRetention and GetObjectLegalHold: NoSuchKey for a missing object, else InvalidRequest. */
export async function getObjectLock(c: OpContext): Promise<S3Reply> {
  await requireBucket(c)
  const versionId = versionOf(c)
  try {
    await c.backend.headObject(c.bucket, keyOf(c), { ...(versionId !== undefined ? { versionId } : {}), signal: c.call.signal })
  } catch (err) {
    throw s3Failure(err)
  }
  throw invalidRequest(NOT_CONFIGURED)
}

/** PutObjectRetention and PutObjectLegalHold: the bucket has no Object Lock to apply them with. */
export async function putObjectLock(c: OpContext): Promise<S3Reply> {
  await requireBucket(c)
  throw invalidRequest(NOT_CONFIGURED)
}
