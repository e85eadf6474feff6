// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Anonymous read-only bucket bindings: requests without any signature may
 * read a bound bucket through the proxy (GetObject, HeadObject, HeadBucket,
 * listings), limited per client IP. An anonymous request names only a bucket,
 * so a bucket name may be bound on one backend at most (the original keyed
 * bindings by name alone and let two backends' buckets collide). Bindings are
 * held in memory and reloaded after every change, on every replica (the
 * change is announced).
 */
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { Actor } from '../auth/actor.ts'
import type { Registry } from '../backends/registry.ts'
import { fail } from '../http/errors.ts'
import type { Changes } from '../db/changes.ts'
import type { Logger } from '../lib/log.ts'
import { validateBucketName } from '../storage/validate.ts'
import { iso } from '../users/model.ts'
import type { AnonymousBody, AnonymousDTO } from './model.ts'
import { checkBackend, checkBucketsExist } from './scope.ts'
import type { AnonymousRow, CredentialStore } from './store.ts'
import type { ProxyUrls } from './urls.ts'

export type Binding = { backendId: string; bucket: string; rps: number }

export type AnonymousService = Awaited<ReturnType<typeof createAnonymousService>>

const CHANNEL = 'stowage_anonymous'

export async function createAnonymousService(d: {
  store: CredentialStore
  changes: Changes
  registry: Registry
  audit: AuditRecorder
  logger: Logger
  now: () => number
  defaultRps: number
}) {
  let byBucket = new Map<string, Binding>()

  async function reload(): Promise<void> {
    byBucket = new Map(
      (await d.store.listAnonymous()).map((r) => [r.bucket, { backendId: r.backend_id, bucket: r.bucket, rps: r.per_source_ip_rps || d.defaultRps }]),
    )
  }
  await reload()
  const warn = (err: unknown) => d.logger.warn('reloading anonymous bindings failed', { error: (err as Error).message })
  const stop = await d.changes.on(
    CHANNEL,
    () => reload().catch(warn),
    () => void reload().catch(warn),
  )
  const changed = (): Promise<void> => d.changes.announce(CHANNEL, '')

  const toDTO = (r: AnonymousRow, urls: ProxyUrls): AnonymousDTO => ({
    backend_id: r.backend_id,
    bucket: r.bucket,
    mode: r.mode,
    per_source_ip_rps: r.per_source_ip_rps,
    effective_rps: r.per_source_ip_rps || d.defaultRps,
    url: urls.bucket(r.bucket),
    created_at: iso(r.created_at)!,
    ...(r.created_by ? { created_by: r.created_by } : {}),
    updated_at: iso(r.updated_at)!,
  })

  return {
    reload,
    /** The binding for a bucket name, if any. */
    byBucket: (bucket: string): Binding | undefined => byBucket.get(bucket),
    list: async (urls: ProxyUrls): Promise<AnonymousDTO[]> => (await d.store.listAnonymous()).map((r) => toDTO(r, urls)),

    async upsert(actor: Actor, body: AnonymousBody, origin: AuditOrigin, urls: ProxyUrls): Promise<AnonymousDTO> {
      const backend = checkBackend(d.registry, body.backend_id)
      try {
        validateBucketName(body.bucket)
      } catch {
        throw fail('invalid_bucket_name', undefined, [{ path: '/bucket' }])
      }
      const other = await d.store.anonymousByBucket(body.bucket)
      if (other && other.backend_id !== body.backend_id) {
        throw fail(
          'conflict',
          `A bucket named "${body.bucket}" is already bound on backend "${other.backend_id}"; anonymous requests name only the bucket, so it can be bound once.`,
        )
      }
      if (!other) await checkBucketsExist(backend, [body.bucket], d.logger, '/bucket')
      const now = d.now()
      await d.store.upsertAnonymous({
        backend_id: body.backend_id,
        bucket: body.bucket,
        mode: 'ReadOnly',
        per_source_ip_rps: body.per_source_ip_rps ?? 0,
        created_at: now,
        created_by: actor.id,
        updated_at: now,
      })
      await changed()
      const row = (await d.store.anonymousByBucket(body.bucket))!
      d.audit.record({
        ...origin,
        action: 's3_anonymous.upsert',
        backend: row.backend_id,
        bucket: row.bucket,
        status: 'ok',
        detail: { mode: row.mode, per_source_ip_rps: row.per_source_ip_rps },
      })
      return toDTO(row, urls)
    },

    async remove(backendId: string, bucket: string, origin: AuditOrigin): Promise<void> {
      const row = await d.store.anonymousByBucket(bucket)
      if (!row || row.backend_id !== backendId) throw fail('not_found', 'No such binding.')
      await d.store.removeAnonymous(backendId, bucket)
      await changed()
      d.audit.record({
        ...origin,
        action: 's3_anonymous.delete',
        backend: backendId,
        bucket,
        status: 'ok',
        detail: { mode: row.mode, per_source_ip_rps: row.per_source_ip_rps },
      })
    },

    /** Drops the binding of a deleted bucket. */
    async forget(backendId: string, bucket: string): Promise<void> {
      if (await d.store.removeAnonymous(backendId, bucket)) await changed()
    },
    close: stop,
  }
}
