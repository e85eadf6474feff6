// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Accounts for SSO users, keyed by (issuer, subject) — never by username or
 * email, so an SSO sign-in can never take over a local account. The first
 * sign-in creates the account; every later one brings username, email and
 * role back in step with the provider. A username already used by another
 * account gets a `-2`, `-3`, … suffix; an email already used by another
 * account is left off (emails are unique in Stowage). A disabled account stays
 * disabled and cannot sign in.
 */
import { ulid } from '../../lib/ids.ts'
import type { UserRow } from '../../users/model.ts'
import type { Role } from '../roles.ts'
import type { UserStore } from '../../users/store.ts'
import { isFormOf, usernameBase, usernameWithSuffix, verifiedEmail } from './claims.ts'

export type Provisioned = { ok: true; user: UserRow; created: boolean; emailDropped: boolean } | { ok: false; reason: 'disabled'; user: UserRow }

export function identitySourceFor(issuer: string): string {
  return `oidc:${new URL(issuer).host}`
}

async function chooseUsername(users: UserStore, base: string, current: UserRow | null): Promise<string> {
  const free = async (name: string): Promise<boolean> => {
    const holder = await users.getByUsername(name)
    return !holder || holder.id === current?.id
  }
  if (await free(base)) return base
  if (current && isFormOf(current.username, base)) return current.username
  for (let n = 2; n < 1000; n++) if (await free(usernameWithSuffix(base, n))) return usernameWithSuffix(base, n)
  return usernameWithSuffix(base, Date.now())
}

export async function provisionUser(
  users: UserStore,
  o: { issuer: string; claims: Record<string, unknown> & { sub: string }; role: Role; now: number },
): Promise<Provisioned> {
  const current = await users.getByOidc(o.issuer, o.claims.sub)
  if (current && current.enabled !== 1) return { ok: false, reason: 'disabled', user: current }
  let email = verifiedEmail(o.claims)
  const holder = email ? await users.getByEmail(email) : null
  const emailDropped = !!holder && holder.id !== current?.id
  if (emailDropped) email = null
  const { user, created } = await users.upsertOidc(
    {
      issuer: o.issuer,
      subject: o.claims.sub,
      identitySource: identitySourceFor(o.issuer),
      username: await chooseUsername(users, usernameBase(o.claims), current),
      email,
      role: o.role,
      now: o.now,
    },
    ulid(),
  )
  await users.recordLogin(user.id, o.now)
  return { ok: true, user, created, emailDropped }
}
