// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The S3 engine: the path that serves calls for `fs` backends by turning each
 * verified, classified, scope-checked call into backend-seam calls and S3
 * answers. Authentication, scope, quotas, rate limits, CORS, audit and
 * metrics stay in the pipeline; the engine only serves, and throws S3Error
 * for the pipeline to render with its request id.
 *
 * Replies: XML bodies come as bytes; object bodies as streams of their exact
 * length; a HEAD's `content-length` header is the object's size, its body
 * empty. Header values are byte strings, as the call's are.
 *
 * Operations with no handler here answer 501 NotImplemented, never a success
 * that did not happen. Object retention and legal holds have handlers that
 * say what S3 says of a bucket without Object Lock, which a directory always
 * is (object-lock.ts). (ListBuckets is the pipeline's, from the
 * credential's scope; so is bucket CORS, from Stowage's own rules; a POST
 * Object arrives as the PutObject it amounts to.)
 *
 * @example
 * const engine = createS3Engine({ backend: (id) => ({ backend: registry.get(id), region: 'us-east-1' }) })
 * const reply = await engine.serve(call)
 */
import type { Backend } from '../backends/backend.ts'
import type { Operation } from '../s3proxy/classify.ts'
import type { S3Call, S3Path, S3Reply } from '../s3proxy/call.ts'
import { notImplemented, serviceUnavailable } from '../s3proxy/errors.ts'
import { getObjectAttributes } from './attributes.ts'
import {
  createBucket,
  deleteBucket,
  deleteBucketLifecycle,
  deleteBucketTagging,
  getBucketLifecycle,
  getBucketTagging,
  putBucketLifecycle,
  putBucketTagging,
  putBucketVersioning,
} from './bucket-admin.ts'
import { getBucketLocation, getBucketVersioning, headBucket } from './buckets.ts'
import type { Handler } from './context.ts'
import { copyObject, uploadPartCopy } from './copy.ts'
import { listObjects, listObjectsV2, listObjectVersions } from './listing.ts'
import { getObjectLock, putObjectLock } from './object-lock.ts'
import { abortMultipartUpload, completeMultipartUpload, createMultipartUpload, listMultipartUploads, listParts, uploadPart } from './multipart.ts'
import { getObject, headObject } from './reads.ts'
import { deleteObjectTagging, getObjectTagging, putObjectTagging } from './tagging.ts'
import { deleteObject, deleteObjects, putObject } from './writes.ts'

export type EngineDeps = {
  /** The usable backend with this id and the region it answers for; undefined when it is gone or disabled. */
  backend(id: string): { backend: Backend; region: string } | undefined
}

export function createS3Engine(deps: EngineDeps): S3Path {
  const handlers: Partial<Record<Operation, Handler>> = {
    ListObjects: listObjects,
    ListObjectsV2: listObjectsV2,
    ListObjectVersions: listObjectVersions,
    ListMultipartUploads: listMultipartUploads,
    GetBucketLocation: getBucketLocation,
    GetBucketVersioning: getBucketVersioning,
    HeadBucket: headBucket,
    DeleteObjects: deleteObjects,
    GetObject: getObject,
    HeadObject: headObject,
    GetObjectAttributes: getObjectAttributes,
    ListParts: listParts,
    GetObjectTagging: getObjectTagging,
    GetObjectRetention: getObjectLock,
    GetObjectLegalHold: getObjectLock,
    PutObjectRetention: putObjectLock,
    PutObjectLegalHold: putObjectLock,
    PutObject: putObject,
    CopyObject: copyObject,
    UploadPart: uploadPart,
    UploadPartCopy: uploadPartCopy,
    CreateMultipartUpload: createMultipartUpload,
    CompleteMultipartUpload: completeMultipartUpload,
    AbortMultipartUpload: abortMultipartUpload,
    DeleteObject: deleteObject,
    PutObjectTagging: putObjectTagging,
    DeleteObjectTagging: deleteObjectTagging,
    CreateBucket: createBucket,
    DeleteBucket: deleteBucket,
    PutBucketVersioning: putBucketVersioning,
    GetBucketLifecycleConfiguration: getBucketLifecycle,
    PutBucketLifecycleConfiguration: putBucketLifecycle,
    DeleteBucketLifecycle: deleteBucketLifecycle,
    GetBucketTagging: getBucketTagging,
    PutBucketTagging: putBucketTagging,
    DeleteBucketTagging: deleteBucketTagging,
  }

  async function serve(call: S3Call): Promise<S3Reply> {
    const found = deps.backend(call.backendId)
    if (!found) throw serviceUnavailable('The storage backend of this credential is unavailable.')
    const handler = handlers[call.op]
    if (!handler) throw notImplemented(`${call.op} is not available on this storage.`)
    return handler({ call, backend: found.backend, region: found.region, bucket: call.bucket, owner: call.cred?.accessKey ?? 'anonymous' })
  }

  return { serve }
}
