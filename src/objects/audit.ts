// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * One audit row per user intent, success or failure: `audited` runs an
 * operation and records `ok`, `denied` (our policy refused: quota) or `error`
 * with the error code, whatever happened.
 */
import type { AuditEvent, AuditOrigin, AuditStatus } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import { AppError } from '../http/errors.ts'
import { storageError } from '../storage/errors.ts'

export type AuditBase = { action: string; backend: string; bucket?: string | null; key?: string | null; detail?: Record<string, unknown> }

export function auditStatusOf(err: AppError): AuditStatus {
  return err.code === 'quota_exceeded' || err.code === 'forbidden' ? 'denied' : 'error'
}

/**
 * Runs `op`, which may add facts to `detail` as it goes, and records the
 * outcome. The error is rethrown unchanged.
 */
export async function audited<T>(audit: AuditRecorder, origin: AuditOrigin, base: AuditBase, op: (detail: Record<string, unknown>) => Promise<T>): Promise<T> {
  const detail: Record<string, unknown> = { ...base.detail }
  const event: AuditEvent = { ...origin, action: base.action, backend: base.backend, bucket: base.bucket ?? null, key: base.key ?? null }
  try {
    const result = await op(detail)
    audit.record({ ...event, status: 'ok', detail })
    return result
  } catch (err) {
    const e = err instanceof AppError ? err : storageError(err)
    audit.record({ ...event, status: auditStatusOf(e), detail: { ...detail, error: e.code } })
    throw err
  }
}
