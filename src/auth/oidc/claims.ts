// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * From verified claims to a Stowage identity: the role (through
 * `auth.oidc.role_mapping`), a username and an email.
 *
 * Roles: the values of `role_claim` (a string or an array of strings; a
 * dotted path reaches nested claims such as Keycloak's `realm_access.roles`)
 * are compared exactly, case included, with the mapping lists; the first role
 * in the order admin, user, readonly that matches wins. No match gives
 * `default_role`, and when that is empty the sign-in is refused — the
 * original silently made every unmapped user a `user`.
 */
import { sha256Hex } from '../../lib/crypto.ts'
import { ROLES, type Role } from '../roles.ts'

export type RoleMapping = Record<Role, readonly string[]>

const USERNAME_MAX = 64
const EMAIL = /^[^\s@]+@[^\s@]+$/

/**
 * The claim at `path`. A claim whose name itself contains dots (e.g.
 * `https://example.com/groups`) is found under its full name first.
 */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path]
  let v: unknown = claims
  for (const part of path.split('.')) {
    if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, part)) return undefined
    v = (v as Record<string, unknown>)[part]
  }
  return v
}

/** A claim's values as strings: a string is one value, an array gives its string and number entries. */
export function claimValues(v: unknown): string[] {
  if (typeof v === 'string') return [v]
  if (Array.isArray(v)) return v.filter((x) => typeof x === 'string' || typeof x === 'number').map(String)
  return []
}

export function mapRole(values: readonly string[], mapping: RoleMapping, defaultRole: Role | ''): Role | null {
  const have = new Set(values)
  for (const role of ROLES) if (mapping[role].some((v) => have.has(v))) return role
  return defaultRole || null
}

/**
 * The preferred username (fallback: email, then `sub`) made into a valid
 * Stowage username: letters, digits, `.`, `_`, `@`, `-`, starting with a
 * letter or digit, at most 64 characters with room left for a `-N` suffix.
 */
export function usernameBase(claims: Record<string, unknown>): string {
  for (const k of ['preferred_username', 'email', 'sub']) {
    const v = claims[k]
    if (typeof v !== 'string') continue
    const clean = v
      .normalize('NFKC')
      .replace(/[^A-Za-z0-9._@-]+/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, USERNAME_MAX - 8)
      .replace(/[^A-Za-z0-9]+$/, '')
    if (clean) return clean
  }
  return `user-${sha256Hex(String(claims.sub)).slice(0, 12)}`
}

/** Candidates after `base` when it is taken by someone else: base-2, base-3, … */
export function usernameWithSuffix(base: string, n: number): string {
  return `${base}-${n}`
}

/** True when `name` is `base` or one of its suffixed forms, so an existing suffixed name is kept. */
export function isFormOf(name: string, base: string): boolean {
  const a = name.toLowerCase()
  const b = base.toLowerCase()
  return a === b || (a.startsWith(b + '-') && /^\d+$/.test(a.slice(b.length + 1)))
}

/** The email to keep: only when present, well-formed and not marked unverified. */
export function verifiedEmail(claims: Record<string, unknown>): string | null {
  const email = claims.email
  const verified = claims.email_verified
  if (typeof email !== 'string' || email.length > 254 || !EMAIL.test(email)) return null
  if (verified === false || verified === 'false') return null
  return email
}
