// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A capped bucket whose usage cannot be counted refuses writes with 503
 * `backend_unavailable` (the original let them through).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { AppError } from '../../src/http/errors.ts'
import { silentLogger } from '../../src/lib/log.ts'
import { createQuotaService } from '../../src/quotas/service.ts'
import { testApp, type TestApp } from '../helpers/app.ts'
import { unreachableEndpoint } from '../helpers/s3.ts'

let t: TestApp
let hole: { endpoint: string; stop(): void }

beforeAll(async () => {
  hole = await unreachableEndpoint()
  const s3 = (id: string, endpoint: string) => ({ id, type: 's3', endpoint, access_key_env: 'AK', secret_key_env: 'SK', path_style: true })
  t = await testApp(
    { quotas: { scan_interval: '0' }, backends: [s3('refused', 'http://127.0.0.1:1'), s3('hole', hole.endpoint)] },
    { env: { AK: 'ak', SK: 'sk' } },
  )
})
afterAll(async () => {
  await t.close()
  hole.stop()
})

const capped = (bid: string, bucket: string): Promise<void> =>
  t.s.accounting.store.setQuota({ backend_id: bid, bucket, soft_bytes: null, hard_bytes: 1000, updated_at: Date.now(), updated_by: null })

test('an unreachable backend: the write is refused, not let through', async () => {
  await capped('refused', 'capped')
  const err = await t.s.accounting.assertCanWrite('refused', 'capped', 1).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(AppError)
  expect((err as AppError).status).toBe(503)
  expect((err as AppError).code).toBe('backend_unavailable')
  expect((err as AppError).message).not.toContain('127.0.0.1')
})

test('a count that outlives its budget: 503 with Retry-After, and the count carries on', async () => {
  const svc = createQuotaService({
    db: t.s.db,
    registry: t.s.registry,
    audit: t.s.audit,
    logger: silentLogger,
    now: Date.now,
    scanIntervalMs: 0,
    countBudgetMs: 200,
  })
  try {
    await capped('hole', 'slow')
    const started = performance.now()
    const err = await svc.assertCanWrite('hole', 'slow', 1).catch((e: unknown) => e)
    expect(performance.now() - started).toBeLessThan(2000)
    expect((err as AppError).code).toBe('backend_unavailable')
    expect((err as AppError).headers).toEqual({ 'retry-after': '10' })
    expect(svc.usage.counting('hole', 'slow')).toBe(true)
  } finally {
    svc.close()
  }
})

test('buckets without a hard cap are never counted on the write path', async () => {
  await t.s.accounting.assertCanWrite('refused', 'uncapped', 10 ** 12)
  expect(t.s.accounting.usage.counting('refused', 'uncapped')).toBe(false)
})
