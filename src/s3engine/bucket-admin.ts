// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bucket administration on a directory, for keys with `owner` access (the
 * pipeline has checked the scope and the new bucket's name).
 *
 * - CreateBucket and DeleteBucket are the backend's own. Creating a bucket
 *   that exists succeeds in us-east-1, as on AWS and RGW there (every
 *   bucket of the directory is the namespace owner's to use), and is 409
 *   BucketAlreadyOwnedByYou in any other region; deleting one that still
 *   holds anything is 409 BucketNotEmpty.
 * - Lifecycle configurations and bucket tags are kept by the backend
 *   (`bucketRules`), which applies the rules (backends/fs/lifecycle.ts); a
 *   rule with a transition is 501, a directory having no storage classes.
 * - Versioning `Enabled` and `Suspended` are kept by the backend too, which
 *   keeps the versions (backends/fs/versions.ts); MFA delete is 501.
 *
 * Bucket CORS is not here: the pipeline serves it from Stowage's own rules
 * for every backend.
 */
import { BackendError } from '../backends/backend.ts'
import { child, textOf } from '../s3/xml.ts'
import type { S3Reply } from '../s3proxy/call.ts'
import { notImplemented, S3Error } from '../s3proxy/errors.ts'
import { parseDocument, readDocument } from './body.ts'
import { requireBucket, rulesOf } from './buckets.ts'
import { emptyReply, xmlReply, type OpContext } from './context.ts'
import { fromDriver, malformedXml, s3Failure } from './errors.ts'
import { md5Of } from './headers.ts'
import { parseLifecycleDocument, renderLifecycle } from './lifecycle.ts'
import { parseTagging, taggingDocument } from './tagging.ts'

const DOCUMENT_LIMIT = 64 * 1024
/** A lifecycle configuration may hold 1000 rules, each a few hundred bytes; RGW reads up to 1 MiB. */
const LIFECYCLE_LIMIT = 1024 * 1024

async function documentOf(c: OpContext, limit = DOCUMENT_LIMIT): Promise<string | undefined> {
  const bytes = await readDocument(c.call.body, limit, md5Of(c.call.headers))
  return bytes.byteLength === 0 ? undefined : Buffer.from(bytes).toString('utf8')
}

export async function createBucket(c: OpContext): Promise<S3Reply> {
  const document = await documentOf(c)
  const constraint = document === undefined ? '' : (textOf(parseDocument(document, 'CreateBucketConfiguration'), 'LocationConstraint') ?? '').trim()
  // S3 names us-east-1 with an empty constraint; any other region is not where this bucket would be.
  if (constraint !== '' && constraint !== c.region)
    throw new S3Error(400, 'InvalidLocationConstraint', 'The specified location-constraint is not valid.', 'bad-request')
  try {
    await c.backend.createBucket(c.bucket)
  } catch (err) {
    if (!(err instanceof BackendError && err.kind === 'exists' && c.region === 'us-east-1')) throw s3Failure(err)
  }
  return emptyReply(200, { location: `/${c.bucket}` })
}

export async function deleteBucket(c: OpContext): Promise<S3Reply> {
  try {
    await c.backend.deleteBucket(c.bucket)
  } catch (err) {
    throw s3Failure(err)
  }
  return emptyReply(204)
}

export async function putBucketVersioning(c: OpContext): Promise<S3Reply> {
  const document = await documentOf(c)
  if (document === undefined) throw malformedXml()
  const config = parseDocument(document, 'VersioningConfiguration')
  const status = textOf(config, 'Status')?.trim()
  if (status !== 'Enabled' && status !== 'Suspended') throw malformedXml()
  await requireBucket(c)
  if (child(config, 'MfaDelete')?.text.trim() === 'Enabled') throw notImplemented('MFA delete is not available on this storage.')
  await fromDriver(rulesOf(c).setVersioning(c.bucket, status))
  return emptyReply(200)
}

export async function getBucketLifecycle(c: OpContext): Promise<S3Reply> {
  const rules = await fromDriver(rulesOf(c).getLifecycle(c.bucket))
  if (!rules) throw new S3Error(404, 'NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist.', 'not-found')
  return xmlReply(renderLifecycle(rules))
}

export async function putBucketLifecycle(c: OpContext): Promise<S3Reply> {
  await requireBucket(c)
  const rules = parseLifecycleDocument(await documentOf(c, LIFECYCLE_LIMIT))
  await fromDriver(rulesOf(c).setLifecycle(c.bucket, rules))
  return emptyReply(200)
}

export async function deleteBucketLifecycle(c: OpContext): Promise<S3Reply> {
  await fromDriver(rulesOf(c).deleteLifecycle(c.bucket))
  return emptyReply(204)
}

export async function getBucketTagging(c: OpContext): Promise<S3Reply> {
  const tags = await fromDriver(rulesOf(c).getTags(c.bucket))
  if (!tags) throw new S3Error(404, 'NoSuchTagSet', 'The TagSet does not exist.', 'not-found')
  return xmlReply(taggingDocument(tags))
}

export async function putBucketTagging(c: OpContext): Promise<S3Reply> {
  await requireBucket(c)
  const tags = parseTagging(await readDocument(c.call.body, DOCUMENT_LIMIT, md5Of(c.call.headers)), 'bucket')
  await fromDriver(rulesOf(c).setTags(c.bucket, Object.entries(tags)))
  return emptyReply(204)
}

export async function deleteBucketTagging(c: OpContext): Promise<S3Reply> {
  await fromDriver(rulesOf(c).deleteTags(c.bucket))
  return emptyReply(204)
}
