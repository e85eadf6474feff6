// SPDX-License-Identifier: AGPL-3.0-or-later
import type { UserRow } from '../users/model.ts'
import type { UserStore } from '../users/store.ts'
import type { Role } from './roles.ts'
import type { Session } from './sessions.ts'

/** The signed-in principal a handler acts for. */
export type Actor = {
  id: string
  username: string
  role: Role
  identitySource: string
  email?: string
  mustChangePw: boolean
  sessionId: string
  csrf: string
}

export const STATIC_USER_ID = 'static'

export function actorFromUser(u: UserRow, s: Session): Actor {
  return {
    id: u.id,
    username: u.username,
    role: u.role,
    identitySource: u.identity_source,
    ...(u.email ? { email: u.email } : {}),
    mustChangePw: u.must_change_pw === 1,
    sessionId: s.id,
    csrf: s.csrf_token,
  }
}

/** Re-reads the user on every request so disabling or demoting someone takes effect at once. */
export async function resolveActor(s: Session, users: UserStore, staticUsername: string | undefined): Promise<Actor | null> {
  if (s.user_id === STATIC_USER_ID) {
    if (!staticUsername) return null
    return { id: STATIC_USER_ID, username: staticUsername, role: 'admin', identitySource: 'static', mustChangePw: false, sessionId: s.id, csrf: s.csrf_token }
  }
  const u = await users.get(s.user_id)
  if (!u || u.enabled !== 1) return null
  return actorFromUser(u, s)
}

export const canWrite = (a: Actor): boolean => a.role === 'admin' || a.role === 'user'
