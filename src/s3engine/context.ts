// SPDX-License-Identifier: AGPL-3.0-or-later
/** What every operation handler gets, and the reply shapes they return. */
import type { Backend } from '../backends/backend.ts'
import type { S3Call, S3Reply } from '../s3proxy/call.ts'
import { invalidArgument } from './headers.ts'

export type OpContext = {
  call: S3Call
  backend: Backend
  bucket: string
  /** The backend's region, for GetBucketLocation and HeadBucket. */
  region: string
  /** Who the engine says owns things in listings: the access key the call was signed with. */
  owner: string
}

export type Handler = (c: OpContext) => Promise<S3Reply>

export function xmlReply(bytes: Uint8Array, headers: Record<string, string> = {}, status = 200): S3Reply {
  return { status, headers: { 'content-type': 'application/xml', ...headers }, body: { kind: 'bytes', bytes } }
}

/** The version a write made, as S3 names it: not at all when it is the `null` version (versioning suspended). */
export function writtenVersion(versionId: string | undefined): Record<string, string> {
  return versionId !== undefined && versionId !== 'null' ? { 'x-amz-version-id': versionId } : {}
}

export function emptyReply(status: number, headers: Record<string, string> = {}): S3Reply {
  return { status, headers, body: { kind: 'empty' } }
}

/** The object key of an object-level call. */
export function keyOf(c: OpContext): string {
  return c.call.key!
}

export function param(c: OpContext, name: string): string | undefined {
  return c.call.inbound.query.get(name)
}

/** An integer query parameter within bounds; absent gives `fallback`, above `max` gives `max` (S3 caps rather than refuses). */
export function intParam(c: OpContext, name: string, fallback: number, max: number): number {
  const raw = param(c, name)
  if (raw === undefined) return fallback
  if (!/^\d{1,10}$/.test(raw)) throw invalidArgument(`${name} must be a non-negative integer.`)
  return Math.min(Number(raw), max)
}

/** `encoding-type`: absent or `url`. */
export function encodingType(c: OpContext): 'url' | undefined {
  const value = param(c, 'encoding-type')
  if (value === undefined) return undefined
  if (value.toLowerCase() !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request')
  return 'url'
}

/** Version ids are printable ASCII (S3's and ours); anything else names no version, and is refused before a reply could echo it in a header. */
const VERSION_ID = /^[\x21-\x7e]{1,1024}$/

export function checkVersionId(versionId: string): string {
  if (!VERSION_ID.test(versionId)) throw invalidArgument('Invalid version id specified')
  return versionId
}

/** The version a call names, if it names one (`null` is the version of an object written without versioning). */
export function versionOf(c: OpContext): string | undefined {
  const versionId = param(c, 'versionId')
  return versionId === undefined ? undefined : checkVersionId(versionId)
}
