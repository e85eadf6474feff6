// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Creating, listing and revoking share links. Anyone who may write may share
 * an object or folder they may read (the route's `needs` checks the grant);
 * the target must exist when the link is made. A link opens only while its
 * creator can still read its target (`stillShared`, asked on every public
 * request): losing the grant closes it as `access_revoked`, regaining it opens
 * it again. Owners see and revoke their own
 * links; admins may list everyone's (`scope=all`) and revoke any. Someone
 * else's share is "not found", never "forbidden", so ids reveal nothing.
 * Revoking keeps the row (status `revoked`) for the list and the audit trail.
 */
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { Actor } from '../auth/actor.ts'
import type { Passwords } from '../auth/password.ts'
import type { Registry } from '../backends/registry.ts'
import { fail } from '../http/errors.ts'
import { formatDuration } from '../lib/duration.ts'
import { ulid } from '../lib/ids.ts'
import type { Logger } from '../lib/log.ts'
import { headOrNull } from '../objects/target.ts'
import { storage } from '../storage/errors.ts'
import { validateBucketName, validateKey, validatePrefix } from '../storage/validate.ts'
import { iso } from '../users/model.ts'
import { codeHash, newCode } from './codes.ts'
import { SHARE_PASSWORD_MIN, SHARES_PAGE, type CreateShareBody, type ShareDTO, type ShareListQuery, type SharePolicyDTO, type ShareStatus } from './model.ts'
import type { ShareRow, ShareStore } from './store.ts'

/** A folder whose first 10 000 keys are all empty subfolders is treated as empty. */
const FOLDER_CHECK_PAGES = 10

/** Presets round to the minute in the UI; this much over `max_lifetime` is tolerated. */
const LIFETIME_SLACK_MS = 60_000

export type SharePolicy = { maxLifetimeMs: number; requirePassword: boolean }

export type ShareServiceDeps = {
  store: ShareStore
  registry: Registry
  passwords: Passwords
  audit: AuditRecorder
  logger: Logger
  policy: SharePolicy
  publicUrl: string
  /** Whether the share's creator may still read its target, by their grants as they are now. */
  stillShared: (row: ShareRow) => Promise<boolean>
  now: () => number
}

export function shareStatus(r: ShareRow, now: number): ShareStatus {
  if (r.revoked) return 'revoked'
  if (r.expires_at !== null && r.expires_at <= now) return 'expired'
  if (r.max_downloads !== null && r.download_count >= r.max_downloads) return 'exhausted'
  return 'active'
}

export function downloadsLeft(r: ShareRow): number | undefined {
  return r.max_downloads === null ? undefined : Math.max(0, r.max_downloads - r.download_count)
}

export type ShareService = ReturnType<typeof createShareService>

export function createShareService(d: ShareServiceDeps) {
  const base = d.publicUrl.replace(/\/+$/, '')

  const liveStatus = async (r: ShareRow): Promise<ShareStatus> => {
    const status = shareStatus(r, d.now())
    return status === 'active' && !(await d.stillShared(r)) ? 'access_revoked' : status
  }

  const toDTO = async (r: ShareRow): Promise<ShareDTO> => {
    const left = downloadsLeft(r)
    return {
      id: r.id,
      code: r.code,
      url: `${base}/s/${r.code}`,
      kind: r.kind,
      backend_id: r.backend_id,
      bucket: r.bucket,
      key: r.object_key,
      created_by: r.created_by,
      created_by_username: r.created_by_name,
      created_at: iso(r.created_at)!,
      ...(r.expires_at !== null ? { expires_at: iso(r.expires_at)! } : {}),
      has_password: r.password_hash !== null,
      ...(r.max_downloads !== null ? { max_downloads: r.max_downloads } : {}),
      download_count: r.download_count,
      ...(left !== undefined ? { downloads_left: left } : {}),
      disposition: r.disposition,
      revoked: r.revoked === 1,
      ...(r.revoked_at !== null ? { revoked_at: iso(r.revoked_at)! } : {}),
      ...(r.last_accessed_at !== null ? { last_accessed_at: iso(r.last_accessed_at)! } : {}),
      status: await liveStatus(r),
    }
  }

  function expiry(body: CreateShareBody, now: number): number | null {
    const max = d.policy.maxLifetimeMs
    if (body.expires_at === undefined) {
      if (max > 0)
        throw fail('bad_request', `Shares must expire within ${formatDuration(max)}.`, [{ path: '/expires_at', message: 'required by the share policy' }])
      return null
    }
    const at = Date.parse(body.expires_at)
    if (!Number.isFinite(at) || at <= now)
      throw fail('bad_request', 'The expiry must be in the future.', [{ path: '/expires_at', message: 'not in the future' }])
    if (max > 0 && at > now + max + LIFETIME_SLACK_MS) {
      throw fail('bad_request', `Shares must expire within ${formatDuration(max)}.`, [
        { path: '/expires_at', message: `later than ${formatDuration(max)} from now` },
      ])
    }
    return at
  }

  /** Throws not_found unless the object exists, or the folder holds at least one file. */
  async function checkTarget(bid: string, bucket: string, key: string, kind: 'object' | 'folder'): Promise<void> {
    const backend = d.registry.get(bid)
    if (kind === 'object') {
      if (!(await headOrNull({ bid, bucket, backend }, key, d.logger))) throw fail('not_found', 'No such object.')
      return
    }
    // Folder placeholders ("x/") sort before the files inside them, so look past them, within reason.
    let token: string | undefined
    for (let pages = 0; pages < FOLDER_CHECK_PAGES; pages++) {
      const page = await storage(backend.listObjects(bucket, { prefix: key, delimiter: '', maxKeys: 1000, ...(token ? { token } : {}) }), d.logger)
      if (page.objects.some((o) => !o.key.endsWith('/'))) return
      token = page.isTruncated ? page.nextToken : undefined
      if (!token) break
    }
    throw fail('not_found', 'The folder is empty or does not exist.')
  }

  return {
    toDTO,

    /** What the share dialog offers: no expiry preset beyond the maximum, a password when required. */
    policy: (): SharePolicyDTO => ({
      ...(d.policy.maxLifetimeMs > 0 ? { max_lifetime_seconds: Math.floor(d.policy.maxLifetimeMs / 1000) } : {}),
      require_password: d.policy.requirePassword,
      password_min_length: SHARE_PASSWORD_MIN,
    }),

    async create(actor: Actor, body: CreateShareBody, origin: AuditOrigin): Promise<ShareDTO> {
      const now = d.now()
      validateBucketName(body.bucket)
      const kind = body.key.endsWith('/') ? 'folder' : 'object'
      if (kind === 'folder') validatePrefix(body.key, 'key')
      else validateKey(body.key)
      const expiresAt = expiry(body, now)
      if (d.policy.requirePassword && !body.password)
        throw fail('bad_request', 'Shares need a password.', [{ path: '/password', message: 'required by the share policy' }])
      await checkTarget(body.backend_id, body.bucket, body.key, kind)
      const code = newCode()
      const row = {
        id: ulid(now),
        code,
        code_hash: codeHash(code),
        kind,
        backend_id: body.backend_id,
        bucket: body.bucket,
        object_key: body.key,
        created_by: actor.id,
        created_by_name: actor.username,
        created_at: now,
        expires_at: expiresAt,
        password_hash: body.password ? await d.passwords.hash(body.password) : null,
        max_downloads: body.max_downloads ?? null,
        disposition: body.disposition ?? 'attachment',
      } as const
      await d.store.insert(row)
      d.audit.record({
        ...origin,
        action: 'share.create',
        backend: row.backend_id,
        bucket: row.bucket,
        key: row.object_key,
        detail: {
          share_id: row.id,
          kind,
          has_password: row.password_hash !== null,
          max_downloads: row.max_downloads,
          expires_at: iso(expiresAt) ?? null,
          disposition: row.disposition,
        },
      })
      return toDTO((await d.store.get(row.id))!)
    },

    async list(actor: Actor, q: ShareListQuery): Promise<{ shares: ShareDTO[]; total: number }> {
      if (q.scope === 'all' && actor.role !== 'admin') throw fail('forbidden', 'Only admins can list every share.')
      const { rows, total } = await d.store.list({
        ...(q.scope === 'all' ? {} : { owner: actor.id }),
        limit: q.limit ?? SHARES_PAGE.fallback,
        offset: q.offset ?? 0,
      })
      return { shares: await Promise.all(rows.map(toDTO)), total }
    },

    async revoke(actor: Actor, id: string, origin: AuditOrigin): Promise<void> {
      const row = await d.store.get(id)
      if (!row || (row.created_by !== actor.id && actor.role !== 'admin')) throw fail('not_found', 'No such share.')
      if (row.revoked) return
      await d.store.revoke(id, actor.id, d.now())
      d.audit.record({
        ...origin,
        action: 'share.revoke',
        backend: row.backend_id,
        bucket: row.bucket,
        key: row.object_key,
        detail: { share_id: row.id, ...(row.created_by !== actor.id ? { owner_id: row.created_by } : {}) },
      })
    },
  }
}
