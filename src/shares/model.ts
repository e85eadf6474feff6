// SPDX-License-Identifier: AGPL-3.0-or-later
/** Request and response shapes of share links: the owners' API and the public /s/{code} endpoints. */
import { t } from 'elysia'
import { offsetPaging, pageLimit, type PageSize } from '../http/paging.ts'

/** Share passwords are typed by recipients, not stored by them: short is allowed, empty is not. */
export const SHARE_PASSWORD_MIN = 6

export const Disposition = t.Union([t.Literal('attachment'), t.Literal('inline')])
export const ShareKind = t.Union([t.Literal('object'), t.Literal('folder')])
export const ShareStatus = t.Union([t.Literal('active'), t.Literal('expired'), t.Literal('revoked'), t.Literal('exhausted'), t.Literal('access_revoked')], {
  description: '`access_revoked`: the creator can no longer read what the link points at, so it does not open (until they can again).',
})
export type ShareStatus = typeof ShareStatus.static

export const CreateShareBody = t.Object({
  backend_id: t.String({ minLength: 1, maxLength: 64 }),
  bucket: t.String({ minLength: 1, maxLength: 255 }),
  key: t.String({ minLength: 1, maxLength: 1024, description: 'An object key, or a folder prefix ending in "/" to share every file under it.' }),
  expires_at: t.Optional(t.String({ format: 'date-time', description: 'RFC 3339, in the future; required when `shares.max_lifetime` is set.' })),
  password: t.Optional(t.String({ minLength: SHARE_PASSWORD_MIN, maxLength: 1024, description: 'Recipients must enter it; stored as an argon2id hash.' })),
  max_downloads: t.Optional(t.Integer({ minimum: 1, maximum: 1_000_000, description: 'Downloads (visits, see docs/shares.md) allowed; absent is unlimited.' })),
  disposition: t.Optional(Disposition),
})
export type CreateShareBody = typeof CreateShareBody.static

export const ShareDTO = t.Object({
  id: t.String(),
  code: t.String(),
  url: t.String({ description: '`/s/<code>`, absolute when `server.public_url` is set.' }),
  kind: ShareKind,
  backend_id: t.String(),
  bucket: t.String(),
  key: t.String(),
  created_by: t.String(),
  created_by_username: t.String(),
  created_at: t.String({ format: 'date-time' }),
  expires_at: t.Optional(t.String({ format: 'date-time' })),
  has_password: t.Boolean(),
  max_downloads: t.Optional(t.Integer()),
  download_count: t.Integer(),
  downloads_left: t.Optional(t.Integer()),
  disposition: Disposition,
  revoked: t.Boolean(),
  revoked_at: t.Optional(t.String({ format: 'date-time' })),
  last_accessed_at: t.Optional(t.String({ format: 'date-time' })),
  status: ShareStatus,
})
export type ShareDTO = typeof ShareDTO.static

export const SHARES_PAGE: PageSize = { max: 1000, fallback: 200 }
export const ShareListQuery = t.Object({
  // Not t.UnionEnum: its implicit default would make the parameter look required in the docs.
  scope: t.Optional(t.Union([t.Literal('mine'), t.Literal('all')], { description: '`all` (admins only) lists every user’s shares.' })),
  ...offsetPaging(SHARES_PAGE),
})
export type ShareListQuery = typeof ShareListQuery.static

export const ShareListDTO = t.Object({ shares: t.Array(ShareDTO), total: t.Integer() })

export const SharePolicyDTO = t.Object({
  max_lifetime_seconds: t.Optional(t.Integer({ description: 'Longest allowed lifetime; absent when shares may last forever.' })),
  require_password: t.Boolean(),
  password_min_length: t.Integer(),
})
export type SharePolicyDTO = typeof SharePolicyDTO.static

export const ShareIdParams = t.Object({ id: t.String({ maxLength: 64 }) })

export const CodeParams = t.Object({ code: t.String({ maxLength: 64 }) })

/** Files per page of a folder share. */
export const SHARED_FILES_PAGE: PageSize = { max: 1000, fallback: 200 }
export const InfoQuery = t.Object({
  token: t.Optional(t.String({ maxLength: 4096, description: 'Folder shares: `next_token` of the previous page.' })),
  limit: pageLimit(SHARED_FILES_PAGE),
})
export type InfoQuery = typeof InfoQuery.static

export const PreviewKind = t.Union([t.Literal('image'), t.Literal('video'), t.Literal('audio'), t.Literal('pdf'), t.Literal('text'), t.Literal('none')])
export type PreviewKind = typeof PreviewKind.static

export const SharedFile = t.Object({
  name: t.String({ description: 'Path relative to the shared folder.' }),
  size: t.Integer(),
  last_modified: t.Optional(t.String({ format: 'date-time' })),
})
export type SharedFile = typeof SharedFile.static

/** What the recipient page needs, and nothing about where the bytes live (no backend, bucket or full key). */
export const InfoDTO = t.Object({
  code: t.String(),
  kind: ShareKind,
  name: t.String({ description: 'File name, or the folder’s name.' }),
  size: t.Optional(t.Integer({ description: 'Object shares: bytes.' })),
  content_type: t.Optional(t.String()),
  etag: t.Optional(t.String()),
  last_modified: t.Optional(t.String({ format: 'date-time' })),
  expires_at: t.Optional(t.String({ format: 'date-time' })),
  has_password: t.Boolean(),
  max_downloads: t.Optional(t.Integer()),
  download_count: t.Integer(),
  downloads_left: t.Optional(t.Integer()),
  disposition: Disposition,
  preview_kind: PreviewKind,
  raw_url: t.String(),
  files: t.Optional(t.Array(SharedFile, { description: 'Folder shares: one page of files.' })),
  next_token: t.Optional(t.String()),
  zip_url: t.Optional(t.String()),
})
export type InfoDTO = typeof InfoDTO.static

export const UnlockBody = t.Object({ password: t.String({ maxLength: 1024 }) })

export const RawQuery = t.Object({
  key: t.Optional(t.String({ maxLength: 1024, description: 'Folder shares: the file, relative to the folder.' })),
  zip: t.Optional(t.Literal('1', { description: 'Folder shares: the whole folder as a streamed zip.' })),
  disposition: t.Optional(Disposition),
})
export type RawQuery = typeof RawQuery.static
