// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia, t } from 'elysia'
import type { Guard } from '../auth/guard.ts'
import type { RequestContext } from '../http/context.ts'
import { auditOrigin } from '../http/origin.ts'
import { CreateUserBody, ListUsersQuery, PatchUserBody, ResetPasswordBody, UserDTO, UserListDTO } from './model.ts'
import type { UserService } from './service.ts'

const IdParams = t.Object({ id: t.String({ maxLength: 64 }) })
const tags = ['admin: users']

export function userRoutes(d: { guard: Guard; context: RequestContext; users: UserService }) {
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
      async ({ actor, body, request, set }) => {
        set.status = 201
        return d.users.create(actor, body, auditOrigin(d.context, request, actor))
      },
      { access: 'admin', body: CreateUserBody, response: { 201: UserDTO }, detail: { tags, summary: 'Create a local user' } },
    )
    .get('/:id', ({ params }) => d.users.get(params.id), {
      access: 'admin',
      params: IdParams,
      response: { 200: UserDTO },
      detail: { tags, summary: 'One user' },
    })
    .patch('/:id', ({ actor, params, body, request }) => d.users.patch(actor, params.id, body, auditOrigin(d.context, request, actor)), {
      access: 'admin',
      params: IdParams,
      body: PatchUserBody,
      response: { 200: UserDTO },
      detail: { tags, summary: 'Change role, enabled or email' },
    })
    .post(
      '/:id/reset-password',
      async ({ actor, params, body, request }) => {
        await d.users.resetPassword(actor, params.id, body, auditOrigin(d.context, request, actor))
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
    .post('/:id/unlock', ({ params, request, actor }) => d.users.unlock(params.id, auditOrigin(d.context, request, actor)), {
      access: 'admin',
      params: IdParams,
      response: { 200: UserDTO },
      detail: { tags, summary: 'Clear a lockout' },
    })
    .delete(
      '/:id',
      async ({ actor, params, request, set }) => {
        await d.users.delete(actor, params.id, auditOrigin(d.context, request, actor))
        set.status = 204
      },
      { access: 'admin', params: IdParams, detail: { tags, summary: 'Delete a user (ends their sessions)' } },
    )
}
