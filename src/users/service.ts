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
import { isUniqueViolation } from '../db/database.ts'
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
  onUnlock?: (username: string) => void | Promise<void>
  /** Before an account is deleted: its grants go with it, each recorded. */
  onDelete?: (userId: string, origin: AuditOrigin) => void | Promise<void>
  /** After an account's role or enabled flag changed, or it was deleted: caches of it elsewhere go stale. */
  onAccountChange?: (userId: string) => Promise<void>
  now?: () => number
}) {
  const now = d.now ?? Date.now

  function found(u: UserRow | null): UserRow {
    if (!u) throw fail('not_found', 'No such user.')
    return u
  }
  const mustGet = async (id: string): Promise<UserRow> => found(await d.users.get(id))

  async function checkEmailFree(email: string | null, exceptId?: string): Promise<void> {
    if (!email) return
    const other = await d.users.getByEmail(email)
    if (other && other.id !== exceptId) throw fail('email_taken')
  }

  function wouldRemoveLastAdmin(u: UserRow, admins: number, next: { role?: Role; enabled?: boolean; deleted?: boolean }): boolean {
    if (u.role !== 'admin' || u.enabled !== 1) return false
    const stillAdmin = !next.deleted && (next.role ?? u.role) === 'admin' && (next.enabled ?? true)
    return !stillAdmin && admins <= 1
  }

  const audit = (origin: AuditOrigin, action: string, target: UserRow | { id: string; username: string }, detail?: Record<string, unknown>) =>
    d.audit.record({ ...origin, action, detail: { target_id: target.id, target_username: target.username, ...detail } })

  return {
    async list(q: ListUsersQuery): Promise<{ users: UserDTO[]; total: number }> {
      const { rows, total } = await d.users.list({
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

    get: async (id: string): Promise<UserDTO> => toUserDTO(await mustGet(id), now()),

    async create(
      actor: Actor,
      body: { username: string; email?: string; password: string; role: Role; must_change_pw?: boolean },
      origin: AuditOrigin,
    ): Promise<UserDTO> {
      if (await d.users.getByUsername(body.username)) throw fail('username_taken')
      const email = body.email || null
      await checkEmailFree(email)
      d.passwords.checkPolicy(body.password, { username: body.username })
      const hash = await d.passwords.hash(body.password)
      // Checked again after the slow hash: a concurrent create may have taken the name or email meanwhile.
      if (await d.users.getByUsername(body.username)) throw fail('username_taken')
      await checkEmailFree(email)
      const id = ulid()
      try {
        await d.users.insert({
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
      } catch (err) {
        // A create that raced this one (here or on another replica) took the name or the email first.
        if (!isUniqueViolation(err)) throw err
        if (await d.users.getByUsername(body.username)) throw fail('username_taken')
        throw fail('email_taken')
      }
      const u = await mustGet(id)
      audit(origin, 'user.create', u, { role: u.role })
      return toUserDTO(u, now())
    },

    async patch(actor: Actor, id: string, body: { role?: Role; enabled?: boolean; email?: string }, origin: AuditOrigin): Promise<UserDTO> {
      if (body.email) await checkEmailFree(body.email, id)
      const { u, fields } = await d.users
        .adminChange(id, async (current, admins, apply) => {
          const u = found(current)
          if (id === actor.id && ((body.role && body.role !== u.role) || body.enabled === false))
            throw fail('self_role_change', 'You cannot change your own role or disable yourself.')
          if (wouldRemoveLastAdmin(u, admins, { role: body.role, enabled: body.enabled })) throw fail('last_admin')
          const fields: Parameters<UserStore['update']>[1] = {}
          if (body.role && body.role !== u.role) fields.role = body.role
          if (body.enabled !== undefined && (body.enabled ? 1 : 0) !== u.enabled) fields.enabled = body.enabled ? 1 : 0
          if (body.email !== undefined && (body.email || null) !== u.email) fields.email = body.email || null
          await apply.update(fields)
          return { u, fields }
        })
        .catch((err: unknown) => {
          // Another account took the email since it was checked.
          throw isUniqueViolation(err) ? fail('email_taken') : err
        })
      if (fields.enabled === 0) await d.sessions.revokeUser(id)
      if (fields.enabled !== undefined || fields.role !== undefined) await d.onAccountChange?.(id)
      if (Object.keys(fields).length)
        audit(origin, 'user.update', u, {
          fields: Object.keys(fields),
          ...(fields.role ? { role: fields.role } : {}),
          ...(fields.enabled !== undefined ? { enabled: fields.enabled === 1 } : {}),
        })
      return toUserDTO(await mustGet(id), now())
    },

    async resetPassword(actor: Actor, id: string, body: { new_password: string; must_change_pw?: boolean }, origin: AuditOrigin): Promise<void> {
      const u = await mustGet(id)
      if (!u.identity_source.startsWith('local')) throw fail('not_local')
      d.passwords.checkPolicy(body.new_password, { username: u.username })
      const hash = await d.passwords.hash(body.new_password)
      await d.users.setPassword(id, hash, body.must_change_pw ?? id !== actor.id, now())
      await d.sessions.revokeUser(id, id === actor.id ? actor.sessionId : undefined)
      await d.onUnlock?.(u.username)
      audit(origin, 'user.reset_password', u)
    },

    async unlock(id: string, origin: AuditOrigin): Promise<UserDTO> {
      const u = await mustGet(id)
      await d.users.unlock(id)
      await d.onUnlock?.(u.username)
      audit(origin, 'user.unlock', u)
      return toUserDTO(await mustGet(id), now())
    },

    async delete(actor: Actor, id: string, origin: AuditOrigin): Promise<void> {
      const refuse = (current: UserRow | null, admins: number): UserRow => {
        const u = found(current)
        if (id === actor.id) throw fail('self_delete')
        if (wouldRemoveLastAdmin(u, admins, { deleted: true })) throw fail('last_admin')
        return u
      }
      // Checked once before the grants are recorded as gone, and again where the row is deleted.
      await d.users.adminChange(id, async (current, admins) => refuse(current, admins))
      await d.onDelete?.(id, origin)
      const u = await d.users.adminChange(id, async (current, admins, apply) => {
        const u = refuse(current, admins)
        await apply.delete()
        return u
      })
      await d.sessions.revokeUser(id)
      await d.onAccountChange?.(id)
      audit(origin, 'user.delete', u)
    },

    async changeOwnPassword(actor: Actor, current: string, next: string, origin: AuditOrigin): Promise<void> {
      if (actor.identitySource === 'static') throw fail('static_user')
      const u = await mustGet(actor.id)
      if (!u.password_hash || !u.identity_source.startsWith('local')) throw fail('not_local')
      if (!(await d.passwords.verify(current, u.password_hash))) {
        d.audit.record({ ...origin, action: 'auth.password_change', status: 'denied', detail: { reason: 'wrong_current' } })
        throw fail('password_mismatch', 'The current password is wrong.')
      }
      d.passwords.checkPolicy(next, { username: u.username })
      if (d.preventReuse && (await d.passwords.verify(next, u.password_hash))) throw fail('password_reused')
      await d.users.setPassword(u.id, await d.passwords.hash(next), false, now())
      await d.sessions.revokeUser(u.id, actor.sessionId)
      d.audit.record({ ...origin, action: 'auth.password_change' })
    },
  }
}
