// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The operation allowlist. Every request is mapped to one S3 operation by
 * method, level (service, bucket, object) and sub-resource; each operation
 * lists the query parameters it accepts, and anything else is refused. So an
 * operation the proxy does not know can never slip through as, say, a
 * GetObject that the upstream reads as something else.
 *
 * - Allowed reads: ListBuckets (answered by the proxy), ListObjects(V2),
 *   ListObjectVersions, ListMultipartUploads, GetBucketLocation,
 *   GetBucketVersioning, HeadBucket, GetObject, HeadObject,
 *   GetObjectAttributes, ListParts, GetObjectTagging, GetObjectRetention,
 *   GetObjectLegalHold.
 * - Allowed writes: PutObject, CopyObject, CreateMultipartUpload, UploadPart,
 *   UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload,
 *   DeleteObject, DeleteObjects, PostObject, Put/DeleteObjectTagging,
 *   PutObjectRetention, PutObjectLegalHold.
 * - Bucket administration for `owner` scopes: CreateBucket, DeleteBucket,
 *   PutBucketVersioning, Get/Put/DeleteBucketCors,
 *   Get/Put/DeleteBucketLifecycle(Configuration), Get/Put/DeleteBucketTagging.
 *   Reading those settings needs `owner` too: like the dashboard's bucket
 *   settings, they say who else can reach the data.
 * - Every other bucket sub-resource, read or write (policy, encryption,
 *   website, logging, notification, replication, object-lock configuration,
 *   public-access block, ownership…) and ACL writes (bucket or object):
 *   403 AccessDenied, whatever the scope. Policies and ACLs would grant
 *   access past Stowage's own model.
 * - ACL reads, and anything else (restore, select, torrent, unknown
 *   parameters): 501 NotImplemented.
 */
import { accessDenied, notImplemented, invalidArgument } from './errors.ts'
import type { Inbound } from './request.ts'

/** What an operation needs of the scope: any access, `read-write` (or `owner`), or `owner`. */
export type Access = 'read' | 'write' | 'owner'

export type Operation =
  | 'ListBuckets'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListObjectVersions'
  | 'ListMultipartUploads'
  | 'GetBucketLocation'
  | 'GetBucketVersioning'
  | 'HeadBucket'
  | 'DeleteObjects'
  | 'PostObject'
  | 'GetObject'
  | 'HeadObject'
  | 'GetObjectAttributes'
  | 'ListParts'
  | 'GetObjectTagging'
  | 'GetObjectRetention'
  | 'GetObjectLegalHold'
  | 'PutObject'
  | 'CopyObject'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CreateMultipartUpload'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'DeleteObject'
  | 'PutObjectTagging'
  | 'DeleteObjectTagging'
  | 'PutObjectRetention'
  | 'PutObjectLegalHold'
  | 'CreateBucket'
  | 'DeleteBucket'
  | 'PutBucketVersioning'
  | 'GetBucketCors'
  | 'PutBucketCors'
  | 'DeleteBucketCors'
  | 'GetBucketLifecycleConfiguration'
  | 'PutBucketLifecycleConfiguration'
  | 'DeleteBucketLifecycle'
  | 'GetBucketTagging'
  | 'PutBucketTagging'
  | 'DeleteBucketTagging'

export type Classified = { op: Operation; access: Access }

/** Sub-resources of bucket or object administration: refused with AccessDenied rather than NotImplemented. */
const ADMIN: ReadonlySet<string> = new Set([
  'accelerate',
  'acl',
  'analytics',
  'cors',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'lifecycle',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'tagging',
  'versioning',
  'website',
])

/** Query parameters that select a sub-resource (operation) rather than tune one: the administrative ones and these. */
const SUBRESOURCES: ReadonlySet<string> = new Set([
  ...ADMIN,
  'attributes',
  'delete',
  'legal-hold',
  'location',
  'restore',
  'retention',
  'select',
  'select-type',
  'torrent',
  'uploadId',
  'uploads',
  'versions',
])

