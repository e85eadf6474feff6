// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bucket-level reads: HeadBucket, GetBucketLocation and GetBucketVersioning.
 * Creating, deleting and configuring buckets is bucket-admin.ts.
 */
import type { BucketRules } from '../backends/bucket-rules.ts'
import type { S3Reply } from '../s3proxy/call.ts'
import { notImplemented } from '../s3proxy/errors.ts'
import { emptyReply, xmlReply, type OpContext } from './context.ts'
import { fromDriver, noSuchBucket, s3Failure } from './errors.ts'
import { doc, el, text } from './xml.ts'

/** What the backend keeps of a bucket's versioning, lifecycle rules and tags. */
export function rulesOf(c: OpContext): BucketRules {
  if (!c.backend.bucketRules) throw notImplemented('This storage keeps no versioning, lifecycle rules or bucket tags.')
  return c.backend.bucketRules
}

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

/** Enabled, Suspended, or no status at all for a bucket never versioned. */
export async function getBucketVersioning(c: OpContext): Promise<S3Reply> {
  const status = await fromDriver(rulesOf(c).getVersioning(c.bucket))
  return xmlReply(doc('VersioningConfiguration', status ? el('Status', status) : ''))
}
