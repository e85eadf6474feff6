// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Per-bucket CORS rules, stored in SQLite and answered by the S3 proxy, and
 * applied to the backend too where it takes them (browsers may talk to it
 * directly, e.g. through presigned URLs). The
 * whole table is held in memory (it is small), so `corsRules` is a map lookup
 * on the proxy's hot path and a preflight for an unknown bucket cannot grow a
 * cache; a write replaces the one bucket's entry and tells the other
 * replicas (they reload that bucket's row).
 */
import type { Changes } from '../db/changes.ts'
import type { Database } from '../db/database.ts'
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { Actor } from '../auth/actor.ts'
import type { Registry } from '../backends/registry.ts'
import { fail } from '../http/errors.ts'
import type { Logger } from '../lib/log.ts'
import { bucketKey } from '../quotas/usage.ts'
import { storage } from '../storage/errors.ts'
import { validateBucketName } from '../storage/validate.ts'
import { normaliseCors } from './cors-rules.ts'
import type { CorsRule } from './model.ts'

type CorsRow = { backend_id: string; bucket: string; rules: string }

export type CorsService = Awaited<ReturnType<typeof createCorsService>>

const NONE: readonly CorsRule[] = Object.freeze([])

const CHANNEL = 'stowage_cors'

export async function createCorsService(d: { db: Database; changes: Changes; registry: Registry; audit: AuditRecorder; logger: Logger; now: () => number }) {
  const rules = new Map<string, readonly CorsRule[]>()
  const keep = (r: CorsRow) => rules.set(bucketKey(r.backend_id, r.bucket), Object.freeze(JSON.parse(r.rules) as CorsRule[]))

  async function reload(payload: string): Promise<void> {
    const [backendId, bucket] = JSON.parse(payload) as [string, string]
    const row = await d.db.get<CorsRow>('SELECT backend_id, bucket, rules FROM bucket_cors WHERE backend_id = ? AND bucket = ?', [backendId, bucket])
    if (row) keep(row)
    else rules.delete(bucketKey(backendId, bucket))
  }
  async function loadAll(): Promise<void> {
    const rows = await d.db.all<CorsRow>('SELECT backend_id, bucket, rules FROM bucket_cors')
    rules.clear()
    for (const r of rows) keep(r)
  }
  const warn = (err: unknown) => d.logger.warn('cors reload failed', { error: (err as Error).message })
  const unlisten = await d.changes.on(
    CHANNEL,
    (payload) => reload(payload).catch(warn),
    () => void loadAll().catch(warn),
  )
  await loadAll()

  const changed = (backendId: string, bucket: string) => d.changes.announce(CHANNEL, JSON.stringify([backendId, bucket]))

  async function remove(backendId: string, bucket: string): Promise<void> {
    await d.db.run('DELETE FROM bucket_cors WHERE backend_id = ? AND bucket = ?', [backendId, bucket])
    rules.delete(bucketKey(backendId, bucket))
    await changed(backendId, bucket)
  }

  return {
    /** The rules the S3 proxy applies to a bucket (empty when none). */
    corsRules: (backendId: string, bucket: string): readonly CorsRule[] => rules.get(bucketKey(backendId, bucket)) ?? NONE,

    get(backendId: string, bucket: string): { rules: CorsRule[] } {
      d.registry.get(backendId)
      validateBucketName(bucket)
      return { rules: [...(rules.get(bucketKey(backendId, bucket)) ?? NONE)] }
    },

    /** `actor` is who changes them: a dashboard user, or the owner of the S3 credential that sent PutBucketCors. */
    async set(actor: Pick<Actor, 'id'>, backendId: string, bucket: string, input: CorsRule[], origin: AuditOrigin): Promise<void> {
      const backend = d.registry.get(backendId)
      validateBucketName(bucket)
      const normal = normaliseCors(input)
      if (!(await storage(backend.bucketExists(bucket), d.logger))) throw fail('not_found', 'No such bucket.')
      // The backend first: if it refuses, Stowage keeps the rules it had, so both stay the same.
      if (backend.capabilities.backend_cors) await storage(backend.setCors(bucket, normal), d.logger)
      if (normal.length === 0) await remove(backendId, bucket)
      else {
        await d.db.run(
          `INSERT INTO bucket_cors (backend_id, bucket, rules, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (backend_id, bucket) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
          [backendId, bucket, JSON.stringify(normal), d.now(), actor.id],
        )
        rules.set(bucketKey(backendId, bucket), Object.freeze(normal))
        await changed(backendId, bucket)
      }
      d.audit.record({ ...origin, action: 'bucket.cors.set', backend: backendId, bucket, status: 'ok', detail: { rules: normal.length } })
    },

    /** Drops a deleted bucket's rules. */
    forget: remove,
    close: unlisten,
  }
}
