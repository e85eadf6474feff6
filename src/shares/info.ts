// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What a recipient may learn about a share, and nothing more: the file's (or
 * folder's) name, size, type, preview kind, expiry and downloads left. Never
 * the backend, the bucket, the full key or who shared it; a folder's files
 * are named relative to the folder and its page tokens are sealed.
 */
import type { Registry } from '../backends/registry.ts'
import { AppError, fail } from '../http/errors.ts'
import type { Logger } from '../lib/log.ts'
import { baseType, inlineFamily } from '../objects/content-safety.ts'
import type { Target } from '../objects/target.ts'
import { storage } from '../storage/errors.ts'
import { iso } from '../users/model.ts'
import { SHARED_FILES_PAGE, type InfoDTO, type InfoQuery, type PreviewKind, type SharedFile } from './model.ts'
import type { PageTokens } from './page-token.ts'
import { downloadsLeft } from './service.ts'
import type { ShareRow } from './store.ts'

/** The recipient page previews text up to this size (anchor.md §4.4). */
export const TEXT_PREVIEW_MAX = 256 * 1024
const GONE = 'The shared file is no longer available.'

export function basename(key: string): string {
  const k = key.endsWith('/') ? key.slice(0, -1) : key
  return k.slice(k.lastIndexOf('/') + 1)
}

export function previewKind(contentType: string | undefined, size: number): PreviewKind {
  const family = inlineFamily(contentType)
  if (family === null || (family === 'text' && size > TEXT_PREVIEW_MAX)) return 'none'
  return family
}

/** Hides where the bytes live: a missing bucket, backend or object all read as "no longer available". */
export async function neutral<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof AppError && err.code === 'not_found') throw fail('not_found', GONE)
    throw err
  }
}

export function shareTarget(registry: Registry, row: ShareRow): Target {
  try {
    return { bid: row.backend_id, bucket: row.bucket, backend: registry.get(row.backend_id) }
  } catch {
    throw fail('not_found', GONE)
  }
}

export async function describeShare(row: ShareRow, q: InfoQuery, d: { registry: Registry; pageTokens: PageTokens; logger: Logger }): Promise<InfoDTO> {
  const left = downloadsLeft(row)
  const common = {
    code: row.code,
    kind: row.kind,
    name: basename(row.object_key),
    ...(row.expires_at !== null ? { expires_at: iso(row.expires_at)! } : {}),
    has_password: row.password_hash !== null,
    ...(row.max_downloads !== null ? { max_downloads: row.max_downloads } : {}),
    download_count: row.download_count,
    ...(left !== undefined ? { downloads_left: left } : {}),
    disposition: row.disposition,
    raw_url: `/s/${row.code}/raw`,
  }
  const t = shareTarget(d.registry, row)
  if (row.kind === 'object') {
    const info = await neutral(() => storage(t.backend.headObject(t.bucket, row.object_key), d.logger))
    return {
      ...common,
      size: info.size,
      ...(info.contentType ? { content_type: baseType(info.contentType) } : {}),
      ...(info.etag ? { etag: info.etag } : {}),
      ...(info.lastModified ? { last_modified: info.lastModified.toISOString() } : {}),
      preview_kind: previewKind(info.contentType, info.size),
    }
  }
  const token = q.token ? d.pageTokens.open(row.id, q.token) : undefined
  const page = await neutral(() =>
    storage(
      t.backend.listObjects(t.bucket, { prefix: row.object_key, delimiter: '', maxKeys: q.limit ?? SHARED_FILES_PAGE.fallback, ...(token ? { token } : {}) }),
      d.logger,
    ),
  )
  const files: SharedFile[] = page.objects
    .filter((o) => !o.key.endsWith('/'))
    .map((o) => ({ name: o.key.slice(row.object_key.length), size: o.size, ...(o.lastModified ? { last_modified: o.lastModified.toISOString() } : {}) }))
  return {
    ...common,
    preview_kind: 'none',
    files,
    ...(page.isTruncated && page.nextToken ? { next_token: d.pageTokens.seal(row.id, page.nextToken) } : {}),
    zip_url: `/s/${row.code}/raw?zip=1`,
  }
}
