// SPDX-License-Identifier: AGPL-3.0-or-later
/** JSON shapes of the dashboard API as the SPA uses them (field names exactly as on the wire). */

export const ROLES = ['admin', 'user', 'readonly'] as const
export type Role = (typeof ROLES)[number]

/** `local`, `static`, or `oidc:<issuer host>`. */
export type IdentitySource = string

export type AuthMode = 'local' | 'oidc' | 'static'

/** GET /api/auth/config */
export interface AuthConfig {
  modes: AuthMode[]
  allow_self_registration: boolean
  oidc?: { start_url: string; available: boolean; display_name: string; error?: string }
  password_min_length: number
}

/** POST /auth/login/local */
export interface LoginResult {
  status: 'ok'
  source: 'local' | 'static'
  must_change_pw: boolean
}

/** GET /api/me */
export interface Me {
  id: string
  username: string
  role: Role
  identity_source: IdentitySource
  must_change_pw: boolean
  email?: string
}

/** An entry of GET /api/admin/users; timestamps are RFC 3339 strings. */
export interface UserDTO {
  id: string
  username: string
  email?: string
  role: Role
  identity_source: IdentitySource
  enabled: boolean
  must_change_pw: boolean
  failed_attempts: number
  locked_until?: string
  created_at: string
  last_login_at?: string
}

export interface UserList {
  users: UserDTO[]
  total: number
}

export interface CreateUserInput {
  username: string
  email?: string
  password: string
  role: Role
  must_change_pw?: boolean
}

export interface UpdateUserInput {
  role?: Role
  enabled?: boolean
  email?: string
}
