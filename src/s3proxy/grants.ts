// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A key owned by a user does no more than its owner's grants allow at the
 * time of each request, whatever its scope says: the pipeline's authorization
 * step asks `checkOwner` after the scope check, with the owner's view as it
 * is now (access/service.ts rebuilds it after every grant change, so a
 * revoked grant stops the key on its next request). Keys owned by nobody
 * (made by an admin for no one) are held to their scope only.
 *
 * What each operation needs, all through access/decide.ts:
 * - object operations: read or read-write on the key (CopyObject and
 *   UploadPartCopy: read on the copy source too);
 * - listings (objects, versions, uploads): read on everything under their
 *   `prefix` — a prefix-granted owner lists inside the granted folder;
 * - HeadBucket, GetBucketLocation, GetBucketVersioning: some grant in the bucket;
 * - DeleteObjects: read-write somewhere in the bucket before the body is read,
 *   then read-write on every key its document lists (`checkDeleteKeys`);
 * - ListBuckets: only the buckets the owner may see are listed.
 * A refusal is AccessDenied with reason `grant-denied` (`grant-read-only`
 * when the owner may only read).
 */
import { decide, type Want } from '../access/decide.ts'
import { READ, WRITE, type AccessView } from '../access/view.ts'
import { children, parseXml } from '../s3/xml.ts'
import { AppError } from '../http/errors.ts'
import type { Classified, Operation } from './classify.ts'
import { accessDenied, type S3Error } from './errors.ts'
import type { Inbound } from './request.ts'
import type { CopySource } from './scope.ts'

const LISTINGS: ReadonlySet<Operation> = new Set(['ListObjects', 'ListObjectsV2', 'ListObjectVersions', 'ListMultipartUploads'])
const BUCKET_READS: ReadonlySet<Operation> = new Set(['HeadBucket', 'GetBucketLocation', 'GetBucketVersioning'])

function refusal(err: unknown): S3Error {
  if (err instanceof AppError && err.code === 'read_only_access') return accessDenied("The key's owner may only read here.", 'grant-read-only')
  return accessDenied("The key's owner has no access to this.", 'grant-denied')
}

function check(view: AccessView, wants: Want[]): void {
  try {
    decide(view, wants)
  } catch (err) {
    throw refusal(err)
  }
}

/** What the request needs from its owner's grants; throws AccessDenied when they do not cover it. */
export function checkOwner(view: AccessView, backend: string, c: Classified, bucket: string, target: Inbound, copySource: CopySource | undefined): void {
  const wants: Want[] = []
  if (LISTINGS.has(c.op)) wants.push({ kind: 'path', backend, bucket, path: target.query.get('prefix') ?? '', level: READ })
  else if (BUCKET_READS.has(c.op)) wants.push({ kind: 'bucket', backend, bucket })
  else if (c.op === 'DeleteObjects') wants.push({ kind: 'bucket', backend, bucket, level: WRITE })
  else if (target.key !== undefined) wants.push({ kind: 'path', backend, bucket, path: target.key, level: c.access === 'read' ? READ : WRITE })
  else wants.push({ kind: 'path', backend, bucket, path: '', level: c.access === 'read' ? READ : WRITE })
  if (copySource) wants.push({ kind: 'path', backend, bucket: copySource.bucket, path: copySource.key, level: READ })
  check(view, wants)
}

/** A POST Object's key, named by its form. */
export function checkOwnerUpload(view: AccessView, backend: string, bucket: string, key: string): void {
  check(view, [{ kind: 'path', backend, bucket, path: key, level: WRITE }])
}

/**
 * The keys of a DeleteObjects document, read strictly: what another XML reader could read
 * differently (a DOCTYPE with entities, prefixed element names, an Object with two Keys, a Key
 * outside an Object) makes it unreadable rather than read one way here and another upstream.
 */
function deleteKeys(document: Uint8Array): string[] | undefined {
  const text = Buffer.from(document).toString('utf8')
  if (/<!(DOCTYPE|ENTITY)/i.test(text) || /<\/?[A-Za-z_][\w.-]*:/.test(text)) return undefined
  let objects
  try {
    objects = children(parseXml(text), 'Object')
  } catch {
    return undefined
  }
  const keys = objects.map((o) => children(o, 'Key'))
  if (keys.some((k) => k.length !== 1) || (text.match(/<Key[\s>]/g) ?? []).length !== keys.length) return undefined
  return keys.map(([k]) => k!.text)
}

/** Every key a DeleteObjects document lists must be granted read-write (unless the whole bucket is). */
export function checkDeleteKeys(view: AccessView, backend: string, bucket: string, document: Uint8Array): void {
  if (view.levelAt(backend, bucket, '') >= WRITE) return
  const keys = deleteKeys(document)
  if (!keys) throw accessDenied("The delete document could not be checked against the key owner's folders; list each key once, in plain XML.", 'grant-denied')
  check(
    view,
    keys.map((key) => ({ kind: 'path', backend, bucket, path: key, level: WRITE })),
  )
}

/** The buckets of a ListBuckets answer the owner may see. */
export function visibleToOwner<T extends { name: string }>(view: AccessView, backend: string, buckets: readonly T[]): T[] {
  return buckets.filter((b) => view.bucketLevel(backend, b.name) >= READ)
}
