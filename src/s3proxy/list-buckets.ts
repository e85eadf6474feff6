// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * ListBuckets, answered by the pipeline: a virtual credential sees exactly
 * the buckets it may use (the upstream would list every bucket of the
 * backend's account).
 *
 * - A credential with exact buckets only, on an `s3` backend: its scope,
 *   without an upstream call; CreationDate is the credential's creation time
 *   (S3 clients only display it).
 * - A credential with bucket-name prefixes, or on an `fs` backend: the
 *   backend's own listing through its driver, filtered by the scope, with the
 *   real creation dates; exact entries are listed whether or not the backend
 *   has them, as in the first case.
 */
import type { AccessView } from '../access/view.ts'
import { BackendError, type BucketInfo } from '../backends/backend.ts'
import type { Registry } from '../backends/registry.ts'
import { escapeXml } from '../s3/xml.ts'
import { accessFor } from '../credentials/access.ts'
import type { ResolvedCredential } from '../credentials/service.ts'
import type { Logger } from '../lib/log.ts'
import type { S3Reply } from './call.ts'
import { badGateway, serviceUnavailable } from './errors.ts'
import { visibleToOwner } from './grants.ts'

export type ListedBucket = { name: string; createdAt: Date }

export function listBucketsXml(buckets: readonly ListedBucket[], owner: string): string {
  let out = '<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
  out += `<Owner><ID>${escapeXml(owner)}</ID><DisplayName>${escapeXml(owner)}</DisplayName></Owner><Buckets>`
  for (const b of [...buckets].sort((x, y) => (x.name < y.name ? -1 : 1)))
    out += `<Bucket><Name>${escapeXml(b.name)}</Name><CreationDate>${b.createdAt.toISOString()}</CreationDate></Bucket>`
  return out + '</Buckets></ListAllMyBucketsResult>'
}

/** Whether the answer needs the backend's listing. */
export function needsListing(cred: ResolvedCredential, backendType: 's3' | 'fs' | undefined): boolean {
  return cred.prefixes.length > 0 || backendType === 'fs'
}

/** The buckets a credential sees; `listed` is the backend's listing when needsListing said so. */
export function visibleBuckets(cred: ResolvedCredential, listed: readonly BucketInfo[] | undefined): ListedBucket[] {
  const fallback = new Date(cred.createdAt)
  const out = new Map<string, ListedBucket>()
  const scope = { exact: cred.scopes, prefixes: cred.prefixes }
  for (const b of listed ?? []) if (accessFor(scope, b.name) !== undefined) out.set(b.name, { name: b.name, createdAt: b.createdAt ?? fallback })
  for (const name of cred.scopes.keys()) if (!out.has(name)) out.set(name, { name, createdAt: fallback })
  return [...out.values()]
}

/** The ListBuckets answer for a credential, less what its owner's grants (`owner`, when it has one) hide. */
export async function listBucketsReply(d: { registry: Registry; logger: Logger }, cred: ResolvedCredential, owner: AccessView | undefined): Promise<S3Reply> {
  const entry = d.registry.entry(cred.backendId)
  let listed: BucketInfo[] | undefined
  if (needsListing(cred, entry?.type)) {
    if (!entry?.backend) throw serviceUnavailable('The storage backend of this credential is unavailable.')
    try {
      listed = await entry.backend.listBuckets()
    } catch (err) {
      d.logger.warn('listing buckets for ListBuckets failed', { backend: cred.backendId, error: (err as Error).message })
      throw err instanceof BackendError && err.kind === 'unavailable' ? serviceUnavailable() : badGateway()
    }
  }
  const visible = visibleBuckets(cred, listed)
  const xml = listBucketsXml(owner ? visibleToOwner(owner, cred.backendId, visible) : visible, cred.accessKey)
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: { kind: 'bytes', bytes: Buffer.from(xml) } }
}
