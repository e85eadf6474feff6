// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Single and bulk deletes. Usage drops right away: the sizes of what is
 * deleted are looked up first (the single delete always; the bulk delete when
 * the bucket is size-tracked or capped). The bulk audit row names every key
 * with its outcome, not only counts.
 */
import type { AuditOrigin } from '../audit/model.ts'
import { fail } from '../http/errors.ts'
import { storage } from '../storage/errors.ts'
import { keyProblem, validateKey } from '../storage/validate.ts'
import { audited } from './audit.ts'
import { recordDelete } from './quota.ts'
import { headOrNull, type ObjectDeps, type Target } from './target.ts'

const HEAD_CONCURRENCY = 16

/** DELETE …/object: 404 when there is no such object (or version). */
export function deleteObject(d: ObjectDeps, t: Target, origin: AuditOrigin, key: string, versionId?: string): Promise<void> {
  validateKey(key)
  return audited(
    d.audit,
    origin,
    { action: 'object.delete', backend: t.bid, bucket: t.bucket, key, detail: versionId ? { version_id: versionId } : {} },
    async (detail) => {
      const info = await headOrNull(t, key, d.logger, versionId ? { versionId } : {})
      if (!info) throw fail('not_found', 'No such object.')
      await storage(t.backend.deleteObject(t.bucket, key, versionId ? { versionId } : undefined), d.logger, { notFound: 'No such object.' })
      detail.size = info.size
      // Deleting a version other than the latest, or under versioning, may not free the current size; the scanner corrects it.
      await recordDelete(d.accounting, t, info.size, 1)
    },
  )
}

export type BulkKey = { key: string; version_id?: string }
export type BulkResult = {
  deleted: Array<{ key: string; version_id?: string }>
  errors: Array<{ key: string; version_id?: string; code: string; message: string }>
}

async function sizesOf(t: Target, keys: BulkKey[], d: ObjectDeps): Promise<Map<string, number>> {
  const sizes = new Map<string, number>()
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const k = keys[next++]!
      const info = await headOrNull(t, k.key, d.logger, { ...(k.version_id ? { versionId: k.version_id } : {}), bucketKnown: true }).catch(() => null)
      if (info) sizes.set(`${k.key}\u0000${k.version_id ?? ''}`, info.size)
    }
  }
  await Promise.all(Array.from({ length: Math.min(HEAD_CONCURRENCY, keys.length) }, worker))
  return sizes
}

/** POST …/objects/delete: up to 1000 keys; invalid keys are reported per key, not fatal. */
export function bulkDelete(d: ObjectDeps, t: Target, origin: AuditOrigin, keys: BulkKey[]): Promise<BulkResult> {
  if (keys.length > 1000) throw fail('too_many_keys', 'At most 1000 keys per request.')
  return audited(d.audit, origin, { action: 'object.bulk_delete', backend: t.bid, bucket: t.bucket, detail: { requested: keys.length } }, async (detail) => {
    const result: BulkResult = { deleted: [], errors: [] }
    const valid: BulkKey[] = []
    const seen = new Set<string>()
    for (const k of keys) {
      const problem = keyProblem(k.key)
      if (problem) {
        result.errors.push({
          key: k.key,
          ...(k.version_id ? { version_id: k.version_id } : {}),
          code: 'invalid_key',
          message: `The object key is not valid: ${problem}.`,
        })
        continue
      }
      const id = `${k.key}\u0000${k.version_id ?? ''}`
      if (seen.has(id)) continue
      seen.add(id)
      valid.push(k)
    }
    const { counted } = await d.accounting.writeTerms(t.bid, t.bucket)
    const sizes = counted && valid.length ? await sizesOf(t, valid, d) : new Map<string, number>()
    if (valid.length) {
      const out = await storage(
        t.backend.deleteObjects(
          t.bucket,
          valid.map((k) => ({ key: k.key, ...(k.version_id ? { versionId: k.version_id } : {}) })),
        ),
        d.logger,
      )
      let bytes = 0
      let objects = 0
      for (const x of out.deleted) {
        result.deleted.push({ key: x.key, ...(x.versionId ? { version_id: x.versionId } : {}) })
        const size = sizes.get(`${x.key}\u0000${x.versionId ?? ''}`)
        if (size !== undefined) {
          bytes += size
          objects++
        }
      }
      // Upstream messages are not ours to show; the code says enough.
      for (const e of out.errors)
        result.errors.push({
          key: e.key,
          ...(e.versionId ? { version_id: e.versionId } : {}),
          code: e.code || 'delete_failed',
          message: 'The backend could not delete this object.',
        })
      await recordDelete(d.accounting, t, bytes, objects)
    }
    detail.deleted = result.deleted.length
    detail.failed = result.errors.length
    detail.keys = [
      ...result.deleted.map((k) => ({ key: k.key, ...(k.version_id ? { version_id: k.version_id } : {}), outcome: 'deleted' })),
      ...result.errors.map((k) => ({ key: k.key, ...(k.version_id ? { version_id: k.version_id } : {}), outcome: 'failed', code: k.code })),
    ]
    return result
  })
}
