// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia, t } from 'elysia'
import type { Guard } from '../auth/guard.ts'
import { CreateUserBody, ListUsersQuery, PatchUserBody, ResetPasswordBody, UserDTO, UserListDTO } from './model.ts'
import type { UserService } from './service.ts'

const IdParams = t.Object({ id: t.String({ maxLength: 64 }) })
const tags = ['admin: users']

export function userRoutes(d: { guard: Guard; users: UserService }) {
  return new Elysia({ prefix: '/api/admin/users' })
    .use(d.guard)
    .get('', ({ query }) => d.users.list(query), {
      access: 'admin',
      query: ListUsersQuery,
      response: { 200: UserListDTO },
      detail: { tags, summary: 'List users (filters: query, role, source, enabled)' },
    })
    .post(
      '',
      async ({ actor, body, set, origin }) => {
        set.status = 201
        return d.users.create(actor, body, origin)
      },
      { access: 'admin', body: CreateUserBody, response: { 201: UserDTO }, detail: { tags, summary: 'Create a local user' } },
    )
    .get('/:id', ({ params }) => d.users.get(params.id), {
      access: 'admin',
      params: IdParams,
      response: { 200: UserDTO },
      detail: { tags, summary: 'One user' },
    })
    .patch('/:id', ({ actor, params, body, origin }) => d.users.patch(actor, params.id, body, origin), {
      access: 'admin',
      params: IdParams,
      body: PatchUserBody,
      response: { 200: UserDTO },
      detail: { tags, summary: 'Change role, enabled or email' },
    })
    .post(
      '/:id/reset-password',
      async ({ actor, params, body, origin }) => {
        await d.users.resetPassword(actor, params.id, body, origin)
        return { status: 'ok' as const }
      },
      {
        access: 'admin',
        params: IdParams,
        body: ResetPasswordBody,
        response: { 200: t.Object({ status: t.Literal('ok') }) },
        detail: { tags, summary: "Set a new password (ends the user's sessions)" },
      },
    )
    .post('/:id/unlock', ({ params, origin }) => d.users.unlock(params.id, origin), {
      access: 'admin',
      params: IdParams,
      response: { 200: UserDTO },
      detail: { tags, summary: 'Clear a lockout' },
    })
    .delete(
      '/:id',
      async ({ actor, params, set, origin }) => {
        await d.users.delete(actor, params.id, origin)
        set.status = 204
      },
      { access: 'admin', params: IdParams, detail: { tags, summary: 'Delete a user (ends their sessions)' } },
    )
}
