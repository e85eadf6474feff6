// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Shapes of the S3 credential and anonymous-binding API, taken from the server's schemas
 * (src/credentials/model.ts; see lib/types.ts), and helpers the credential pages share.
 */
import type {
  AdminCreateCredentialBody,
  AnonymousBody,
  AnonymousDTO as ServerAnonymous,
  BucketAccess,
  BucketScope,
  CredentialDTO as ServerCredential,
  ExactScope,
  MergedAnonymousDTO,
  MergedCredentialDTO,
  PatchCredentialBody,
  PrefixScope,
} from '../../../credentials/model.ts'
import { ApiError } from '../../lib/api.ts'

export type { BucketAccess, BucketScope, ExactScope, PrefixScope }

/** Access levels in increasing order; `owner` only an admin grants. `satisfies` fails the type-check when the server's levels change. */
export const ACCESS_LEVELS = Object.keys({ read: 0, 'read-write': 0, owner: 0 } satisfies Record<BucketAccess, 0>) as BucketAccess[]

export function isPrefixScope(scope: BucketScope): scope is PrefixScope {
  return 'prefix' in scope
}

/** The same rule the server applies (src/credentials/scope.ts), so a bad prefix is caught before saving. */
export function prefixProblem(prefix: string): 'charset' | 'dots' | undefined {
  if (!/^[a-z0-9][a-z0-9.-]{0,61}$/.test(prefix)) return 'charset'
  if (prefix.includes('..')) return 'dots'
  return undefined
}

/** `source` only in the admin's merged view. */
export type CredentialDTO = ServerCredential & Partial<Pick<MergedCredentialDTO, 'source'>>
export type CredentialList = { credentials: CredentialDTO[] }
export type CreateCredential = AdminCreateCredentialBody
export type PatchCredential = PatchCredentialBody
export type AnonymousDTO = ServerAnonymous & Partial<Pick<MergedAnonymousDTO, 'source'>>
export type AnonymousList = { bindings: AnonymousDTO[] }
export type AnonymousInput = AnonymousBody

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
