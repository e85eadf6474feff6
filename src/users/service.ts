// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * User administration and self-service password changes. Guards: the last
 * enabled admin cannot be demoted, disabled or deleted (`last_admin`); admins
 * cannot change their own role or disable themselves (`self_role_change`) nor
 * delete themselves (`self_delete`). Any credential or status change ends the
 * user's other sessions.
 */
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { Actor } from '../auth/actor.ts'
import type { Passwords } from '../auth/password.ts'
import type { Sessions } from '../auth/sessions.ts'
import { fail } from '../http/errors.ts'
import { ulid } from '../lib/ids.ts'
import type { Role } from '../auth/roles.ts'
import { toUserDTO, USERS_PAGE, type ListUsersQuery, type UserDTO, type UserRow } from './model.ts'
import type { UserStore } from './store.ts'

export type UserService = ReturnType<typeof createUserService>

export function createUserService(d: {
  users: UserStore
  sessions: Sessions
  passwords: Passwords
  audit: AuditRecorder
  preventReuse: boolean
  onUnlock?: (username: string) => void
  /** Before an account is deleted: its grants go with it, each recorded. */
  onDelete?: (userId: string, origin: AuditOrigin) => void
  now?: () => number
}) {
  const now = d.now ?? Date.now

  function mustGet(id: string): UserRow {
    const u = d.users.get(id)
    if (!u) throw fail('not_found', 'No such user.')
    return u
  }

  function checkEmailFree(email: string | null, exceptId?: string): void {
    if (!email) return
    const other = d.users.getByEmail(email)
    if (other && other.id !== exceptId) throw fail('email_taken')
  }

  function wouldRemoveLastAdmin(u: UserRow, next: { role?: Role; enabled?: boolean; deleted?: boolean }): boolean {
    if (u.role !== 'admin' || u.enabled !== 1) return false
    const stillAdmin = !next.deleted && (next.role ?? u.role) === 'admin' && (next.enabled ?? true)
    return !stillAdmin && d.users.countEnabledAdmins() <= 1
  }

  const audit = (origin: AuditOrigin, action: string, target: UserRow | { id: string; username: string }, detail?: Record<string, unknown>) =>
    d.audit.record({ ...origin, action, detail: { target_id: target.id, target_username: target.username, ...detail } })

  return {
    list(q: ListUsersQuery): { users: UserDTO[]; total: number } {
      const { rows, total } = d.users.list({
        query: q.query || undefined,
        role: q.role,
        source: q.source || undefined,
        enabled: q.enabled === undefined ? undefined : q.enabled === 'true',
        limit: q.limit ?? USERS_PAGE.fallback,
        offset: q.offset ?? 0,
      })
      const t = now()
      return { users: rows.map((u) => toUserDTO(u, t)), total }
    },

    get: (id: string): UserDTO => toUserDTO(mustGet(id), now()),

    async create(
      actor: Actor,
      body: { username: string; email?: string; password: string; role: Role; must_change_pw?: boolean },
      origin: AuditOrigin,
    ): Promise<UserDTO> {
      if (d.users.getByUsername(body.username)) throw fail('username_taken')
      const email = body.email || null
      checkEmailFree(email)
      d.passwords.checkPolicy(body.password, { username: body.username })
      const hash = await d.passwords.hash(body.password)
      // Checked again after the slow hash: a concurrent create may have taken the name or email meanwhile.
      if (d.users.getByUsername(body.username)) throw fail('username_taken')
      checkEmailFree(email)
      const id = ulid()
      d.users.insert({
        id,
        username: body.username,
        email,
        passwordHash: hash,
        role: body.role,
        identitySource: 'local',
        mustChangePw: body.must_change_pw ?? true,
        createdBy: actor.id,
        now: now(),
      })
      const u = mustGet(id)
      audit(origin, 'user.create', u, { role: u.role })
      return toUserDTO(u, now())
    },

    patch(actor: Actor, id: string, body: { role?: Role; enabled?: boolean; email?: string }, origin: AuditOrigin): UserDTO {
      const u = mustGet(id)
      if (id === actor.id && ((body.role && body.role !== u.role) || body.enabled === false))
        throw fail('self_role_change', 'You cannot change your own role or disable yourself.')
      if (wouldRemoveLastAdmin(u, { role: body.role, enabled: body.enabled })) throw fail('last_admin')
      const fields: Parameters<UserStore['update']>[1] = {}
      if (body.role && body.role !== u.role) fields.role = body.role
      if (body.enabled !== undefined && (body.enabled ? 1 : 0) !== u.enabled) fields.enabled = body.enabled ? 1 : 0
      if (body.email !== undefined && (body.email || null) !== u.email) {
        checkEmailFree(body.email || null, id)
        fields.email = body.email || null
      }
      d.users.update(id, fields)
      if (fields.enabled === 0) d.sessions.revokeUser(id)
      if (Object.keys(fields).length)
        audit(origin, 'user.update', u, {
          fields: Object.keys(fields),
          ...(fields.role ? { role: fields.role } : {}),
          ...(fields.enabled !== undefined ? { enabled: fields.enabled === 1 } : {}),
        })
      return toUserDTO(mustGet(id), now())
    },

    async resetPassword(actor: Actor, id: string, body: { new_password: string; must_change_pw?: boolean }, origin: AuditOrigin): Promise<void> {
      const u = mustGet(id)
      if (!u.identity_source.startsWith('local')) throw fail('not_local')
      d.passwords.checkPolicy(body.new_password, { username: u.username })
      const hash = await d.passwords.hash(body.new_password)
      d.users.setPassword(id, hash, body.must_change_pw ?? id !== actor.id, now())
      d.sessions.revokeUser(id, id === actor.id ? actor.sessionId : undefined)
      d.onUnlock?.(u.username)
      audit(origin, 'user.reset_password', u)
    },

    unlock(id: string, origin: AuditOrigin): UserDTO {
      const u = mustGet(id)
      d.users.unlock(id)
      d.onUnlock?.(u.username)
      audit(origin, 'user.unlock', u)
      return toUserDTO(mustGet(id), now())
    },

    delete(actor: Actor, id: string, origin: AuditOrigin): void {
      const u = mustGet(id)
      if (id === actor.id) throw fail('self_delete')
      if (wouldRemoveLastAdmin(u, { deleted: true })) throw fail('last_admin')
      d.onDelete?.(id, origin)
      d.users.delete(id)
      d.sessions.revokeUser(id)
      audit(origin, 'user.delete', u)
    },

    async changeOwnPassword(actor: Actor, current: string, next: string, origin: AuditOrigin): Promise<void> {
      if (actor.identitySource === 'static') throw fail('static_user')
      const u = mustGet(actor.id)
      if (!u.password_hash || !u.identity_source.startsWith('local')) throw fail('not_local')
      if (!(await d.passwords.verify(current, u.password_hash))) {
        d.audit.record({ ...origin, action: 'auth.password_change', status: 'denied', detail: { reason: 'wrong_current' } })
        throw fail('password_mismatch', 'The current password is wrong.')
      }
      d.passwords.checkPolicy(next, { username: u.username })
      if (d.preventReuse && (await d.passwords.verify(next, u.password_hash))) throw fail('password_reused')
      d.users.setPassword(u.id, await d.passwords.hash(next), false, now())
      d.sessions.revokeUser(u.id, actor.sessionId)
      d.audit.record({ ...origin, action: 'auth.password_change' })
    },
  }
}
