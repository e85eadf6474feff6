// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bucket settings kept by the backend itself: versioning, bucket policy and
 * lifecycle rules. Each needs a backend capability (the fs driver has none of
 * them) and answers 501 `not_supported` without one. A policy or lifecycle the
 * backend refuses is a 400 with our own message; the upstream's text is only
 * logged.
 */
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import { BackendError, type Backend, type LifecycleRule } from '../backends/backend.ts'
import type { Registry } from '../backends/registry.ts'
import { fail, type ErrorCode } from '../http/errors.ts'
import { jsonShapeProblem } from '../http/json-shape.ts'
import type { Logger } from '../lib/log.ts'
import { logStorageFailure, storage } from '../storage/errors.ts'
import { validateBucketName } from '../storage/validate.ts'
import { validateLifecycle } from './lifecycle.ts'

export const MAX_POLICY_BYTES = 256 * 1024

type Capability = 'versioning' | 'bucket_policy' | 'lifecycle'
const FEATURE: Record<Capability, string> = { versioning: 'bucket versioning', bucket_policy: 'bucket policies', lifecycle: 'lifecycle rules' }

export type BucketSettings = ReturnType<typeof createBucketSettings>

export function createBucketSettings(d: { registry: Registry; audit: AuditRecorder; logger: Logger }) {
  function capable(backendId: string, bucket: string, cap: Capability): Backend {
    const backend = d.registry.get(backendId)
    validateBucketName(bucket)
    if (!backend.capabilities[cap]) throw fail('not_supported', `This backend does not support ${FEATURE[cap]}.`)
    return backend
  }

  /** Runs a write the backend may refuse as invalid; the refusal becomes `code` with a safe message. */
  function refusable(run: Promise<void>, code: ErrorCode, message: string): Promise<void> {
    return storage(
      run.catch((err: unknown) => {
        if (!(err instanceof BackendError && err.kind === 'invalid')) throw err
        logStorageFailure(d.logger, err)
        throw fail(code, message)
      }),
      d.logger,
    )
  }

  return {
    async versioning(backendId: string, bucket: string): Promise<{ enabled: boolean }> {
      const b = capable(backendId, bucket, 'versioning')
      return { enabled: await storage(b.getVersioning(bucket), d.logger) }
    },

    async setVersioning(backendId: string, bucket: string, enabled: boolean, origin: AuditOrigin): Promise<{ enabled: boolean }> {
      const b = capable(backendId, bucket, 'versioning')
      await storage(b.setVersioning(bucket, enabled), d.logger)
      d.audit.record({ ...origin, action: 'bucket.versioning.set', backend: backendId, bucket, status: 'ok', detail: { enabled } })
      return { enabled }
    },

    async policy(backendId: string, bucket: string): Promise<{ policy: string }> {
      const b = capable(backendId, bucket, 'bucket_policy')
      return { policy: (await storage(b.getPolicy(bucket), d.logger)) ?? '' }
    },

    async setPolicy(backendId: string, bucket: string, policy: string, origin: AuditOrigin): Promise<void> {
      const b = capable(backendId, bucket, 'bucket_policy')
      if (Buffer.byteLength(policy) > MAX_POLICY_BYTES) throw fail('invalid_policy', 'The policy is larger than 256 KiB.')
      // The document goes on to the backend's own parser: refuse what could stall it.
      const shape = jsonShapeProblem(policy)
      if (shape) throw fail('invalid_policy', shape)
      let parsed: unknown
      try {
        parsed = JSON.parse(policy)
      } catch {
        throw fail('invalid_policy')
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw fail('invalid_policy', 'The policy must be a JSON object.')
      await refusable(b.setPolicy(bucket, policy), 'invalid_policy', 'The backend refused this policy; check its principals, actions and resources.')
      d.audit.record({ ...origin, action: 'bucket.policy.set', backend: backendId, bucket, status: 'ok', detail: { bytes: Buffer.byteLength(policy) } })
    },

    async deletePolicy(backendId: string, bucket: string, origin: AuditOrigin): Promise<void> {
      const b = capable(backendId, bucket, 'bucket_policy')
      await storage(b.deletePolicy(bucket), d.logger)
      d.audit.record({ ...origin, action: 'bucket.policy.delete', backend: backendId, bucket, status: 'ok' })
    },

    async lifecycle(backendId: string, bucket: string): Promise<{ rules: LifecycleRule[] }> {
      const b = capable(backendId, bucket, 'lifecycle')
      return { rules: await storage(b.getLifecycle(bucket), d.logger) }
    },

    async setLifecycle(backendId: string, bucket: string, rules: LifecycleRule[], origin: AuditOrigin): Promise<{ rules: LifecycleRule[] }> {
      const b = capable(backendId, bucket, 'lifecycle')
      validateLifecycle(rules)
      if (rules.length === 0) {
        await storage(b.deleteLifecycle(bucket), d.logger)
        d.audit.record({ ...origin, action: 'bucket.lifecycle.delete', backend: backendId, bucket, status: 'ok' })
        return { rules: [] }
      }
      await refusable(b.setLifecycle(bucket, rules), 'invalid_lifecycle', 'The backend refused these lifecycle rules.')
      d.audit.record({ ...origin, action: 'bucket.lifecycle.set', backend: backendId, bucket, status: 'ok', detail: { rules: rules.length } })
      return { rules }
    },

    async deleteLifecycle(backendId: string, bucket: string, origin: AuditOrigin): Promise<void> {
      const b = capable(backendId, bucket, 'lifecycle')
      await storage(b.deleteLifecycle(bucket), d.logger)
      d.audit.record({ ...origin, action: 'bucket.lifecycle.delete', backend: backendId, bucket, status: 'ok' })
    },
  }
}