const LIST_V1 = ['delimiter', 'encoding-type', 'marker', 'max-keys', 'prefix', 'allow-unordered']
const LIST_V2 = ['list-type', 'continuation-token', 'fetch-owner', 'start-after', 'delimiter', 'encoding-type', 'max-keys', 'prefix', 'allow-unordered']
const VERSIONS = ['versions', 'key-marker', 'version-id-marker', 'delimiter', 'encoding-type', 'max-keys', 'prefix']
const UPLOADS = ['uploads', 'delimiter', 'encoding-type', 'key-marker', 'max-uploads', 'prefix', 'upload-id-marker']
const RESPONSE = [
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
]
const READ_OBJECT = ['versionId', 'partNumber', ...RESPONSE]

const PARAMS: Record<Operation, ReadonlySet<string>> = {
  ListBuckets: new Set(['prefix', 'max-buckets', 'continuation-token', 'bucket-region']),
  ListObjects: new Set(LIST_V1),
  ListObjectsV2: new Set(LIST_V2),
  ListObjectVersions: new Set(VERSIONS),
  ListMultipartUploads: new Set(UPLOADS),
  GetBucketLocation: new Set(['location']),
  GetBucketVersioning: new Set(['versioning']),
  HeadBucket: new Set(),
  DeleteObjects: new Set(['delete']),
  PostObject: new Set(),
  GetObject: new Set(READ_OBJECT),
  HeadObject: new Set(READ_OBJECT),
  GetObjectAttributes: new Set(['attributes', 'versionId']),
  ListParts: new Set(['uploadId', 'max-parts', 'part-number-marker']),
  GetObjectTagging: new Set(['tagging', 'versionId']),
  GetObjectRetention: new Set(['retention', 'versionId']),
  GetObjectLegalHold: new Set(['legal-hold', 'versionId']),
  PutObject: new Set(),
  CopyObject: new Set(),
  UploadPart: new Set(['partNumber', 'uploadId']),
  UploadPartCopy: new Set(['partNumber', 'uploadId']),
  CreateMultipartUpload: new Set(['uploads']),
  CompleteMultipartUpload: new Set(['uploadId']),
  AbortMultipartUpload: new Set(['uploadId']),
  DeleteObject: new Set(['versionId']),
  PutObjectTagging: new Set(['tagging', 'versionId']),
  DeleteObjectTagging: new Set(['tagging', 'versionId']),
  PutObjectRetention: new Set(['retention', 'versionId']),
  PutObjectLegalHold: new Set(['legal-hold', 'versionId']),
  CreateBucket: new Set(),
  DeleteBucket: new Set(),
  PutBucketVersioning: new Set(['versioning']),
  GetBucketCors: new Set(['cors']),
  PutBucketCors: new Set(['cors']),
  DeleteBucketCors: new Set(['cors']),
  GetBucketLifecycleConfiguration: new Set(['lifecycle']),
  PutBucketLifecycleConfiguration: new Set(['lifecycle']),
  DeleteBucketLifecycle: new Set(['lifecycle']),
  GetBucketTagging: new Set(['tagging']),
  PutBucketTagging: new Set(['tagging']),
  DeleteBucketTagging: new Set(['tagging']),
}

const WRITES: ReadonlySet<Operation> = new Set([
  'DeleteObjects',
  'PostObject',
  'PutObject',
  'CopyObject',
  'UploadPart',
  'UploadPartCopy',
  'CreateMultipartUpload',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'DeleteObject',
  'PutObjectTagging',
  'DeleteObjectTagging',
  'PutObjectRetention',
  'PutObjectLegalHold',
])

