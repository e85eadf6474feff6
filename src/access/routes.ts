// SPDX-License-Identifier: AGPL-3.0-or-later
/** Grant administration (admins) and what the caller may touch (everyone signed in). */
import { Elysia } from 'elysia'
import type { Guard } from '../auth/guard.ts'
import { CreateGrantBody, GrantDTO, GrantIdParams, GrantListDTO, GrantListQuery, GroupsDTO, MyAccessDTO, PatchGrantBody } from './model.ts'
import type { AccessService } from './service.ts'

const tags = ['admin: access']
const SCOPE =
  'A grant gives a user, or everyone whose latest single sign-on carried a group, `read` or `read-write` on a backend (`bucket` empty), a bucket (`prefix` empty) or a folder inside a bucket (`prefix` ending in "/"). `backend_id` `*` is every backend. Access is the union of a user\'s own grants, their groups\' and `access.default`; admins have everything; readonly accounts never exceed `read`.'

export function accessRoutes(d: { guard: Guard; access: AccessService }) {
  return new Elysia()
    .use(d.guard)
    .get('/api/me/access', ({ actor }) => d.access.mine(actor), {
      access: 'any',
      response: { 200: MyAccessDTO },
      detail: { tags: ['me'], summary: "What you may touch: your grants, your groups' and the default", description: SCOPE },
    })
    .get('/api/admin/grants', ({ query }) => d.access.list(query), {
      access: 'admin',
      query: GrantListQuery,
      response: { 200: GrantListDTO },
      detail: { tags, summary: 'Grants, filtered by user, group, backend or bucket', description: SCOPE },
    })
    .post(
      '/api/admin/grants',
      ({ actor, body, set, origin }) => {
        set.status = 201
        return d.access.create(actor.id, body, origin)
      },
      {
        access: 'admin',
        body: CreateGrantBody,
        response: { 201: GrantDTO },
        detail: { tags, summary: 'Grant a user or a group access (409 grant_exists when that exact grant is there)', description: SCOPE },
      },
    )
    .patch('/api/admin/grants/:id', ({ actor, params, body, origin }) => d.access.update(actor.id, params.id, body.access, origin), {
      access: 'admin',
      params: GrantIdParams,
      body: PatchGrantBody,
      response: { 200: GrantDTO },
      detail: { tags, summary: 'Change a grant between read and read-write (effective at once)' },
    })
    .delete(
      '/api/admin/grants/:id',
      async ({ params, set, origin }) => {
        await d.access.remove(params.id, origin)
        set.status = 204
      },
      {
        access: 'admin',
        params: GrantIdParams,
        detail: { tags, summary: 'Revoke a grant (effective at once: pages, share links and S3 keys of those it covered)' },
      },
    )
    .get('/api/admin/groups', () => d.access.groups(), {
      access: 'admin',
      response: { 200: GroupsDTO },
      detail: { tags, summary: 'Groups seen at single sign-on, with how many accounts carried each at their latest sign-in' },
    })
}
