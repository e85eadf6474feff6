// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Virtual S3 credentials: minted by users for themselves or by admins, scoped
 * to existing buckets on one S3 backend, each bucket `read` or `read-write`;
 * admins may also grant bucket-name prefixes (tenant namespaces) and `owner`
 * access (see access.ts for how entries combine).
 *
 * The proxy authenticates from an in-memory map rebuilt from the store after
 * every change, so a create, scope change, disable or revoke applies to the
 * very next proxied request; other replicas rebuild theirs when the change is
 * announced. Expiry and the owner's state are checked on each lookup: an
 * expired key, or one whose owner is disabled or deleted, stops at once; an
 * owner demoted to readonly keeps only read access. On PostgreSQL the owner's
 * state is cached for at most OWNER_TTL_MS (dropped at once when a replica
 * announces a change to the user), so a request costs no round trip.
 *
 * Secrets are sealed with the master key (context `s3cred:<access key>`) and
 * shown once, in the answer to the create call.
 */
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import { STATIC_USER_ID, type Actor } from '../auth/actor.ts'
import type { Registry } from '../backends/registry.ts'
import { fail } from '../http/errors.ts'
import type { Changes } from '../db/changes.ts'
import { isUniqueViolation } from '../db/database.ts'
import type { Logger } from '../lib/log.ts'
import type { Sealer } from '../lib/seal.ts'
import { clearSigningKeyCache } from '../s3proxy/sigv4/verify.ts'
import { iso } from '../users/model.ts'
import { newAccessKeyId, newSecretKey } from './keys.ts'
import { indexScope } from './access.ts'
import type { AdminCreateCredentialBody, BucketAccess, BucketScope, CredentialDTO, PatchCredentialBody, PrefixScope } from './model.ts'
import { checkBackend, checkScopes, type ScopeInput } from './scope.ts'
import { scopesOf, type CredentialRow, type CredentialStore, type OwnerRow } from './store.ts'
import type { ProxyUrls } from './urls.ts'

/** What the proxy needs to authenticate and authorize one request. */
export type ResolvedCredential = {
  accessKey: string
  secret: string
  backendId: string
  /** Exact bucket entries. */
  scopes: ReadonlyMap<string, BucketAccess>
  /** Bucket-name prefix entries. */
  prefixes: readonly PrefixScope[]
  /** Every entry, as stored. */
  buckets: readonly BucketScope[]
  userId: string | null
  createdAt: number
  /** The owner is readonly now: every scope acts as `read`. */
  readOnly: boolean
}

type Cached = Omit<ResolvedCredential, 'readOnly'> & { expiresAt: number | null }

export function sealContext(accessKey: string): string {
  return `s3cred:${accessKey}`
}

/** Who may touch a credential: its owner only (self-service), or anyone (admin routes). */
export type Caller = { self: true } | { self: false }

export type CredentialService = Awaited<ReturnType<typeof createCredentialService>>

/** Announced when a credential changes; replicas rebuild their map. */
export const CREDENTIALS_CHANNEL = 'stowage_credentials'
/** Announced with a user id when an account changes (role, enabled, deleted). */
export const USERS_CHANNEL = 'stowage_users'
/** The longest a replica trusts a cached owner state that no announcement has refreshed. */
export const OWNER_TTL_MS = 5_000