/** Bucket administration: the operations an `owner` scope adds. */
export const OWNER_OPS: ReadonlySet<Operation> = new Set([
  'CreateBucket',
  'DeleteBucket',
  'PutBucketVersioning',
  'GetBucketCors',
  'PutBucketCors',
  'DeleteBucketCors',
  'GetBucketLifecycleConfiguration',
  'PutBucketLifecycleConfiguration',
  'DeleteBucketLifecycle',
  'GetBucketTagging',
  'PutBucketTagging',
  'DeleteBucketTagging',
])

/** The one method each operation is sent with (a POST Object goes on as a PUT of its PutObject). */
export const METHOD_OF: Record<Operation, string> = {
  ListBuckets: 'GET',
  ListObjects: 'GET',
  ListObjectsV2: 'GET',
  ListObjectVersions: 'GET',
  ListMultipartUploads: 'GET',
  GetBucketLocation: 'GET',
  GetBucketVersioning: 'GET',
  HeadBucket: 'HEAD',
  DeleteObjects: 'POST',
  PostObject: 'POST',
  GetObject: 'GET',
  HeadObject: 'HEAD',
  GetObjectAttributes: 'GET',
  ListParts: 'GET',
  GetObjectTagging: 'GET',
  GetObjectRetention: 'GET',
  GetObjectLegalHold: 'GET',
  PutObject: 'PUT',
  CopyObject: 'PUT',
  UploadPart: 'PUT',
  UploadPartCopy: 'PUT',
  CreateMultipartUpload: 'POST',
  CompleteMultipartUpload: 'POST',
  AbortMultipartUpload: 'DELETE',
  DeleteObject: 'DELETE',
  PutObjectTagging: 'PUT',
  DeleteObjectTagging: 'DELETE',
  PutObjectRetention: 'PUT',
  PutObjectLegalHold: 'PUT',
  CreateBucket: 'PUT',
  DeleteBucket: 'DELETE',
  PutBucketVersioning: 'PUT',
  GetBucketCors: 'GET',
  PutBucketCors: 'PUT',
  DeleteBucketCors: 'DELETE',
  GetBucketLifecycleConfiguration: 'GET',
  PutBucketLifecycleConfiguration: 'PUT',
  DeleteBucketLifecycle: 'DELETE',
  GetBucketTagging: 'GET',
  PutBucketTagging: 'PUT',
  DeleteBucketTagging: 'DELETE',
}

/** Bucket settings an owner may read and change, by sub-resource and method. */
const SETTINGS: Readonly<Record<string, Partial<Record<string, Operation>>>> = {
  versioning: { GET: 'GetBucketVersioning', PUT: 'PutBucketVersioning' },
  cors: { GET: 'GetBucketCors', PUT: 'PutBucketCors', DELETE: 'DeleteBucketCors' },
  lifecycle: { GET: 'GetBucketLifecycleConfiguration', PUT: 'PutBucketLifecycleConfiguration', DELETE: 'DeleteBucketLifecycle' },
  tagging: { GET: 'GetBucketTagging', PUT: 'PutBucketTagging', DELETE: 'DeleteBucketTagging' },
}

/** Parameters every operation may carry: SDK operation hints and presigned-URL auth. */
export function isAuthParam(key: string): boolean {
  return key.startsWith('X-Amz-') || key.startsWith('x-amz-')
}

function ignorable(key: string): boolean {
  return key === 'x-id' || isAuthParam(key)
}

