// SPDX-License-Identifier: AGPL-3.0-or-later
/** /metrics: Prometheus text with bounded labels — route templates, never raw paths or ids. */
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from 'bun:test'
import { servedApp, until, type Served } from '../http/support.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let served: Served
beforeAll(async () => {
  served = await servedApp()
})
afterAll(() => served.stop())

const metricsText = async (): Promise<string> => {
  const res = await fetch(`${served.base}/metrics`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/plain')
  return res.text()
}

test('requests are counted by route template; raw ids and unknown paths never become labels', async () => {
  const { t } = served
  const admin = await t.user('admin')
  const victim = await t.user('user')
  const byId = await fetch(`${served.base}/api/admin/users/${victim.userId}`, { headers: { cookie: admin.cookie } })
  expect(byId.status).toBe(200)
  await byId.text()
  const unknownId = await fetch(`${served.base}/api/admin/users/01JUNKNOWNUSERID0000000000`, { headers: { cookie: admin.cookie } })
  expect(unknownId.status).toBe(404)
  await unknownId.text()
  for (const p of ['/api/this-path-does-not-exist-4711', '/no/such/page-0815', '/api/admin/users/../../etc/passwd'])
    await (await fetch(`${served.base}${p}`)).text()
  await (await fetch(`${served.base}/api/also-missing-9999`, { method: 'POST' })).text()
  // The counters are updated when each response has ended.
  let text = ''
  await until(() => served.running.dashboard.inFlight() === 0)
  text = await metricsText()
  expect(text).toContain('stowage_http_requests_total{method="GET",route="/api/admin/users/:id",status="200"} 1')
  expect(text).toContain('stowage_http_requests_total{method="GET",route="/api/admin/users/:id",status="404"} 1')
  expect(text).toMatch(/stowage_http_requests_total\{method="POST",route="unmatched",status="404"\} 1/)
  for (const raw of [
    victim.userId,
    admin.userId,
    '01JUNKNOWNUSERID0000000000',
    'this-path-does-not-exist-4711',
    'page-0815',
    'etc/passwd',
    'also-missing-9999',
  ]) {
    expect([raw, text.includes(raw)]).toEqual([raw, false])
  }
  const routes = new Set([...text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]!))
  for (const r of routes) expect(r === 'unmatched' || r.startsWith('/')).toBe(true)
  for (const r of routes) expect(r).not.toMatch(/[0-9A-HJKMNP-TV-Z]{26}/)
})

test('it exposes the documented families', async () => {
  await served.t.login('nobody', 'wrong password')
  const text = await metricsText()
  for (const name of [
    'stowage_http_requests_total',
    'stowage_http_request_duration_seconds',
    'stowage_http_in_flight_requests',
    'stowage_login_attempts_total',
    'stowage_audit_events_shed_total',
    'stowage_sessions_active',
    'stowage_sqlite_db_bytes',
  ]) {
    expect(text).toContain(`# TYPE ${name} `)
  }
  expect(text).toContain('stowage_login_attempts_total{mode="local",result="failure"} 1')
  expect(text).not.toContain('nobody')
})
