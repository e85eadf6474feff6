// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The roles, most privileged first: the one definition the config schema, the API models and
 * (as a type) the web UI take theirs from. Plain TypeBox rather than Elysia's `t`, so the config
 * schema stays free of the web framework.
 *
 * Literal unions, never `t.UnionEnum`: UnionEnum carries a `default` (its first value) that
 * Elysia fills into absent fields — an omitted `role` would become 'admin', and an absent
 * `?role=` filter would list only admins.
 */
import { Type, type Static } from '@sinclair/typebox'

// A literal tuple: Elysia's response typing reads a union built by mapping an array as `never`.
export const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('readonly')])
export type Role = Static<typeof RoleSchema>
export const ROLES: readonly Role[] = RoleSchema.anyOf.map((literal) => literal.const)
