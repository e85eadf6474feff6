// SPDX-License-Identifier: AGPL-3.0-or-later
import { t, type Static } from 'elysia'
import { RoleSchema, type Role } from '../auth/roles.ts'
import { offsetPaging, type PageSize } from '../http/paging.ts'

export type UserRow = {
  id: string
  username: string
  email: string | null
  password_hash: string | null
  role: Role
  identity_source: string
  oidc_issuer: string | null
  oidc_subject: string | null
  enabled: number
  must_change_pw: number
  failed_attempts: number
  locked_until: number | null
  created_at: number
  created_by: string | null
  last_login_at: number | null
  pw_changed_at: number | null
}

export const UserDTO = t.Object({
  id: t.String(),
  username: t.String(),
  email: t.Optional(t.String()),
  role: RoleSchema,
  identity_source: t.String(),
  enabled: t.Boolean(),
  must_change_pw: t.Boolean(),
  failed_attempts: t.Integer(),
  locked_until: t.Optional(t.String({ format: 'date-time' })),
  created_at: t.String({ format: 'date-time' }),
  last_login_at: t.Optional(t.String({ format: 'date-time' })),
})
export type UserDTO = Static<typeof UserDTO>

export const UserListDTO = t.Object({ users: t.Array(UserDTO), total: t.Integer() })

export const Username = t.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]*$',
  description: 'Letters, digits, ".", "_", "@" and "-".',
})
export const Email = t.String({ maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' })
export const Password = t.String({ minLength: 1, maxLength: 1024 })

export const CreateUserBody = t.Object({
  username: Username,
  email: t.Optional(t.Union([Email, t.Literal('')])),
  password: Password,
  role: RoleSchema,
  must_change_pw: t.Optional(t.Boolean()),
})
export const PatchUserBody = t.Object({
  role: t.Optional(RoleSchema),
  enabled: t.Optional(t.Boolean()),
  email: t.Optional(t.Union([Email, t.Literal('')])),
})
export const ResetPasswordBody = t.Object({ new_password: Password, must_change_pw: t.Optional(t.Boolean()) })
export const USERS_PAGE: PageSize = { max: 500, fallback: 100 }
export const ListUsersQuery = t.Object({
  query: t.Optional(t.String({ maxLength: 128 })),
  role: t.Optional(RoleSchema),
  source: t.Optional(t.String({ maxLength: 128 })),
  enabled: t.Optional(t.Union([t.Literal('true'), t.Literal('false')])),
  ...offsetPaging(USERS_PAGE),
})
export type ListUsersQuery = Static<typeof ListUsersQuery>

export function iso(ms: number | null | undefined): string | undefined {
  return ms == null ? undefined : new Date(ms).toISOString()
}

/** `now` is the app's clock: a lock is shown while it is in force by that clock. */
export function toUserDTO(u: UserRow, now: number = Date.now()): UserDTO {
  return {
    id: u.id,
    username: u.username,
    ...(u.email ? { email: u.email } : {}),
    role: u.role,
    identity_source: u.identity_source,
    enabled: u.enabled === 1,
    must_change_pw: u.must_change_pw === 1,
    failed_attempts: u.failed_attempts,
    ...(u.locked_until && u.locked_until > now ? { locked_until: iso(u.locked_until) } : {}),
    created_at: iso(u.created_at)!,
    ...(u.last_login_at ? { last_login_at: iso(u.last_login_at) } : {}),
  }
}
