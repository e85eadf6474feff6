// SPDX-License-Identifier: AGPL-3.0-or-later
/** Liveness and readiness: /readyz is 503 with the reason when a critical check fails. */
import { TEST_STORE } from '../helpers/store.ts'
import { afterEach, expect, test, setDefaultTimeout } from 'bun:test'
import { testApp, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let t: TestApp | undefined
afterEach(async () => {
  await t?.close().catch(() => {})
  t = undefined
})

type Ready = { status: string; checks: Record<string, { ok: boolean; reason?: string; driver?: string }> }

test('/healthz answers ok without a session', async () => {
  t = await testApp()
  const res = await t.call('GET', '/healthz')
  expect(res.status).toBe(200)
  expect(await res.json()).toEqual({ status: 'ok' })
})

test('/readyz is 200 with every check listed when healthy', async () => {
  t = await testApp()
  const res = await t.call('GET', '/readyz')
  expect(res.status).toBe(200)
  expect(res.headers.get('cache-control')).toBe('no-store')
  const body = (await res.json()) as Ready
  expect(body.status).toBe('ready')
  expect(body.checks.database).toEqual({ ok: true, driver: TEST_STORE })
  expect(body.checks.migrations?.ok).toBe(true)
  expect(body.checks.secret_key?.ok).toBe(true)
})

test('/readyz is 503 naming the failed check and its reason when the database is gone', async () => {
  t = await testApp()
  await t.s.db.close()
  const res = await t.call('GET', '/readyz')
  expect(res.status).toBe(503)
  const body = (await res.json()) as Ready
  expect(body.status).toBe('not_ready')
  expect(body.checks.database?.ok).toBe(false)
  expect(body.checks.database?.reason).toBeTruthy()
  // Liveness is about the process, not its dependencies.
  expect((await t.call('GET', '/healthz')).status).toBe(200)
})

test('a failing non-critical check is reported but keeps /readyz at 200', async () => {
  // A bad STOWAGE_SECRET_KEY leaves the app without a master key: degraded, not down.
  t = await testApp({}, { env: { STOWAGE_SECRET_KEY: 'not-a-key' } })
  const res = await t.call('GET', '/readyz')
  expect(res.status).toBe(200)
  const body = (await res.json()) as Ready
  expect(body.checks.secret_key?.ok).toBe(false)
  expect(body.checks.secret_key?.reason).toContain('STOWAGE_SECRET_KEY')
  expect(JSON.stringify(body)).not.toContain('not-a-key')
})
