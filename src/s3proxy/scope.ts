// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Scope rules for virtual credentials. A request may touch a bucket only when
 * an entry of the credential covers it (the exact name, or a bucket-name
 * prefix it starts with; see credentials/access.ts), on the credential's one
 * backend: writes need `read-write` or `owner`, bucket administration needs
 * `owner`, and an owner demoted to readonly keeps reads only. CopyObject and
 * UploadPartCopy also read their `x-amz-copy-source`, which therefore needs
 * read access too (the original forwarded the copy source unchecked, so any
 * key could read any bucket on the backend by copying it into its own).
 */
import { accessFor } from '../credentials/access.ts'
import type { ResolvedCredential } from '../credentials/service.ts'
import { isBucketName } from '../storage/validate.ts'
import type { Access } from './classify.ts'
import { accessDenied, invalidArgument, S3Error } from './errors.ts'

export type CopySource = { bucket: string; key: string; versionId?: string }

export function checkScope(cred: ResolvedCredential, bucket: string, need: Access): void {
  const granted = accessFor({ exact: cred.scopes, prefixes: cred.prefixes }, bucket)
  if (granted === undefined) throw accessDenied(`The credential has no access to bucket ${bucket.slice(0, 63)}.`, 'scope-violation')
  if (need === 'read') return
  if (cred.readOnly) throw accessDenied('The credential may only read this bucket.', 'read-only')
  if (need === 'write' && granted === 'read') throw accessDenied('The credential may only read this bucket.', 'read-only')
  if (need === 'owner' && granted !== 'owner') throw accessDenied('Creating, deleting and configuring buckets needs owner access to them.', 'not-owner')
}

/**
 * Parses `x-amz-copy-source`: `[/]bucket/key[?versionId=id]`, URL-encoded
 * (a `?` inside a key arrives as %3F). Access-point ARNs are not supported.
 */
export function parseCopySource(header: string): CopySource {
  const q = header.indexOf('?')
  const rawPath = q < 0 ? header : header.slice(0, q)
  const rawQuery = q < 0 ? '' : header.slice(q + 1)
  let path: string
  try {
    path = decodeURIComponent(rawPath)
  } catch {
    throw invalidArgument('x-amz-copy-source is not correctly URL-encoded.')
  }
  if (path.startsWith('/')) path = path.slice(1)
  if (path.startsWith('arn:')) throw invalidArgument('Access-point ARNs are not supported in x-amz-copy-source.')
  const slash = path.indexOf('/')
  if (slash <= 0 || slash === path.length - 1) throw invalidArgument('x-amz-copy-source must be bucket/key.')
  const out: CopySource = { bucket: path.slice(0, slash), key: path.slice(slash + 1) }
  if (rawQuery !== '') {
    const m = /^versionId=([^&]*)$/.exec(rawQuery)
    if (!m) throw invalidArgument('x-amz-copy-source accepts only a versionId parameter.')
    try {
      out.versionId = decodeURIComponent(m[1]!)
    } catch {
      throw invalidArgument('x-amz-copy-source is not correctly URL-encoded.')
    }
    if (out.versionId === '') throw invalidArgument('x-amz-copy-source has an empty versionId.')
  }
  return out
}

/** Bytes of `x-amz-copy-source-range: bytes=a-b`, or undefined when absent. */
export function copyRangeSize(header: string | undefined): number | undefined {
  if (header === undefined) return undefined
  const m = /^bytes=(\d{1,16})-(\d{1,16})$/.exec(header.trim())
  if (!m || Number(m[2]) < Number(m[1])) throw invalidArgument('x-amz-copy-source-range must be bytes=first-last.')
  return Number(m[2]) - Number(m[1]) + 1
}

/**
 * CreateBucket's own checks, before the scope is even looked at (so the
 * answer says nothing about which names exist): the name must be a bucket
 * name, and object lock cannot be switched on (its compliance mode would
 * keep objects even from the administrator, and its configuration is not
 * an owner's to set).
 */
export function checkNewBucket(bucket: string, headers: Headers): void {
  if (!isBucketName(bucket)) throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', 'bad-request')
  if ((headers.get('x-amz-bucket-object-lock-enabled') ?? '').trim().toLowerCase() === 'true')
    throw accessDenied('Object lock cannot be enabled through the S3 proxy.', 'admin-op')
}
