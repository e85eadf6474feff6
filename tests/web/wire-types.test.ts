// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The web UI's wire types are the server's schemas, not restatements of them. The type-check
 * (`bun run typecheck`) holds each one equal to the server's `Static` type, so a server field that
 * is renamed, dropped or retyped fails there instead of on a page; the test proper checks the lists
 * the UI keeps as values.
 */
import type { Static } from '@sinclair/typebox'
import { expect, test } from 'bun:test'
import type { GrantDTO, MyAccessDTO } from '../../src/access/model.ts'
import type { AuditEventDTO } from '../../src/audit/model.ts'
import type { AuthConfigDTO, LoginResponse, MeDTO } from '../../src/auth/model.ts'
import { ROLES as SERVER_ROLES, type RoleSchema } from '../../src/auth/roles.ts'
import type { AdminBackendDTO, BackendStatusDTO, CapabilitiesDTO } from '../../src/backends/model.ts'
import type { CorsRule as CorsRuleSchema, LifecycleRule as LifecycleRuleSchema } from '../../src/bucket-settings/model.ts'
import type { CredentialDTO as CredentialSchema } from '../../src/credentials/model.ts'
import type { DashboardDTO } from '../../src/dashboard/model.ts'
import type { ListDTO, ObjectDTO } from '../../src/objects/model.ts'
import type { QuotaDTO } from '../../src/quotas/model.ts'
import type { SearchDTO } from '../../src/search/model.ts'
import type { InfoDTO, ShareDTO as ShareSchema } from '../../src/shares/model.ts'
import type { UserDTO as UserSchema, UserListDTO } from '../../src/users/model.ts'
import type { CredentialDTO } from '../../src/web/components/credentials/types.ts'
import type { ShareDTO, ShareInfo } from '../../src/web/components/shares/types.ts'
import type { Grant, MyAccess } from '../../src/web/lib/access-types.ts'
import type { AdminBackend, AuditEvent, Dashboard } from '../../src/web/lib/admin-types.ts'
import type { BackendStatus, Capabilities, CorsRule, LifecycleRule, ObjectInfo, ObjectList, Quota, SearchResult } from '../../src/web/lib/storage-types.ts'
import { ROLES, type AuthConfig, type LoginResult, type Me, type Role, type UserDTO, type UserList } from '../../src/web/lib/types.ts'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type Same<A, B> = Equal<A, B> extends true ? true : ['the UI type differs from the server schema', A, B]

export type WireTypes = [
  Same<Capabilities, Static<typeof CapabilitiesDTO>>,
  Same<BackendStatus, Static<typeof BackendStatusDTO>>,
  Same<Role, Static<typeof RoleSchema>>,
  Same<LifecycleRule, Static<typeof LifecycleRuleSchema>>,
  Same<CorsRule, Static<typeof CorsRuleSchema>>,
  Same<AuthConfig, Static<typeof AuthConfigDTO>>,
  Same<LoginResult, Static<typeof LoginResponse>>,
  Same<Me, Static<typeof MeDTO>>,
  Same<UserDTO, Static<typeof UserSchema>>,
  Same<UserList, Static<typeof UserListDTO>>,
  Same<Grant, Static<typeof GrantDTO>>,
  Same<MyAccess, Static<typeof MyAccessDTO>>,
  Same<AdminBackend, Static<typeof AdminBackendDTO>>,
  Same<AuditEvent, Static<typeof AuditEventDTO>>,
  Same<Dashboard, Static<typeof DashboardDTO>>,
  Same<ObjectInfo, Static<typeof ObjectDTO>>,
  Same<ObjectList, Static<typeof ListDTO>>,
  Same<Quota, Static<typeof QuotaDTO>>,
  Same<SearchResult, Static<typeof SearchDTO>>,
  Same<ShareDTO, Static<typeof ShareSchema>>,
  Same<ShareInfo, Static<typeof InfoDTO>>,
  Same<Omit<CredentialDTO, 'source'>, Static<typeof CredentialSchema>>,
]
// Each entry must be `true`; a mismatch shows both types in the error.
export const wireTypes: WireTypes = [
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
]

// @ts-expect-error the server sends no such capability, so the UI cannot read one
export type NoSuchCapability = Capabilities['no_such_capability']

test('the roles the UI offers are the server’s, in its order', () => {
  expect(ROLES).toEqual([...SERVER_ROLES])
})
