// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bucket-level reads: HeadBucket, GetBucketLocation and GetBucketVersioning
 * (never enabled on a directory). Creating, deleting and configuring buckets
 * is bucket-admin.ts.
 */
import type { S3Reply } from '../s3proxy/call.ts'
import { emptyReply, xmlReply, type OpContext } from './context.ts'
import { noSuchBucket, s3Failure } from './errors.ts'
import { doc, el, text } from './xml.ts'

/** NoSuchBucket unless the call's bucket exists. */
export async function requireBucket(c: OpContext): Promise<void> {
  let exists
  try {
    exists = await c.backend.bucketExists(c.bucket)
  } catch (err) {
    throw s3Failure(err)
  }
  if (!exists) throw noSuchBucket()
}

export async function headBucket(c: OpContext): Promise<S3Reply> {
  await requireBucket(c)
  return emptyReply(200, { 'x-amz-bucket-region': c.region })
}

export async function getBucketLocation(c: OpContext): Promise<S3Reply> {
  await requireBucket(c)
  // S3 names us-east-1 with an empty constraint.
  return xmlReply(doc('LocationConstraint', c.region === 'us-east-1' ? '' : text(c.region)))
}

export async function getBucketVersioning(c: OpContext): Promise<S3Reply> {
  let enabled
  try {
    enabled = await c.backend.getVersioning(c.bucket)
  } catch (err) {
    throw s3Failure(err)
  }
  return xmlReply(doc('VersioningConfiguration', enabled ? el('Status', 'Enabled') : ''))
}
