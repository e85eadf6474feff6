// SPDX-License-Identifier: AGPL-3.0-or-later
import type { Stowage } from '../app.ts'
import { ulid } from '../lib/ids.ts'

/** Creates `username` as an admin, or makes an existing account an enabled, unlocked admin with this password. */
export async function upsertAdmin(
  s: Stowage,
  opts: { username: string; email?: string; password: string; mustChangePw: boolean },
): Promise<'created' | 'updated'> {
  const hash = await s.passwords.hash(opts.password)
  const existing = await s.users.getByUsername(opts.username)
  const now = Date.now()
  if (existing) {
    await s.users.update(existing.id, { role: 'admin', enabled: 1, identity_source: 'local' })
    await s.users.setPassword(existing.id, hash, opts.mustChangePw, now)
    await s.sessions.revokeUser(existing.id)
    s.audit.record({ action: 'user.reset_password', username: 'cli', detail: { target_id: existing.id, target_username: existing.username, via: 'cli' } })
    return 'updated'
  }
  const id = ulid()
  await s.users.insert({
    id,
    username: opts.username,
    email: opts.email || null,
    passwordHash: hash,
    role: 'admin',
    identitySource: 'local',
    mustChangePw: opts.mustChangePw,
    createdBy: 'cli',
    now,
  })
  s.audit.record({ action: 'user.create', username: 'cli', detail: { target_id: id, target_username: opts.username, role: 'admin', via: 'cli' } })
  return 'created'
}
