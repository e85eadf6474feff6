// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Virtual S3 credentials: minted by users for themselves or by admins, scoped
 * to existing buckets on one S3 backend, each bucket `read` or `read-write`;
 * admins may also grant bucket-name prefixes (tenant namespaces) and `owner`
 * access (see access.ts for how entries combine).
 *
 * The proxy authenticates from an in-memory map rebuilt from SQLite after
 * every change, so a create, scope change, disable or revoke applies to the
 * very next proxied request. Expiry and the owner's state are checked on each
 * lookup: an expired key, or one whose owner is disabled or deleted, stops at
 * once; an owner demoted to readonly keeps only read access.
 *
 * Secrets are sealed with the master key (context `s3cred:<access key>`) and
 * shown once, in the answer to the create call.
 */
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import { STATIC_USER_ID, type Actor } from '../auth/actor.ts'
import type { Registry } from '../backends/registry.ts'
import { fail } from '../http/errors.ts'
import type { Logger } from '../lib/log.ts'
import type { Sealer } from '../lib/seal.ts'
import { clearSigningKeyCache } from '../s3proxy/sigv4/verify.ts'
import { iso } from '../users/model.ts'
import { newAccessKeyId, newSecretKey } from './keys.ts'
import { indexScope } from './access.ts'
import type { AdminCreateCredentialBody, BucketAccess, BucketScope, CredentialDTO, PatchCredentialBody, PrefixScope } from './model.ts'
import { checkBackend, checkScopes, type ScopeInput } from './scope.ts'
import { scopesOf, type CredentialRow, type CredentialStore } from './store.ts'
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

export type CredentialService = ReturnType<typeof createCredentialService>

export function createCredentialService(d: {
  store: CredentialStore
  registry: Registry
  sealer: Sealer | undefined
  audit: AuditRecorder
  logger: Logger
  now: () => number
  staticUsername: string | undefined
}) {
  let cache = new Map<string, Cached>()

  function reload(): void {
    const next = new Map<string, Cached>()
    if (d.sealer) {
      for (const row of d.store.list()) {
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
  reload()

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

  function mustGet(accessKey: string, actor: Actor, caller: Caller): CredentialRow {
    const row = d.store.get(accessKey)
    // Someone else's key is "not found", so ids cannot be probed.
    if (!row || (caller.self && row.user_id !== actor.id)) throw fail('not_found', 'No such credential.')
    return row
  }

  function ownerExists(userId: string): boolean {
    if (userId === STATIC_USER_ID) return Boolean(d.staticUsername)
    return d.store.owner(userId) !== null
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

    /** The credential for a proxied request, or undefined when unknown, disabled, expired or its owner cannot act. */
    resolve(accessKey: string, now: number): ResolvedCredential | undefined {
      const c = cache.get(accessKey)
      if (!c) return undefined
      if (c.expiresAt !== null && c.expiresAt <= now) return undefined
      let readOnly = false
      if (c.userId !== null) {
        if (c.userId === STATIC_USER_ID) {
          if (!d.staticUsername) return undefined
        } else {
          const owner = d.store.owner(c.userId)
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
    backendOf(accessKey: string, userId: string): string | undefined {
      const row = d.store.get(accessKey)
      return row && row.user_id === userId ? row.backend_id : undefined
    },

    /** Every credential (admin), or one user's. */
    list(urls: ProxyUrls, userId?: string): CredentialDTO[] {
      return (userId === undefined ? d.store.list() : d.store.listByUser(userId)).map((r) => toDTO(r, urls))
    },

    async create(actor: Actor, body: AdminCreateCredentialBody, origin: AuditOrigin, caller: Caller, urls: ProxyUrls): Promise<CredentialDTO> {
      if (!d.sealer) throw fail('secret_key_unset')
      const backend = checkBackend(d.registry, body.backend_id)
      const expiresAt = futureExpiry(body.expires_at)
      const owner = caller.self ? actor.id : (body.user_id ?? null)
      if (owner !== null && !ownerExists(owner)) throw fail('invalid_request', 'No such user.', [{ path: '/user_id' }])
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
          d.store.insert(candidate)
          row = candidate
        } catch (err) {
          // 85 random bits make a clash all but impossible; retry once anyway rather than fail the user.
          if (attempt > 0 || !/UNIQUE|PRIMARY/.test((err as Error).message)) throw err
        }
      }
      reload()
      auditRow(origin, 's3_credential.create', row, caller)
      return toDTO(row, urls, secret)
    },

    async update(actor: Actor, accessKey: string, body: PatchCredentialBody, origin: AuditOrigin, caller: Caller, urls: ProxyUrls): Promise<CredentialDTO> {
      const row = mustGet(accessKey, actor, caller)
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
        d.store.update(accessKey, fields)
        reload()
      }
      const updated = d.store.get(accessKey)!
      if (changed.length > 0) auditRow(origin, 's3_credential.update', updated, caller, { fields: changed, enabled: updated.enabled === 1 })
      return toDTO(updated, urls)
    },

    remove(actor: Actor, accessKey: string, origin: AuditOrigin, caller: Caller): void {
      const row = mustGet(accessKey, actor, caller)
      d.store.remove(accessKey)
      reload()
      auditRow(origin, 's3_credential.delete', row, caller)
    },

    /** Live (enabled, readable) credentials, for a cache-size gauge. */
    size: (): number => cache.size,
  }
}
