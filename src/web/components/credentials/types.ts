// SPDX-License-Identifier: AGPL-3.0-or-later
/** Shapes of the S3 credential and anonymous-binding API (src/credentials/model.ts) as the web UI reads them. */
import { ApiError } from '../../lib/api.ts'

export type BucketAccess = 'read' | 'read-write' | 'owner'

/** Access levels in increasing order; `owner` only an admin grants. */
export const ACCESS_LEVELS: readonly BucketAccess[] = ['read', 'read-write', 'owner']

export interface ExactScope {
  bucket: string
  access: BucketAccess
}

/** Every bucket whose name starts with `prefix`, existing or made later (granted by admins). */
export interface PrefixScope {
  prefix: string
  access: BucketAccess
}

export type BucketScope = ExactScope | PrefixScope

export function isPrefixScope(scope: BucketScope): scope is PrefixScope {
  return 'prefix' in scope
}

/** The same rule the server applies (src/credentials/scope.ts), so a bad prefix is caught before saving. */
export function prefixProblem(prefix: string): 'charset' | 'dots' | undefined {
  if (!/^[a-z0-9][a-z0-9.-]{0,61}$/.test(prefix)) return 'charset'
  if (prefix.includes('..')) return 'dots'
  return undefined
}

export interface CredentialDTO {
  access_key: string
  /** Only in the answer to the create call. */
  secret_key?: string
  backend_id: string
  buckets: BucketScope[]
  user_id?: string
  description: string
  enabled: boolean
  expires_at?: string
  expired: boolean
  created_at: string
  created_by?: string
  updated_at: string
  updated_by?: string
  endpoint_url: string
  bucket_urls: Record<string, string>
  /** Only in the admin's merged view. */
  source?: string
}

export interface CredentialList {
  credentials: CredentialDTO[]
}

export interface CreateCredential {
  backend_id: string
  buckets: BucketScope[]
  description?: string
  expires_at?: string
  /** Admin route only: the owner. */
  user_id?: string
}

export interface PatchCredential {
  buckets?: BucketScope[]
  description?: string
  enabled?: boolean
  /** A new expiry; "" removes it. */
  expires_at?: string
}

export interface AnonymousDTO {
  backend_id: string
  bucket: string
  mode: 'ReadOnly'
  per_source_ip_rps: number
  effective_rps: number
  url: string
  created_at: string
  created_by?: string
  updated_at: string
  source?: string
}

export interface AnonymousList {
  bindings: AnonymousDTO[]
}

export interface AnonymousInput {
  backend_id: string
  bucket: string
  per_source_ip_rps: number
}

export type CredentialStatus = 'active' | 'disabled' | 'expired'

export function statusOf(c: CredentialDTO): CredentialStatus {
  if (c.expired) return 'expired'
  return c.enabled ? 'active' : 'disabled'
}

/** Which API a credential is managed through: the signed-in user's own, or every credential (admin). */
export type CredentialApi = 'me' | 'admin'

export function credentialsPath(which: CredentialApi, accessKey?: string): string {
  const base = which === 'me' ? '/api/me/s3-credentials' : '/api/admin/s3-credentials'
  return accessKey === undefined ? base : `${base}/${encodeURIComponent(accessKey)}`
}

/** The server answers 503 `s3_proxy_disabled` on every credential route while `s3_proxy.enabled` is false. */
export function isProxyDisabled(err: unknown): boolean {
  return err instanceof ApiError && err.code === 's3_proxy_disabled'
}
