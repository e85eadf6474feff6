// SPDX-License-Identifier: AGPL-3.0-or-later
/** JSON shapes of the grant routes and GET /api/me/access, names exactly as on the wire. */
import type { Role } from './types.ts'

export type AccessLevel = 'read' | 'read-write'

/** An entry of GET /api/me/access: `backend_id` `*` is every backend, `bucket` '' every bucket, `prefix` '' the whole bucket. */
export interface MyGrant {
  backend_id: string
  bucket: string
  prefix: string
  access: AccessLevel
  via: 'user' | 'group' | 'default'
  group?: string
}

export interface MyAccess {
  role: Role
  all: boolean
  grants: MyGrant[]
}

/** An entry of GET /api/admin/grants. */
export interface Grant {
  id: string
  subject_type: 'user' | 'group'
  subject: string
  subject_name?: string
  backend_id: string
  bucket: string
  prefix: string
  access: AccessLevel
  origin: 'admin' | 'creator' | 'upgrade'
  created_at: string
  created_by?: string
  updated_at: string
}

export interface GrantList {
  grants: Grant[]
  total: number
  groups?: string[]
}

export interface NewGrant {
  user_id?: string
  group?: string
  backend_id: string
  bucket?: string
  prefix?: string
  access: AccessLevel
}

export interface SeenGroup {
  name: string
  users: number
  last_seen_at: string
}
