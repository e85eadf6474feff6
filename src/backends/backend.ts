// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The storage seam: everything the dashboard, shares and quotas need from a
 * storage system, independent of how it stores bytes. Two drivers implement it
 * (`s3/driver.ts` for any S3-compatible upstream, `fs/driver.ts` for a local
 * directory) and both pass tests/backends/contract.ts (run by fs.contract.test.ts and s3.contract.test.ts).
 *
 * Rules every driver follows:
 * - Bodies are web streams and are never buffered whole; a part or an object
 *   may be larger than memory.
 * - Failures are `BackendError`s with a kind the routes map to HTTP codes;
 *   upstream messages stay in `cause` for logs and never reach clients.
 * - Listing is S3 semantics: byte-order (UTF-8) sort, prefix, delimiter,
 *   opaque continuation token, max keys ≤ 1000.
 * - An operation the driver cannot do throws kind `not_supported`, and the
 *   matching capability is false so the UI can hide it.
 */

export type Capabilities = {
  versioning: boolean
  object_lock: boolean
  lifecycle: boolean
  bucket_policy: boolean
  /** CORS rules are stored by Stowage and answered by the S3 proxy, so every backend has them. */
  cors: boolean
  tagging: boolean
  server_side_encrypt: boolean
  /** Native admin API of the upstream ('' when none). */
  admin_api: string
  max_multipart_parts: number
  max_part_size_bytes: number
  /** Upstream presigned URLs (s3 only). */
  presign: boolean
}

export type BucketInfo = { name: string; createdAt?: Date }

export type ObjectInfo = {
  key: string
  size: number
  etag?: string
  contentType?: string
  lastModified?: Date
  storageClass?: string
  versionId?: string
  /** User metadata, lower-case keys without the `x-amz-meta-` prefix. */
  metadata?: Record<string, string>
}

export type ListOptions = {
  prefix?: string
  /** '' lists flat; '/' lists one level. */
  delimiter?: string
  /** Opaque token from a previous page. */
  token?: string
  /** 1..1000, default 1000. */
  maxKeys?: number
  /** Ask for user metadata too (slower on s3). */
  withMetadata?: boolean
}

export type ListResult = {
  objects: ObjectInfo[]
  commonPrefixes: string[]
  isTruncated: boolean
  nextToken?: string
}

export type Range = { start: number; end?: number } | { suffix: number }

export type GetOptions = {
  versionId?: string
  range?: Range
  ifNoneMatch?: string
  ifModifiedSince?: Date
  ifMatch?: string
  ifUnmodifiedSince?: Date
  signal?: AbortSignal
}

export type GetResult =
  | { status: 304; info: ObjectInfo }
  | {
      status: 200 | 206
      info: ObjectInfo
      body: ReadableStream<Uint8Array>
      /** Bytes in `body`: the whole size, or the range length. */
      contentLength: number
      /** For 206: the served range, inclusive. */
      range?: { start: number; end: number; total: number }
    }

export type PutOptions = {
  /** Exact byte count of `body`; drivers rely on it (S3 needs Content-Length). */
  size: number
  contentType?: string
  metadata?: Record<string, string>
  /** Refuse when the key exists (kind `precondition`). */
  ifNoneMatch?: '*'
  signal?: AbortSignal
}

export type PutResult = { etag: string; versionId?: string }

export type CopyOptions = {
  srcVersionId?: string
  /** Replace user metadata; absent keeps the source's. */
  metadata?: Record<string, string>
  /** Replace the content type; absent keeps the source's. */
  contentType?: string
  /** The source's size when the caller has just read it: a plain copy then needs no HEAD of its own. */
  sourceSize?: number
  signal?: AbortSignal
}

export type VersionInfo = ObjectInfo & { versionId: string; isLatest: boolean; isDeleteMarker: boolean }

export type MultipartUpload = { key: string; uploadId: string; initiated?: Date }
export type CompletedPart = { partNumber: number; etag: string }
export type UploadedPart = { partNumber: number; etag: string; size: number }

