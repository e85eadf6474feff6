// SPDX-License-Identifier: AGPL-3.0-or-later
/** JSON shapes of the grant routes and GET /api/me/access, taken from the server's schemas (see types.ts). */
import type { Static } from '@sinclair/typebox'
import type { AccessSchema, CreateGrantBody, GrantDTO, GrantListDTO, GroupsDTO, MyAccessDTO, MyGrantDTO } from '../../access/model.ts'

export type AccessLevel = Static<typeof AccessSchema>
/** An entry of GET /api/me/access: `backend_id` `*` is every backend, `bucket` '' every bucket, `prefix` '' the whole bucket. */
export type MyGrant = MyGrantDTO
export type MyAccess = MyAccessDTO
/** An entry of GET /api/admin/grants. */
export type Grant = GrantDTO
export type GrantList = Static<typeof GrantListDTO>
export type NewGrant = CreateGrantBody
export type SeenGroup = Static<typeof GroupsDTO>['groups'][number]
