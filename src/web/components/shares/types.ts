// SPDX-License-Identifier: AGPL-3.0-or-later
/** Shapes of the share API (src/shares/model.ts) as the web UI reads them, and link helpers. */

export type ShareStatus = 'active' | 'expired' | 'revoked' | 'exhausted' | 'access_revoked'
export type Disposition = 'attachment' | 'inline'

export interface ShareDTO {
  id: string
  code: string
  url: string
  kind: 'object' | 'folder'
  backend_id: string
  bucket: string
  key: string
  created_by: string
  created_by_username: string
  created_at: string
  expires_at?: string
  has_password: boolean
  max_downloads?: number
  download_count: number
  downloads_left?: number
  disposition: Disposition
  revoked: boolean
  revoked_at?: string
  last_accessed_at?: string
  status: ShareStatus
}

export interface ShareList {
  shares: ShareDTO[]
  total: number
}

export interface SharePolicy {
  max_lifetime_seconds?: number
  require_password: boolean
  password_min_length: number
}

export interface CreateShare {
  backend_id: string
  bucket: string
  key: string
  expires_at?: string
  password?: string
  max_downloads?: number
  disposition?: Disposition
}

export type PreviewKind = 'image' | 'video' | 'audio' | 'pdf' | 'text' | 'none'

export interface SharedFile {
  name: string
  size: number
  last_modified?: string
}

/** What /s/{code}/info tells the recipient page. */
export interface ShareInfo {
  code: string
  kind: 'object' | 'folder'
  name: string
  size?: number
  content_type?: string
  last_modified?: string
  expires_at?: string
  has_password: boolean
  max_downloads?: number
  download_count: number
  downloads_left?: number
  disposition: Disposition
  preview_kind: PreviewKind
  raw_url: string
  files?: SharedFile[]
  next_token?: string
  zip_url?: string
}

/** The link as recipients open it: the server's absolute URL when it has a public URL, else this origin's. */
export function absoluteLink(url: string): string {
  return new URL(url, window.location.origin).toString()
}

/** The last segment of a key or folder prefix. */
export function shareName(key: string): string {
  const trimmed = key.endsWith('/') ? key.slice(0, -1) : key
  return trimmed.slice(trimmed.lastIndexOf('/') + 1)
}
