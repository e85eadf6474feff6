// SPDX-License-Identifier: AGPL-3.0-or-later
/** Request and response shapes of the grant routes and `GET /api/me/access`. */
import { t, type Static } from 'elysia'
import { offsetPaging, type PageSize } from '../http/paging.ts'
import { RoleSchema } from '../auth/roles.ts'

// Literal unions, not t.UnionEnum: UnionEnum's built-in default would fill absent fields and filters.
export const AccessSchema = t.Union([t.Literal('read'), t.Literal('read-write')], {
  description: '`read`: list, download, share and search. `read-write`: also upload, change and delete.',
})
export const SubjectType = t.Union([t.Literal('user'), t.Literal('group')])
export const Origin = t.Union([t.Literal('admin'), t.Literal('creator'), t.Literal('upgrade')], {
  description:
    '`admin`: made by an admin. `creator`: the user created the bucket. `upgrade`: carried over from before grants existed (all backends, what the account could already do).',
})

const BackendId = t.String({
  minLength: 1,
  maxLength: 64,
  description: 'A backend id, or `*` for every backend (present and future, config-file ones included).',
})
const Bucket = t.String({ maxLength: 63, description: 'A bucket name; empty or absent: every bucket of the backend.' })
const Prefix = t.String({ maxLength: 1024, description: 'A folder inside the bucket, ending in "/"; empty or absent: the whole bucket.' })

export const GrantDTO = t.Object({
  id: t.String(),
  subject_type: SubjectType,
  subject: t.String({ description: 'The user id, or the group name as the identity provider sends it.' }),
  subject_name: t.Optional(t.String({ description: 'The username, for user grants.' })),
  backend_id: t.String(),
  bucket: t.String({ description: 'Empty: every bucket of the backend.' }),
  prefix: t.String({ description: 'Empty: the whole bucket.' }),
  access: AccessSchema,
  origin: Origin,
  created_at: t.String({ format: 'date-time' }),
  created_by: t.Optional(t.String()),
  updated_at: t.String({ format: 'date-time' }),
  updated_by: t.Optional(t.String()),
})
export type GrantDTO = Static<typeof GrantDTO>

export const CreateGrantBody = t.Object({
  user_id: t.Optional(t.String({ minLength: 1, maxLength: 64, description: 'Grant to this user (give `user_id` or `group`, not both).' })),
  group: t.Optional(t.String({ minLength: 1, maxLength: 256, description: 'Grant to everyone whose latest single sign-on carried this group.' })),
  backend_id: BackendId,
  bucket: t.Optional(Bucket),
  prefix: t.Optional(Prefix),
  access: AccessSchema,
})
export type CreateGrantBody = Static<typeof CreateGrantBody>

export const PatchGrantBody = t.Object({ access: AccessSchema })

export const GRANTS_PAGE: PageSize = { max: 1000, fallback: 200 }
export const GrantListQuery = t.Object({
  user_id: t.Optional(t.String({ maxLength: 64, description: 'Grants made to this user.' })),
  group: t.Optional(t.String({ maxLength: 256, description: 'Grants made to this group.' })),
  backend_id: t.Optional(t.String({ maxLength: 64, description: 'Grants on this backend (`*`: grants on every backend).' })),
  bucket: t.Optional(t.String({ maxLength: 63, description: 'With `backend_id`: grants on this bucket.' })),
  with_groups: t.Optional(
    t.Union([t.Literal('true'), t.Literal('false')], {
      description: 'With `user_id`: also the grants of the groups the user was seen with at the latest sign-on.',
    }),
  ),
  with_broader: t.Optional(
    t.Union([t.Literal('true'), t.Literal('false')], {
      description: 'With `backend_id`: also grants on every backend; with `bucket`: also grants on the whole backend.',
    }),
  ),
  ...offsetPaging(GRANTS_PAGE),
})
export type GrantListQuery = Static<typeof GrantListQuery>

export const GrantListDTO = t.Object({
  grants: t.Array(GrantDTO),
  total: t.Integer(),
  groups: t.Optional(t.Array(t.String(), { description: "With `user_id`: the groups of the user's latest sign-on." })),
})

export const GrantIdParams = t.Object({ id: t.String({ maxLength: 64 }) })

export const GroupsDTO = t.Object({
  groups: t.Array(t.Object({ name: t.String(), users: t.Integer(), last_seen_at: t.String({ format: 'date-time' }) }), {
    description: 'Groups seen at sign-in, by name.',
  }),
})

export const MyGrantDTO = t.Object({
  backend_id: t.String({ description: '`*`: every backend.' }),
  bucket: t.String({ description: 'Empty: every bucket.' }),
  prefix: t.String({ description: 'Empty: the whole bucket.' }),
  access: AccessSchema,
  via: t.Union([t.Literal('user'), t.Literal('group'), t.Literal('default')], {
    description: '`user`: granted to you; `group`: to one of your groups; `default`: `access.default` of the config.',
  }),
  group: t.Optional(t.String()),
})
export type MyGrantDTO = Static<typeof MyGrantDTO>

export const MyAccessDTO = t.Object({
  role: RoleSchema,
  all: t.Boolean({ description: 'True for admins: everything, whatever the grants say.' }),
  grants: t.Array(MyGrantDTO, { description: 'What you may touch; `access` is already capped at `read` for readonly accounts.' }),
})
export type MyAccessDTO = Static<typeof MyAccessDTO>