function pick(method: string, level: 'service' | 'bucket' | 'object', sub: string | undefined, inb: Inbound, copySource: boolean): Operation {
  if (level === 'service') {
    if (method === 'GET' && sub === undefined) return 'ListBuckets'
    throw notImplemented('Only ListBuckets is available without a bucket.')
  }
  // ACL reads answer 501 rather than 403: s3cmd's `cp` reads the source ACL first and carries on only after a 501.
  if (sub === 'acl' && (method === 'GET' || method === 'HEAD')) throw notImplemented('ACLs are not available through the S3 proxy.')
  if (sub !== undefined && ADMIN.has(sub)) {
    if (level === 'object' && sub === 'tagging') {
      if (method === 'GET') return 'GetObjectTagging'
      if (method === 'PUT') return 'PutObjectTagging'
      if (method === 'DELETE') return 'DeleteObjectTagging'
    }
    const setting = level === 'bucket' ? SETTINGS[sub]?.[method] : undefined
    if (setting) return setting
    throw accessDenied('Bucket policies, ACLs and this bucket setting are not available through the S3 proxy.', 'admin-op')
  }
  if (level === 'bucket') {
    switch (method) {
      case 'GET':
        if (sub === undefined) return inb.query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects'
        if (sub === 'location') return 'GetBucketLocation'
        if (sub === 'versions') return 'ListObjectVersions'
        if (sub === 'uploads') return 'ListMultipartUploads'
        break
      case 'HEAD':
        if (sub === undefined) return 'HeadBucket'
        break
      case 'POST':
        if (sub === 'delete') return 'DeleteObjects'
        break
      case 'PUT':
        if (sub === undefined) return 'CreateBucket'
        break
      case 'DELETE':
        if (sub === undefined) return 'DeleteBucket'
        break
    }
    throw notImplemented()
  }
  switch (method) {
    case 'GET':
      if (sub === undefined) return 'GetObject'
      if (sub === 'attributes') return 'GetObjectAttributes'
      if (sub === 'uploadId') return 'ListParts'
      if (sub === 'retention') return 'GetObjectRetention'
      if (sub === 'legal-hold') return 'GetObjectLegalHold'
      break
    case 'HEAD':
      if (sub === undefined) return 'HeadObject'
      break
    case 'PUT':
      if (sub === undefined) {
        if (inb.query.has('partNumber')) throw invalidArgument('partNumber needs uploadId.')
        return copySource ? 'CopyObject' : 'PutObject'
      }
      if (sub === 'uploadId') {
        if (!inb.query.has('partNumber')) throw invalidArgument('uploadId needs partNumber.')
        return copySource ? 'UploadPartCopy' : 'UploadPart'
      }
      if (sub === 'retention') return 'PutObjectRetention'
      if (sub === 'legal-hold') return 'PutObjectLegalHold'
      break
    case 'POST':
      if (sub === 'uploads') return 'CreateMultipartUpload'
      if (sub === 'uploadId') return 'CompleteMultipartUpload'
      break
    case 'DELETE':
      if (sub === undefined) return 'DeleteObject'
      if (sub === 'uploadId') return 'AbortMultipartUpload'
      break
  }
  throw notImplemented()
}

/** Maps a request to its operation, or throws AccessDenied / NotImplemented / InvalidArgument. */
export function classify(inb: Inbound, headers: { has(name: string): boolean }): Classified {
  const level = inb.bucket === undefined ? 'service' : inb.key === undefined ? 'bucket' : 'object'
  let sub: string | undefined
  for (const p of inb.params) {
    if (!SUBRESOURCES.has(p.key)) continue
    if (sub !== undefined && sub !== p.key) {
      // Two operations in one request: no legitimate client sends that.
      throw notImplemented(`The sub-resources ${sub} and ${p.key} cannot be combined.`)
    }
    sub = p.key
  }
  const op = pick(inb.method, level, sub, inb, headers.has('x-amz-copy-source'))
  const allowed = PARAMS[op]
  for (const p of inb.params) {
    if (!allowed.has(p.key) && !ignorable(p.key)) throw notImplemented(`The parameter ${p.key.slice(0, 64)} is not supported for ${op}.`)
  }
  return { op, access: OWNER_OPS.has(op) ? 'owner' : WRITES.has(op) ? 'write' : 'read' }
}

/** Operations an anonymous binding may perform (read-only, current versions only). */
export const ANONYMOUS_OPS: ReadonlySet<Operation> = new Set(['GetObject', 'HeadObject', 'HeadBucket', 'ListObjects', 'ListObjectsV2'])
