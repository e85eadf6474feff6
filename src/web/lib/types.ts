// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * JSON shapes of the sign-in, profile and user routes, taken from the server's schemas: a field
 * the server renames or drops fails the type-check here rather than a page. Type-only imports,
 * erased by the build, so no server code reaches the bundle.
 */
import type { Static } from '@sinclair/typebox'
import type { AuthConfigDTO, LoginResponse, MeDTO } from '../../auth/model.ts'
import type { Role } from '../../auth/roles.ts'
import type { CreateUserBody, PatchUserBody, UserDTO, UserListDTO } from '../../users/model.ts'

export type { Role, UserDTO }

/** Every role, in the order forms offer them; `satisfies` fails the type-check when the server's roles change. */
export const ROLES = Object.keys({ admin: 0, user: 0, readonly: 0 } satisfies Record<Role, 0>) as Role[]

/** `local`, `static`, or `oidc:<issuer host>`. */
export type IdentitySource = UserDTO['identity_source']

/** GET /api/auth/config */
export type AuthConfig = Static<typeof AuthConfigDTO>
/** POST /auth/login/local */
export type LoginResult = Static<typeof LoginResponse>
/** GET /api/me */
export type Me = Static<typeof MeDTO>
/** GET /api/admin/users */
export type UserList = Static<typeof UserListDTO>
export type CreateUserInput = Static<typeof CreateUserBody>
export type UpdateUserInput = Static<typeof PatchUserBody>
