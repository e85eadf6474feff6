// SPDX-License-Identifier: AGPL-3.0-or-later
import { t } from 'elysia'
import { AuthMode } from '../config/schema.ts'
import { RoleSchema } from './roles.ts'

export const LoginBody = t.Object({ username: t.String({ minLength: 1, maxLength: 256 }), password: t.String({ maxLength: 4096 }) })
export const LoginResponse = t.Object({ status: t.Literal('ok'), source: t.Union([t.Literal('local'), t.Literal('static')]), must_change_pw: t.Boolean() })
export const StatusOk = t.Object({ status: t.Literal('ok') })
export const ChangePasswordBody = t.Object({ current_password: t.String({ maxLength: 4096 }), new_password: t.String({ minLength: 1, maxLength: 1024 }) })
export const MeDTO = t.Object({
  id: t.String(),
  username: t.String(),
  role: RoleSchema,
  identity_source: t.String(),
  must_change_pw: t.Boolean(),
  email: t.Optional(t.String()),
})
export const AuthConfigDTO = t.Object({
  modes: t.Array(AuthMode),
  allow_self_registration: t.Boolean(),
  oidc: t.Optional(t.Object({ start_url: t.String(), available: t.Boolean(), display_name: t.String(), error: t.Optional(t.String()) })),
  static_admin: t.Boolean(),
  password_min_length: t.Integer({ description: 'The shortest password accepted, in characters (a form can say so before the first try).' }),
})