export type LifecycleRule = {
  id?: string
  prefix?: string
  enabled: boolean
  expiration_days?: number
  noncurrent_expire_days?: number
  abort_incomplete_days?: number
  transition_days?: number
  transition_storage_class?: string
}

export type DeleteResult = { deleted: Array<{ key: string; versionId?: string }>; errors: Array<{ key: string; versionId?: string; code: string; message: string }> }

export type BackendErrorKind =
  | 'not_found' // no such bucket / key / upload / version
  | 'bucket_not_found'
  | 'exists' // bucket already exists
  | 'not_empty' // bucket not empty
  | 'precondition' // If-None-Match / If-Match failed
  | 'bad_range'
  | 'invalid' // the backend refused the input (name, policy, lifecycle…)
  | 'not_supported'
  | 'unavailable' // cannot reach the backend
  | 'denied' // the backend's credentials lack permission
  | 'failed' // anything else from the upstream

export class BackendError extends Error {
  constructor(
    readonly kind: BackendErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export interface Backend {
  readonly id: string
  readonly kind: 's3' | 'fs'
  readonly capabilities: Capabilities

  /** Cheap liveness check (lists buckets); throws a BackendError when unhealthy. */
  probe(signal?: AbortSignal): Promise<void>

  listBuckets(): Promise<BucketInfo[]>
  createBucket(name: string, region?: string): Promise<void>
  deleteBucket(name: string): Promise<void>
  bucketExists(name: string): Promise<boolean>

  listObjects(bucket: string, opts: ListOptions): Promise<ListResult>
  headObject(bucket: string, key: string, opts?: { versionId?: string; signal?: AbortSignal }): Promise<ObjectInfo>
  getObject(bucket: string, key: string, opts?: GetOptions): Promise<GetResult>
  putObject(bucket: string, key: string, body: ReadableStream<Uint8Array>, opts: PutOptions): Promise<PutResult>
  deleteObject(bucket: string, key: string, opts?: { versionId?: string }): Promise<void>
  /** At most 1000 keys per call. Missing keys count as deleted (S3 semantics). */
  deleteObjects(bucket: string, keys: Array<{ key: string; versionId?: string }>): Promise<DeleteResult>
  /** Server-side copy within this backend; also how metadata is edited in place. */
  copyObject(src: { bucket: string; key: string }, dst: { bucket: string; key: string }, opts?: CopyOptions): Promise<ObjectInfo>

  getObjectTags(bucket: string, key: string, opts?: { versionId?: string }): Promise<Record<string, string>>
  putObjectTags(bucket: string, key: string, tags: Record<string, string>, opts?: { versionId?: string }): Promise<void>
  listObjectVersions(bucket: string, key: string): Promise<VersionInfo[]>

  createMultipartUpload(bucket: string, key: string, opts: { contentType?: string; metadata?: Record<string, string> }): Promise<string>
  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array>, opts: { size: number; signal?: AbortSignal }): Promise<UploadedPart>
  completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: CompletedPart[]): Promise<PutResult>
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>
  listMultipartUploads(bucket: string, opts: { prefix?: string }): Promise<MultipartUpload[]>
  listParts(bucket: string, key: string, uploadId: string): Promise<UploadedPart[]>

  getVersioning(bucket: string): Promise<boolean>
  setVersioning(bucket: string, enabled: boolean): Promise<void>
  getPolicy(bucket: string): Promise<string | null>
  setPolicy(bucket: string, policy: string): Promise<void>
  deletePolicy(bucket: string): Promise<void>
  getLifecycle(bucket: string): Promise<LifecycleRule[]>
  setLifecycle(bucket: string, rules: LifecycleRule[]): Promise<void>
  deleteLifecycle(bucket: string): Promise<void>

  /** Releases pooled connections and timers. */
  close(): Promise<void>
}
