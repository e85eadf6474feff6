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
 * - Header-borne values (metadata values, content headers) are byte strings,
 *   as HTTP carries them: one character per byte, U+0000–U+00FF. A driver
 *   stores and returns them unchanged or refuses them (kind `invalid`).
 */
import type { CorsRule, LifecycleRule } from '../bucket-settings/model.ts'
import type { ChecksumAlgorithm } from '../lib/checksum.ts'
import type { BucketRules } from './bucket-rules.ts'
import type { Capabilities } from './model.ts'

// Capabilities and the bucket rules are also the API's wire shapes, so they are defined once, as its schemas.
export type { Capabilities, ChecksumAlgorithm, CorsRule, LifecycleRule }

export type BucketInfo = { name: string; createdAt?: Date }

/**
 * An object's checksum as S3 reports it: the base64 digest and whether it
 * covers the whole object or is the digest of its parts' digests (`-N`).
 */
export type Checksum = { algorithm: ChecksumAlgorithm; value: string; type: 'FULL_OBJECT' | 'COMPOSITE' }

/** The stored content headers S3 returns with an object (byte strings). */
export type ContentHeaders = {
  cacheControl?: string
  contentDisposition?: string
  contentEncoding?: string
  contentLanguage?: string
  expires?: string
}

/** One part of an object written by a multipart upload; `checksum` in the upload's algorithm. */
export type PartInfo = { size: number; checksum?: string }

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
  /** Only from head and get. */
  headers?: ContentHeaders
  /** Only from head and get, on backends with the `checksums` capability. */
  checksum?: Checksum
  /** Only from head and get: the part layout of a multipart object (absent when it is not one, or the backend does not say). */
  parts?: PartInfo[]
  /** Only from head and get, when the backend says. */
  tagCount?: number
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
  /** List only what sorts after this key (S3's `start-after` and V1 `marker`); ignored with a token. */
  startAfter?: string
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
  /** Read one part of a multipart object (1 on any other object reads all of it); not with `range`. */
  partNumber?: number
  signal?: AbortSignal
}

export type GetResult =
  | { status: 304; info: ObjectInfo }
  | {
      status: 200 | 206
      info: ObjectInfo
      /** May also write itself straight to a node socket (lib/pipeable.ts), which costs less. */
      body: ReadableStream<Uint8Array>
      /** Bytes in `body`: the whole size, or the range length. */
      contentLength: number
      /** For 206: the served range, inclusive. */
      range?: { start: number; end: number; total: number }
    }

/**
 * A checksum to compute over a body, and to verify when `value` (base64) is
 * given: a mismatch is kind `bad_digest` and nothing is stored.
 */
export type ChecksumRequest = { algorithm: ChecksumAlgorithm; value?: string }

export type PutOptions = {
  /** Exact byte count of `body`; drivers rely on it (S3 needs Content-Length). */
  size: number
  contentType?: string
  metadata?: Record<string, string>
  headers?: ContentHeaders
  tags?: Record<string, string>
  /** Content-MD5 (base64): a body with another MD5 is kind `bad_digest` and nothing is stored. */
  md5?: string
  checksum?: ChecksumRequest
  /**
   * Write only over an existing object whose ETag is in this list, or over
   * any with `*`: kind `not_found` (NoSuchKey) when there is none,
   * `precondition` when its ETag differs. Checked atomically with the write.
   */
  ifMatch?: string
  /** Refuse when the key exists (`*`) or its ETag is in this list (kind `precondition`). */
  ifNoneMatch?: string
  signal?: AbortSignal
}

export type PutResult = {
  etag: string
  versionId?: string
  checksum?: Checksum
  /**
   * When the write completed, by the storage's clock, if the driver learns it for free (S3
   * answers a write with its Date but no Last-Modified; the object's own can differ by the
   * second the write took). Absent: ask headObject.
   */
  lastModified?: Date
  /** The object's size, when the driver knows it without asking. */
  size?: number
  /** The object as read back, when the driver had to read it anyway (RGW 16.2 completes a multipart upload with an empty ETag). */
  object?: ObjectInfo
}

/** Conditions on a copy's source (S3's `x-amz-copy-source-if-*`); failing ones are kind `precondition`. */
export type CopyConditions = { ifMatch?: string; ifNoneMatch?: string; ifModifiedSince?: Date; ifUnmodifiedSince?: Date }