export async function createCredentialService(d: {
  store: CredentialStore
  changes: Changes
  /** How long an owner's state is cached; 0 reads it on every request (SQLite: a read costs microseconds). */
  ownerTtlMs: number
  registry: Registry
  sealer: Sealer | undefined
  audit: AuditRecorder
  logger: Logger
  now: () => number
  staticUsername: string | undefined
}) {
  let cache = new Map<string, Cached>()
  const owners = new Map<string, { row: OwnerRow | null; at: number }>()

  async function reload(): Promise<void> {
    const next = new Map<string, Cached>()
    if (d.sealer) {
      for (const row of await d.store.list()) {
        if (row.enabled !== 1) continue
        try {
          const buckets = scopesOf(row)
          const { exact, prefixes } = indexScope(buckets)
          next.set(row.access_key, {
            accessKey: row.access_key,
            secret: d.sealer.open(row.secret_key_enc, sealContext(row.access_key)),
            backendId: row.backend_id,
            scopes: exact,
            prefixes,
            buckets,
            userId: row.user_id,
            createdAt: row.created_at,
            expiresAt: row.expires_at,
          })
        } catch (err) {
          d.logger.error('virtual credential unreadable; skipped', { access_key: row.access_key, error: (err as Error).message })
        }
      }
    }
    cache = next
    clearSigningKeyCache()
  }
  await reload()
  const warn = (err: unknown) => d.logger.warn('reloading credentials failed', { error: (err as Error).message })
  const stops = [
    await d.changes.on(
      CREDENTIALS_CHANNEL,
      () => reload().catch(warn),
      () => void reload().catch(warn),
    ),
    await d.changes.on(
      USERS_CHANNEL,
      (userId) => void owners.delete(userId),
      () => owners.clear(),
    ),
  ]
  const announce = (): Promise<void> => d.changes.announce(CREDENTIALS_CHANNEL, '')

  function toDTO(row: CredentialRow, urls: ProxyUrls, secret?: string): CredentialDTO {
    const buckets = scopesOf(row)
    return {
      access_key: row.access_key,
      ...(secret ? { secret_key: secret } : {}),
      backend_id: row.backend_id,
      buckets,
      ...(row.user_id ? { user_id: row.user_id } : {}),
      description: row.description,
      enabled: row.enabled === 1,
      ...(row.expires_at !== null ? { expires_at: iso(row.expires_at)! } : {}),
      expired: row.expires_at !== null && row.expires_at <= d.now(),
      created_at: iso(row.created_at)!,
      ...(row.created_by ? { created_by: row.created_by } : {}),
      updated_at: iso(row.updated_at)!,
      ...(row.updated_by ? { updated_by: row.updated_by } : {}),
      endpoint_url: urls.endpoint,
      bucket_urls: Object.fromEntries(buckets.flatMap((b) => ('bucket' in b ? [[b.bucket, urls.bucket(b.bucket)]] : []))),
    }
  }

  function futureExpiry(text: string | undefined | null): number | null {
    if (!text) return null
    const ms = Date.parse(text)
    if (Number.isNaN(ms)) throw fail('invalid_request', 'expires_at is not a valid RFC 3339 time.', [{ path: '/expires_at' }])
    if (ms <= d.now()) throw fail('invalid_request', 'expires_at must be in the future.', [{ path: '/expires_at' }])
    return ms
  }

  async function mustGet(accessKey: string, actor: Actor, caller: Caller): Promise<CredentialRow> {
    const row = await d.store.get(accessKey)
    // Someone else's key is "not found", so ids cannot be probed.
    if (!row || (caller.self && row.user_id !== actor.id)) throw fail('not_found', 'No such credential.')
    return row
  }

  async function ownerExists(userId: string): Promise<boolean> {
    if (userId === STATIC_USER_ID) return Boolean(d.staticUsername)
    return (await d.store.owner(userId)) !== null
  }

  const auditRow = (origin: AuditOrigin, action: string, row: CredentialRow, caller: Caller, extra: Record<string, unknown> = {}): void =>
    void d.audit.record({
      ...origin,
      action,
      backend: row.backend_id,
      status: 'ok',
      detail: { access_key: row.access_key, buckets: scopesOf(row), description: row.description, owner_id: row.user_id, self: caller.self, ...extra },
    })

  return {
    reload,

    /**
     * Brings the owner's state of a claimed access key up to date (from the
     * cache while it is fresh), so that `resolve`, which the signature
     * verifier calls synchronously, has it. Call it before verifying.
     */
    async warm(accessKey: string): Promise<void> {
      const userId = cache.get(accessKey)?.userId
      if (!userId || userId === STATIC_USER_ID) return
      const hit = owners.get(userId)
      const t = Date.now()
      if (hit && t - hit.at < d.ownerTtlMs) return
      const row = await d.store.owner(userId)
      if (owners.size > 10_000) owners.clear()
      owners.set(userId, { row, at: t })
    },

    /** The credential for a proxied request (after `warm`), or undefined when unknown, disabled, expired or its owner cannot act. */
    resolve(accessKey: string, now: number): ResolvedCredential | undefined {
      const c = cache.get(accessKey)
      if (!c) return undefined
      if (c.expiresAt !== null && c.expiresAt <= now) return undefined
      let readOnly = false
      if (c.userId !== null) {
        if (c.userId === STATIC_USER_ID) {
          if (!d.staticUsername) return undefined
        } else {
          const owner = owners.get(c.userId)?.row
          if (!owner || owner.enabled !== 1) return undefined
          readOnly = owner.role === 'readonly'
        }
      }
      return {
        accessKey: c.accessKey,
        secret: c.secret,
        backendId: c.backendId,
        scopes: c.scopes,
        prefixes: c.prefixes,
        buckets: c.buckets,
        userId: c.userId,
        createdAt: c.createdAt,
        readOnly,
      }
    },

    /** The backend of a user's own credential; undefined for another's (which then answers 404). */
    async backendOf(accessKey: string, userId: string): Promise<string | undefined> {
      const row = await d.store.get(accessKey)
      return row && row.user_id === userId ? row.backend_id : undefined
    },

    /** Every credential (admin), or one user's. */
    async list(urls: ProxyUrls, userId?: string): Promise<CredentialDTO[]> {
      return (await (userId === undefined ? d.store.list() : d.store.listByUser(userId))).map((r) => toDTO(r, urls))
    },

    async create(actor: Actor, body: AdminCreateCredentialBody, origin: AuditOrigin, caller: Caller, urls: ProxyUrls): Promise<CredentialDTO> {
      if (!d.sealer) throw fail('secret_key_unset')
      const backend = checkBackend(d.registry, body.backend_id)
      const expiresAt = futureExpiry(body.expires_at)
      const owner = caller.self ? actor.id : (body.user_id ?? null)
      if (owner !== null && !(await ownerExists(owner))) throw fail('invalid_request', 'No such user.', [{ path: '/user_id' }])
      const buckets = await checkScopes(backend, body.buckets as ScopeInput[], [], { adminGrants: !caller.self, logger: d.logger })
      const secret = newSecretKey()
      const now = d.now()
      let row: CredentialRow | undefined
      for (let attempt = 0; !row; attempt++) {
        const accessKey = newAccessKeyId()
        const candidate: CredentialRow = {
          access_key: accessKey,
          secret_key_enc: d.sealer.seal(secret, sealContext(accessKey)),
          backend_id: body.backend_id,
          buckets: JSON.stringify(buckets),
          user_id: owner,
          description: body.description ?? '',
          enabled: 1,
          expires_at: expiresAt,
          created_at: now,
          created_by: actor.id,
          updated_at: now,
          updated_by: actor.id,
        }
        try {
          await d.store.insert(candidate)
          row = candidate
        } catch (err) {
          // 85 random bits make a clash all but impossible; retry once anyway rather than fail the user.
          if (attempt > 0 || !isUniqueViolation(err)) throw err
        }
      }
      await announce()
      auditRow(origin, 's3_credential.create', row, caller)
      return toDTO(row, urls, secret)
    },

    async update(actor: Actor, accessKey: string, body: PatchCredentialBody, origin: AuditOrigin, caller: Caller, urls: ProxyUrls): Promise<CredentialDTO> {
      const row = await mustGet(accessKey, actor, caller)
      const fields: Parameters<CredentialStore['update']>[1] = {}
      const changed: string[] = []
      if (body.buckets !== undefined) {
        const backend = checkBackend(d.registry, row.backend_id)
        const buckets = await checkScopes(backend, body.buckets as ScopeInput[], scopesOf(row), { adminGrants: !caller.self, logger: d.logger })
        fields.buckets = JSON.stringify(buckets)
        changed.push('buckets')
      }
      if (body.description !== undefined) {
        fields.description = body.description
        changed.push('description')
      }
      if (body.enabled !== undefined) {
        fields.enabled = body.enabled ? 1 : 0
        changed.push('enabled')
      }
      if (body.expires_at !== undefined) {
        fields.expires_at = futureExpiry(body.expires_at)
        changed.push('expires_at')
      }
      if (changed.length > 0) {
        fields.updated_at = d.now()
        fields.updated_by = actor.id
        await d.store.update(accessKey, fields)
        await announce()
      }
      const updated = (await d.store.get(accessKey))!
      if (changed.length > 0) auditRow(origin, 's3_credential.update', updated, caller, { fields: changed, enabled: updated.enabled === 1 })
      return toDTO(updated, urls)
    },

    async remove(actor: Actor, accessKey: string, origin: AuditOrigin, caller: Caller): Promise<void> {
      const row = await mustGet(accessKey, actor, caller)
      await d.store.remove(accessKey)
      await announce()
      auditRow(origin, 's3_credential.delete', row, caller)
    },

    /** Live (enabled, readable) credentials, for a cache-size gauge. */
    size: (): number => cache.size,
    close: async (): Promise<void> => void (await Promise.all(stops.map((stop) => stop()))),
  }
}
