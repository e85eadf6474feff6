// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The Backend for any S3-compatible upstream (MinIO, Garage, SeaweedFS, Ceph
 * RGW, AWS, R2, B2, Wasabi). Requests go through the shared S3 client
 * (src/s3/: signing, keep-alive transport); bodies stream both ways.
 */
import type { Backend, Capabilities } from '../backend.ts'
import * as buckets from './buckets.ts'
import { createS3Http } from './client.ts'
import * as copy from './copy.ts'
import { backendError } from './errors.ts'
import * as listing from './listing.ts'
import * as objects from './objects.ts'
import * as uploads from './uploads.ts'

export type S3BackendOptions = {
  id: string
  endpoint: string
  region: string
  accessKey: string
  secretKey: string
  pathStyle: boolean
  /** Idle budget of a request: no progress (connecting included) for this long fails it. Default 30 s. */
  timeoutMs?: number
  /** Upload tuning; the defaults suit every S3 implementation. */
  uploads?: Partial<uploads.UploadLimits>
  /** Server-side copy tuning; the defaults suit every S3 implementation. */
  copies?: Partial<copy.CopyLimits>
}

const GiB = 1024 ** 3
const MiB = 1024 ** 2

const CAPABILITIES: Capabilities = {
  versioning: true,
  object_lock: true,
  lifecycle: true,
  storage_classes: true,
  bucket_policy: true,
  cors: true,
  backend_cors: true,
  tagging: true,
  server_side_encrypt: true,
  admin_api: '',
  max_multipart_parts: 10_000,
  max_part_size_bytes: 5 * GiB,
  presign: true,
  // Sent on to the upstream, but not every S3 server verifies or returns them (RGW 16.2 does neither).
  checksums: false,
}

const PROBE_TIMEOUT_MS = 5_000

export function createS3Backend(opts: S3BackendOptions): Backend {
  const idleMs = opts.timeoutMs ?? 30_000
  const s3 = createS3Http({
    endpoint: opts.endpoint,
    region: opts.region,
    accessKey: opts.accessKey,
    secretKey: opts.secretKey,
    pathStyle: opts.pathStyle,
    timeouts: { idleMs },
  })
  // S3 takes 5 GiB in one PUT, but B2 stops at 5 GB (10^9) and R2 at 5 GiB - 5 MiB.
  const limits: uploads.UploadLimits = { singlePutMaxBytes: 5_000_000_000, partBytes: 64 * MiB, ...opts.uploads }
  // CopyObject has the same ceilings (S3 5 GiB, B2 5 GB); larger sources are copied in parts.
  const copyLimits: copy.CopyLimits = { singleCopyMaxBytes: 5_000_000_000, partBytes: 256 * MiB, ...opts.copies }

  return {
    id: opts.id,
    kind: 's3',
    capabilities: CAPABILITIES,

    async probe(signal) {
      const budget = AbortSignal.timeout(PROBE_TIMEOUT_MS)
      try {
        await listing.listBuckets(s3, signal ? AbortSignal.any([signal, budget]) : budget)
      } catch (err) {
        if (budget.aborted && !signal?.aborted) throw backendError('unavailable', err, 'The storage backend did not answer within 5 s.')
        throw err
      }
    },

    listBuckets: () => listing.listBuckets(s3),
    createBucket: (name, region) => buckets.createBucket(s3, name, region),
    deleteBucket: (name) => buckets.deleteBucket(s3, name),
    bucketExists: (name) => buckets.bucketExists(s3, name),

    listObjects: (bucket, o) => listing.listObjects(s3, bucket, o),
    headObject: (bucket, key, o) => objects.headObject(s3, bucket, key, o),
    getObject: (bucket, key, o) => objects.getObject(s3, bucket, key, o),
    putObject: (bucket, key, body, o) => uploads.putObject(s3, limits, bucket, key, body, o),
    deleteObject: (bucket, key, o) => objects.deleteObject(s3, bucket, key, o?.versionId),
    deleteObjects: (bucket, keys) => objects.deleteObjects(s3, bucket, keys),
    copyObject: (src, dst, o) => copy.copyObject(s3, copyLimits, src, dst, o),

    getObjectTags: (bucket, key, o) => objects.getObjectTags(s3, bucket, key, o?.versionId),
    putObjectTags: (bucket, key, tags, o) => objects.putObjectTags(s3, bucket, key, tags, o?.versionId),
    listObjectVersions: (bucket, key) => listing.listObjectVersions(s3, bucket, key),
    listDeletedKeys: (bucket, prefix) => listing.listDeletedKeys(s3, bucket, prefix),

    createMultipartUpload: (bucket, key, o) => uploads.createMultipartUpload(s3, bucket, key, o),
    uploadPart: (bucket, key, uploadId, partNumber, body, o) => uploads.uploadPart(s3, bucket, key, uploadId, partNumber, body, o),
    uploadPartCopy: (dst, src, o) => uploads.uploadPartCopy(s3, dst, src, o ?? {}),
    completeMultipartUpload: (bucket, key, uploadId, parts, o) => uploads.completeMultipartUpload(s3, bucket, key, uploadId, parts, o?.ifNoneMatch),
    abortMultipartUpload: (bucket, key, uploadId) => uploads.abortMultipartUpload(s3, bucket, key, uploadId),
    listMultipartUploads: (bucket, o) => listing.listMultipartUploads(s3, bucket, o),
    listParts: (bucket, key, uploadId) => listing.listParts(s3, bucket, key, uploadId),

    getVersioning: (bucket) => buckets.getVersioning(s3, bucket),
    setVersioning: (bucket, enabled) => buckets.setVersioning(s3, bucket, enabled),
    getPolicy: (bucket) => buckets.getPolicy(s3, bucket),
    setPolicy: (bucket, policy) => buckets.setPolicy(s3, bucket, policy),
    deletePolicy: (bucket) => buckets.deletePolicy(s3, bucket),
    getLifecycle: (bucket) => buckets.getLifecycle(s3, bucket),
    setLifecycle: (bucket, rules) => buckets.setLifecycle(s3, bucket, rules),
    deleteLifecycle: (bucket) => buckets.deleteLifecycle(s3, bucket),
    setCors: (bucket, rules) => buckets.setCors(s3, bucket, rules),

    async close() {
      s3.close()
    },
  }
}
