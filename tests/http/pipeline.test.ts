// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every dashboard request passes the request pipeline (src/http/pipeline.ts) once: one access-log
 * line, one Prometheus count, one count in the dashboard's statistics, the security headers and
 * the request id on the answer, and the in-flight gauge back at zero — for a GET, a HEAD (handed
 * to the app as a GET), a refused mutation and an unknown path alike.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test'
import { captureLogger, servedApp, until, type Captured, type Served } from './support.ts'

setDefaultTimeout(20_000)

let served: Served
let log: Captured

beforeAll(async () => {
  log = captureLogger()
  served = await servedApp({}, { logger: log.logger })
})
afterAll(() => served.stop())

async function counted(method: string, route: string): Promise<number> {
  const metric = await served.t.s.metrics.httpRequests.get()
  return metric.values.filter((v) => v.labels.method === method && v.labels.route === route).reduce((sum, v) => sum + v.value, 0)
}

async function inFlight(): Promise<number> {
  return (await served.t.s.metrics.httpInFlight.get()).values[0]?.value ?? 0
}

async function total24h(cookie: string): Promise<number> {
  const res = await fetch(`${served.base}/api/admin/dashboard`, { headers: { cookie } })
  expect(res.status).toBe(200)
  return ((await res.json()) as { requests: { total_24h: number } }).requests.total_24h
}

const cases: Array<{ name: string; method: string; path: string; route: string; status: number; signedIn: boolean }> = [
  { name: 'a GET', method: 'GET', path: '/api/me', route: '/api/me', status: 200, signedIn: true },
  { name: 'a HEAD', method: 'HEAD', path: '/api/me', route: '/api/me', status: 200, signedIn: true },
  { name: 'a mutation without its CSRF token', method: 'POST', path: '/api/me/password', route: '/api/me/password', status: 403, signedIn: true },
  { name: 'an unknown path', method: 'POST', path: '/api/no-such-thing', route: 'unmatched', status: 404, signedIn: false },
]

for (const c of cases) {
  test(`${c.name} passes the pipeline once`, async () => {
    const admin = await served.t.user('admin')
    const id = `pipeline-${c.method}-${c.status}-${crypto.randomUUID()}`
    const before = { metric: await counted(c.method, c.route), stats: await total24h(admin.cookie) }
    const res = await fetch(`${served.base}${c.path}`, {
      method: c.method,
      headers: { 'x-request-id': id, ...(c.signedIn ? { cookie: admin.cookie } : {}), ...(c.method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      ...(c.method === 'POST' ? { body: '{}' } : {}),
    })
    await res.arrayBuffer()
    expect(res.status).toBe(c.status)
    expect(res.headers.get('x-request-id')).toBe(id)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'")

    await until(() => log.entries().some((e) => e.msg === 'request' && e.request_id === id))
    const lines = log.entries().filter((e) => e.msg === 'request' && e.request_id === id)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ method: c.method, route: c.route, status: c.status })
    expect(await counted(c.method, c.route)).toBe(before.metric + 1)
    // Statistics count /api requests; reading them is one more (the "before" read already counted).
    expect(await total24h(admin.cookie)).toBe(before.stats + 2)
    expect(await inFlight()).toBe(0)
  })
}