export type CopyOptions = {
  srcVersionId?: string
  /** Replace user metadata; absent keeps the source's. */
  metadata?: Record<string, string>
  /** Replace the content type; absent keeps the source's. */
  contentType?: string
  /** Replace the content headers; absent keeps the source's. */
  headers?: ContentHeaders
  /** Replace the tags; absent keeps the source's. */
  tags?: Record<string, string>
  conditions?: CopyConditions
  /** Checksum the copy with this algorithm; absent keeps the source's algorithm, if it has one. */
  checksumAlgorithm?: ChecksumAlgorithm
  /**
   * The source's info when the caller has just read it (a listing entry will do): a plain copy
   * then needs no HEAD of its own, and the copy's info is this one with the new ETag, date and
   * version, so it is as complete as this one.
   */
  source?: ObjectInfo
  signal?: AbortSignal
}

export type VersionInfo = ObjectInfo & { versionId: string; isLatest: boolean; isDeleteMarker: boolean }

/** What a delete did on a bucket that keeps versions: the version it removed or the delete marker it made. */
export type DeleteOutcome = { versionId?: string; deleteMarker?: boolean }

/** S3's ListObjectVersions paging: versions after `versionIdMarker` of `keyMarker`, then keys after it. */
export type VersionListOptions = { prefix?: string; delimiter?: string; keyMarker?: string; versionIdMarker?: string; maxKeys?: number }

export type VersionPage = {
  /** In key order, newest first within a key; delete markers among them. */
  versions: VersionInfo[]
  commonPrefixes: string[]
  isTruncated: boolean
  nextKeyMarker?: string
  nextVersionIdMarker?: string
}

export type MultipartUpload = { key: string; uploadId: string; initiated?: Date }
export type PartChecksum = { algorithm: ChecksumAlgorithm; value: string }
/** `checksum`, when given, must equal the part's stored one. */
export type CompletedPart = { partNumber: number; etag: string; checksum?: PartChecksum }
export type UploadedPart = { partNumber: number; etag: string; size: number; lastModified?: Date; checksum?: PartChecksum }

export type CreateUploadOptions = {
  contentType?: string
  metadata?: Record<string, string>
  headers?: ContentHeaders
  tags?: Record<string, string>
  /** Every part is checksummed with this algorithm, and the object gets a checksum of that type. */
  checksum?: { algorithm: ChecksumAlgorithm; type: Checksum['type'] }
}

export type UploadPartOptions = { size: number; md5?: string; checksum?: ChecksumRequest; signal?: AbortSignal }

export type DeleteResult = {
  deleted: Array<{ key: string; versionId?: string; deleteMarker?: boolean; deleteMarkerVersionId?: string }>
  errors: Array<{ key: string; versionId?: string; code: string; message: string }>
}

export type BackendErrorKind =
  | 'not_found' // no such bucket / key / upload / version
  | 'bucket_not_found'
  | 'exists' // bucket already exists
  | 'not_empty' // bucket not empty
  | 'precondition' // If-None-Match / If-Match failed
  | 'bad_range'
  | 'bad_digest' // the body does not match its Content-MD5 or checksum
  | 'invalid' // the backend refused the input (name, policy, lifecycle…)
  | 'not_supported'
  | 'unavailable' // cannot reach the backend
  | 'denied' // the backend's credentials lack permission
  | 'failed' // anything else from the upstream

export class BackendError extends Error {
  /** The S3 error code when one says more than the kind (`EntityTooSmall`, `InvalidPart`, `KeyTooLongError`…). */
  readonly code?: string
  /** A read that met a delete marker: the marker's version id. */
  readonly deleteMarker?: string

  constructor(
    readonly kind: BackendErrorKind,
    message: string,
    options?: { cause?: unknown; code?: string; deleteMarker?: string },
  ) {
    super(message, options)
    if (options?.code !== undefined) this.code = options.code
    if (options?.deleteMarker !== undefined) this.deleteMarker = options.deleteMarker
  }
}

