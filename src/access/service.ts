// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Grants: made, changed and revoked by admins (each change audited), made
 * for a user who creates a bucket, dropped with a bucket deleted through
 * Stowage (so a bucket of the same name made later starts with no grants),
 * and compiled into one view per account.
 *
 * Views are cached per account and role and rebuilt after any change that
 * can alter one (a grant, a user's groups at sign-in): every change bumps one
 * generation number, so the next request — a dashboard call, a share
 * download, an S3 request with the account's key — sees it at once, while
 * requests in between cost a map lookup.
 */
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { Changes } from '../db/changes.ts'
import { isUniqueViolation } from '../db/database.ts'
import { STATIC_USER_ID } from '../auth/actor.ts'
import type { Registry } from '../backends/registry.ts'
import { fail } from '../http/errors.ts'
import { ulid } from '../lib/ids.ts'
import { validateBucketName, validatePrefix } from '../storage/validate.ts'
import type { Role } from '../auth/roles.ts'
import { iso } from '../users/model.ts'
import type { UserStore } from '../users/store.ts'
import { GRANTS_PAGE, type CreateGrantBody, type GrantDTO, type GrantListQuery, type MyAccessDTO, type MyGrantDTO } from './model.ts'
import type { GrantOrigin, GrantRow, GrantStore } from './store.ts'
import { adminView, compileView, levelOf, nameOf, NONE, READ, WRITE, type AccessName, type AccessView, type Level, type Rule } from './view.ts'

export type DefaultAccess = 'none' | AccessName

/** Who a view is for: the signed-in actor, or the owner of a share or key. */
export type Principal = { id: string; role: Role }

/** Views kept before the cache starts over (one per active account is plenty). */
const MAX_CACHED = 10_000
const GROUP = /^[^\u0000-\u001f\u007f]{1,256}$/

const SYSTEM: AuditOrigin = { userId: null, username: null, requestId: null, ip: null, userAgent: null }

/** Announced when a grant or a user's groups change; every replica drops its cached views. */
const CHANNEL = 'stowage_access'

export type AccessService = Awaited<ReturnType<typeof createAccessService>>

export async function createAccessService(d: {
  store: GrantStore
  changes: Changes
  users: UserStore
  registry: Registry
  audit: AuditRecorder
  defaultAccess: DefaultAccess
  staticUsername: string | undefined
  now: () => number
}) {
  let generation = 0
  const cache = new Map<string, { generation: number; view: AccessView }>()
  const forget = (): void => {
    generation++
    cache.clear()
  }
  const stop = await d.changes.on(CHANNEL, forget, forget)
  const changed = (): Promise<void> => d.changes.announce(CHANNEL, '')
  const defaultLevel: Level = d.defaultAccess === 'none' ? NONE : levelOf(d.defaultAccess)
  const capOf = (role: Role): Level => (role === 'readonly' ? READ : WRITE)
  const rulesOf = (rows: readonly GrantRow[]): Rule[] => [
    ...rows.map((g) => ({ backend: g.backend_id, bucket: g.bucket, prefix: g.prefix, level: levelOf(g.access) })),
    ...(defaultLevel > NONE ? [{ backend: '*', bucket: '', prefix: '', level: defaultLevel }] : []),
  ]

  async function viewFor(p: Principal): Promise<AccessView> {
    if (p.role === 'admin') return adminView()
    const key = `${p.id}\u0000${p.role}`
    const hit = cache.get(key)
    if (hit && hit.generation === generation) return hit.view
    const at = generation
    const view = compileView(rulesOf(await d.store.forUser(p.id)), capOf(p.role))
    // A change announced while the grants were read leaves this view uncached.
    if (at !== generation) return view
    if (cache.size >= MAX_CACHED) cache.clear()
    cache.set(key, { generation, view })
    return view
  }

  /** The view of a stored account as it is now; undefined when it is gone or disabled. */
  async function viewForUser(userId: string): Promise<AccessView | undefined> {
    if (userId === STATIC_USER_ID) return d.staticUsername ? adminView() : undefined
    const u = await d.users.get(userId)
    if (!u || u.enabled !== 1) return undefined
    return viewFor({ id: u.id, role: u.role })
  }

  const username = async (g: GrantRow): Promise<string | undefined> =>
    g.subject_type === 'user' ? ((await d.users.get(g.subject))?.username ?? undefined) : undefined

  const toDTO = async (g: GrantRow): Promise<GrantDTO> => {
    const name = await username(g)
    return {
      id: g.id,
      subject_type: g.subject_type,
      subject: g.subject,
      ...(name ? { subject_name: name } : {}),
      backend_id: g.backend_id,
      bucket: g.bucket,
      prefix: g.prefix,
      access: g.access,
      origin: g.origin,
      created_at: iso(g.created_at)!,
      ...(g.created_by ? { created_by: g.created_by } : {}),
      updated_at: iso(g.updated_at)!,
      ...(g.updated_by ? { updated_by: g.updated_by } : {}),
    }
  }

  async function record(origin: AuditOrigin, action: string, g: GrantRow, extra: Record<string, unknown> = {}): Promise<void> {
    const name = await username(g)
    d.audit.record({
      ...origin,
      action,
      backend: g.backend_id,
      bucket: g.bucket || null,
      key: g.prefix || null,
      detail: {
        grant_id: g.id,
        subject_type: g.subject_type,
        subject: g.subject,
        ...(name ? { subject_name: name } : {}),
        prefix: g.prefix,
        access: g.access,
        origin: g.origin,
        ...extra,
      },
    })
  }

  /** The target of a new grant, checked and normalised: '' for "every bucket" and "the whole bucket". */
  function target(body: CreateGrantBody): { backend: string; bucket: string; prefix: string } {
    const bucket = body.bucket ?? ''
    const prefix = body.prefix ?? ''
    if (body.backend_id === '*') {
      if (bucket || prefix)
        throw fail('invalid_grant', 'A grant on every backend cannot name a bucket or a folder.', [{ path: bucket ? '/bucket' : '/prefix' }])
    } else if (!d.registry.entry(body.backend_id)) {
      throw fail('invalid_grant', 'No such backend.', [{ path: '/backend_id' }])
    }
    if (bucket) {
      try {
        validateBucketName(bucket)
      } catch {
        throw fail('invalid_bucket_name', undefined, [{ path: '/bucket' }])
      }
    }
    if (prefix) {
      if (!bucket) throw fail('invalid_grant', 'A folder grant needs its bucket.', [{ path: '/bucket' }])
      validatePrefix(prefix)
    }
    return { backend: body.backend_id, bucket, prefix }
  }

  async function subject(body: CreateGrantBody): Promise<{ type: 'user' | 'group'; id: string }> {
    if ((body.user_id === undefined) === (body.group === undefined)) throw fail('invalid_grant', 'Give either user_id or group.', [{ path: '/user_id' }])
    if (body.user_id !== undefined) {
      if (!(await d.users.get(body.user_id))) throw fail('invalid_grant', 'No such user.', [{ path: '/user_id' }])
      return { type: 'user', id: body.user_id }
    }
    if (!GROUP.test(body.group!)) throw fail('invalid_grant', 'A group name is 1–256 characters without control characters.', [{ path: '/group' }])
    return { type: 'group', id: body.group! }
  }

  async function mustGet(id: string): Promise<GrantRow> {
    const g = await d.store.get(id)
    if (!g) throw fail('not_found', 'No such grant.')
    return g
  }

  async function insert(
    origin: AuditOrigin,
    s: { type: 'user' | 'group'; id: string },
    t: { backend: string; bucket: string; prefix: string },
    access: AccessName,
    kind: GrantOrigin,
    by: string | null,
  ): Promise<GrantRow> {
    const now = d.now()
    const row: GrantRow = {
      id: ulid(now),
      subject_type: s.type,
      subject: s.id,
      backend_id: t.backend,
      bucket: t.bucket,
      prefix: t.prefix,
      access,
      origin: kind,
      created_at: now,
      created_by: by,
      updated_at: now,
      updated_by: by,
    }
    await d.store.insert(row)
    await changed()
    await record(origin, 'grant.create', row)
    return row
  }

  return {
    viewFor,
    viewForUser,

    /** GET /api/me/access: the caller's grants as the rules apply them. */
    async mine(p: Principal): Promise<MyAccessDTO> {
      if (p.role === 'admin') return { role: p.role, all: true, grants: [] }
      const cap = capOf(p.role)
      const capped = (a: AccessName): AccessName => nameOf(Math.min(levelOf(a), cap) as Level) as AccessName
      const grants: MyGrantDTO[] = (await d.store.forUser(p.id)).map((g) => ({
        backend_id: g.backend_id,
        bucket: g.bucket,
        prefix: g.prefix,
        access: capped(g.access),
        via: g.subject_type,
        ...(g.subject_type === 'group' ? { group: g.subject } : {}),
      }))
      if (defaultLevel > NONE) grants.push({ backend_id: '*', bucket: '', prefix: '', access: capped(d.defaultAccess as AccessName), via: 'default' })
      return { role: p.role, all: false, grants }
    },

    async list(q: GrantListQuery): Promise<{ grants: GrantDTO[]; total: number; groups?: string[] }> {
      const groups = q.user_id !== undefined ? await d.store.groupsOf(q.user_id) : undefined
      const { rows, total } = await d.store.list({
        ...(q.user_id !== undefined ? { userId: q.user_id, ...(q.with_groups === 'true' ? { groupsOfUser: groups } : {}) } : {}),
        ...(q.group !== undefined ? { group: q.group } : {}),
        ...(q.backend_id !== undefined
          ? { backendId: q.backend_id, ...(q.bucket !== undefined ? { bucket: q.bucket } : {}), broader: q.with_broader === 'true' }
          : {}),
        limit: q.limit ?? GRANTS_PAGE.fallback,
        offset: q.offset ?? 0,
      })
      return { grants: await Promise.all(rows.map(toDTO)), total, ...(groups ? { groups } : {}) }
    },

    async create(actorId: string, body: CreateGrantBody, origin: AuditOrigin): Promise<GrantDTO> {
      const s = await subject(body)
      const t = target(body)
      const existing = await d.store.find(s.type, s.id, t.backend, t.bucket, t.prefix)
      if (existing) throw fail('grant_exists', undefined, { id: existing.id })
      try {
        return await toDTO(await insert(origin, s, t, body.access, 'admin', actorId))
      } catch (err) {
        // The same grant made meanwhile, by a concurrent request here or on another replica.
        const made = isUniqueViolation(err) ? await d.store.find(s.type, s.id, t.backend, t.bucket, t.prefix) : null
        if (made) throw fail('grant_exists', undefined, { id: made.id })
        throw err
      }
    },

    async update(actorId: string, id: string, access: AccessName, origin: AuditOrigin): Promise<GrantDTO> {
      const g = await mustGet(id)
      if (g.access !== access) {
        await d.store.setAccess(id, access, d.now(), actorId)
        await changed()
        await record(origin, 'grant.update', { ...g, access }, { previous_access: g.access })
      }
      return toDTO(await mustGet(id))
    },

    async remove(id: string, origin: AuditOrigin): Promise<void> {
      const g = await mustGet(id)
      await d.store.remove(id)
      await changed()
      await record(origin, 'grant.delete', g)
    },

    async groups() {
      return { groups: (await d.store.seenGroups()).map((g) => ({ name: g.name, users: g.users, last_seen_at: iso(g.last_seen_at)! })) }
    },

    /** A user who created a bucket may read and write it, whatever else changes later. */
    async creatorGrant(p: Principal, backendId: string, bucket: string, origin: AuditOrigin): Promise<void> {
      if (p.role === 'admin' || (await d.store.find('user', p.id, backendId, bucket, ''))) return
      await insert(origin, { type: 'user', id: p.id }, { backend: backendId, bucket, prefix: '' }, 'read-write', 'creator', p.id)
    },

    /** A deleted bucket's grants go with it; a bucket of the same name made later starts without them. */
    async forgetBucket(backendId: string, bucket: string): Promise<void> {
      const rows = await d.store.onBucket(backendId, bucket)
      if (rows.length === 0) return
      for (const g of rows) {
        await d.store.remove(g.id)
        await record(SYSTEM, 'grant.delete', g, { reason: 'bucket_deleted' })
      }
      await changed()
    },

    /** A deleted account's grants go with it, each recorded. */
    async forgetUser(userId: string, origin: AuditOrigin): Promise<void> {
      const rows = (await d.store.list({ userId, limit: Number.MAX_SAFE_INTEGER, offset: 0 })).rows
      for (const g of rows) {
        await d.store.remove(g.id)
        await record(origin, 'grant.delete', g, { reason: 'user_deleted' })
      }
      if (rows.length) await changed()
    },

    /** The groups of a user's latest single sign-on. */
    async recordGroups(userId: string, groups: readonly string[]): Promise<void> {
      const next = groups.filter((g) => GROUP.test(g))
      if (await d.store.setGroups(userId, next, d.now())) await changed()
    },

    close: (): Promise<void> => stop(),
  }
}