export interface Backend {
  readonly id: string
  readonly kind: 's3' | 'fs'
  readonly capabilities: Capabilities
  /** Lifecycle rules and bucket tags that Stowage keeps for this backend itself, and applies (fs); absent where the upstream keeps them. */
  readonly bucketRules?: BucketRules

  /** Cheap liveness check (lists buckets); throws a BackendError when unhealthy. */
  probe(signal?: AbortSignal): Promise<void>

  listBuckets(): Promise<BucketInfo[]>
  createBucket(name: string, region?: string): Promise<void>
  deleteBucket(name: string): Promise<void>
  bucketExists(name: string): Promise<boolean>

  listObjects(bucket: string, opts: ListOptions): Promise<ListResult>
  /**
   * `bucketKnown`: the caller knows the bucket exists, or treats a missing one like a missing
   * object; a miss is then `not_found` without finding out which (the s3 driver saves a call).
   */
  headObject(bucket: string, key: string, opts?: { versionId?: string; signal?: AbortSignal; bucketKnown?: boolean }): Promise<ObjectInfo>
  getObject(bucket: string, key: string, opts?: GetOptions): Promise<GetResult>
  putObject(bucket: string, key: string, body: ReadableStream<Uint8Array>, opts: PutOptions): Promise<PutResult>
  deleteObject(bucket: string, key: string, opts?: { versionId?: string }): Promise<DeleteOutcome>
  /** At most 1000 keys per call. Missing keys count as deleted (S3 semantics). */
  deleteObjects(bucket: string, keys: Array<{ key: string; versionId?: string }>): Promise<DeleteResult>
  /** Server-side copy within this backend; also how metadata is edited in place. */
  copyObject(src: { bucket: string; key: string }, dst: { bucket: string; key: string }, opts?: CopyOptions): Promise<ObjectInfo>

  getObjectTags(bucket: string, key: string, opts?: { versionId?: string }): Promise<Record<string, string>>
  putObjectTags(bucket: string, key: string, tags: Record<string, string>, opts?: { versionId?: string }): Promise<void>
  listObjectVersions(bucket: string, key: string): Promise<VersionInfo[]>
  /** Keys directly under `prefix` whose latest version is a delete marker (at most 1000), with that marker. */
  listDeletedKeys(bucket: string, prefix: string): Promise<VersionInfo[]>
  /** Every version in the bucket, a page at a time (backends that keep versions themselves: the S3 engine's ListObjectVersions). */
  listVersionPage?(bucket: string, opts: VersionListOptions): Promise<VersionPage>

  createMultipartUpload(bucket: string, key: string, opts: CreateUploadOptions): Promise<string>
  uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: ReadableStream<Uint8Array>,
    opts: UploadPartOptions,
  ): Promise<UploadedPart>
  /** A part copied from a byte range (inclusive) of an object in this backend, or all of it. */
  uploadPartCopy(
    dst: { bucket: string; key: string; uploadId: string; partNumber: number },
    src: { bucket: string; key: string; versionId?: string },
    opts?: { range?: { start: number; end: number }; conditions?: CopyConditions; signal?: AbortSignal },
  ): Promise<UploadedPart>
  /** S3's rules: ascending part numbers, matching ETags, all but the last part ≥ 5 MiB (code `EntityTooSmall`). */
  completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: CompletedPart[], opts?: { ifNoneMatch?: '*' }): Promise<PutResult>
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>
  listMultipartUploads(bucket: string, opts: { prefix?: string }): Promise<MultipartUpload[]>
  /** Every stored part, by part number. */
  listParts(bucket: string, key: string, uploadId: string): Promise<UploadedPart[]>

  getVersioning(bucket: string): Promise<boolean>
  setVersioning(bucket: string, enabled: boolean): Promise<void>
  getPolicy(bucket: string): Promise<string | null>
  setPolicy(bucket: string, policy: string): Promise<void>
  deletePolicy(bucket: string): Promise<void>
  getLifecycle(bucket: string): Promise<LifecycleRule[]>
  setLifecycle(bucket: string, rules: LifecycleRule[]): Promise<void>
  deleteLifecycle(bucket: string): Promise<void>
  /** Replaces the bucket's CORS configuration on the backend; an empty list removes it. */
  setCors(bucket: string, rules: CorsRule[]): Promise<void>

  /** Releases pooled connections and timers. */
  close(): Promise<void>
}
