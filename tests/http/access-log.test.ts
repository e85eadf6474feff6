// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * One JSON access-log line per request on the real listener, naming the route
 * template (never the raw path), status, duration and user — and no secret
 * (password, session token, CSRF token, cookie) in any log line.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from 'bun:test'
import { createLogger } from '../../src/lib/log.ts'
import { PASSWORD } from '../helpers/app.ts'
import { captureLogger, servedApp, until, type Captured, type Served } from './support.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let served: Served
let log: Captured
const requests = () => log.entries().filter((e) => e.msg === 'request')

beforeAll(async () => {
  log = captureLogger()
  served = await servedApp({}, { logger: log.logger })
})
afterAll(() => served.stop())

async function lineFor(requestId: string): Promise<Record<string, unknown>> {
  await until(() => requests().some((e) => e.request_id === requestId))
  const lines = requests().filter((e) => e.request_id === requestId)
  expect(lines).toHaveLength(1)
  return lines[0]!
}

test('each line is JSON with method, route template, status, duration, bytes and ip', async () => {
  await fetch(`${served.base}/healthz`, { headers: { 'x-request-id': 'log-health' } })
  const line = await lineFor('log-health')
  expect(line).toMatchObject({ level: 'info', msg: 'request', listener: 'dashboard', method: 'GET', route: '/healthz', status: 200, ip: '127.0.0.1' })
  expect(typeof line.duration_ms).toBe('number')
  expect(line.bytes_out).toBeGreaterThan(0)
  expect(line.user_id).toBeUndefined()
  for (const raw of log.lines.filter((l) => l.includes('log-health'))) expect(() => JSON.parse(raw)).not.toThrow()
})

test('ids, keys and unknown paths never appear raw: the template (or "unmatched") does', async () => {
  const { t } = served
  const victim = await t.user('user', { username: 'victim-for-log' })
  const admin = await t.user('admin', { username: 'admin-for-log' })
  await fetch(`${served.base}/api/admin/users/${victim.userId}`, { headers: { cookie: admin.cookie, 'x-request-id': 'log-user' } })
  const line = await lineFor('log-user')
  expect(line).toMatchObject({ route: '/api/admin/users/:id', status: 200, user_id: admin.userId })
  await fetch(`${served.base}/api/no/such/secret-looking-path-123`, { method: 'POST', headers: { 'x-request-id': 'log-404' } })
  const nf = await lineFor('log-404')
  expect(nf.status).toBe(404)
  expect(nf.route).toBe('unmatched')
  const all = log.lines.join('\n')
  expect(all).not.toContain(victim.userId)
  expect(all).not.toContain('secret-looking-path-123')
})

test('a refused request (401) is logged once with its route', async () => {
  await fetch(`${served.base}/api/admin/users`, { headers: { 'x-request-id': 'log-401' } })
  const line = await lineFor('log-401')
  expect(line.status).toBe(401)
  expect(line.route).toBe('/api/admin/users')
})

test('no password, token, CSRF token or cookie in any log line during login and password change', async () => {
  const { t } = served
  const before = log.lines.length
  const username = 'log-secrets-user'
  const newPassword = 'Brand-new passphrase 42!'
  const c = await t.user('user', { username })
  const login = await fetch(`${served.base}/auth/login/local`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'log-login' },
    body: JSON.stringify({ username, password: PASSWORD }),
  })
  expect(login.status).toBe(200)
  const cookies = login.headers.getSetCookie().map((x) => x.split(';')[0]!)
  const session = cookies.find((x) => x.startsWith('stowage_session='))!.split('=')[1]!
  const csrf = cookies.find((x) => x.startsWith('stowage_csrf='))!.split('=')[1]!
  const change = await fetch(`${served.base}/api/me/password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: cookies.join('; '), 'x-csrf-token': csrf, 'x-request-id': 'log-change' },
    body: JSON.stringify({ current_password: PASSWORD, new_password: newPassword }),
  })
  expect(change.status).toBe(200)
  const wrong = await fetch(`${served.base}/auth/login/local`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'log-wrong' },
    body: JSON.stringify({ username, password: 'a wrong guess that must not be logged' }),
  })
  expect(wrong.status).toBe(401)
  await lineFor('log-login')
  await lineFor('log-change')
  await lineFor('log-wrong')
  const lines = log.lines.slice(before).join('\n')
  for (const secret of [
    PASSWORD,
    newPassword,
    'a wrong guess that must not be logged',
    session,
    csrf,
    c.csrf,
    c.cookie.split('; ')[0]!.split('=')[1]!,
    'stowage_session',
    'stowage_csrf',
    'argon2',
  ]) {
    expect([secret, lines.includes(secret)]).toEqual([secret, false])
  }
  expect((await lineFor('log-change')).user_id).toBe(c.userId)
})

describe('log.access_level', () => {
  const infoLogger = (): { lines: string[]; logger: ReturnType<typeof createLogger> } => {
    const lines: string[] = []
    return { lines, logger: createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l) }) }
  }

  test('access lines are written at the configured level, and dropped below log.level', async () => {
    for (const [level, expected] of [
      ['warn', 'warn'],
      ['debug', undefined],
      ['off', undefined],
    ] as const) {
      const cap = infoLogger()
      const s = await servedApp({ log: { access_level: level } }, { logger: cap.logger })
      try {
        await fetch(`${s.base}/healthz`, { headers: { 'x-request-id': `lvl-${level}` } })
        await Bun.sleep(50)
        const lines = cap.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.request_id === `lvl-${level}`)
        expect([level, lines.map((e) => e.level)]).toEqual([level, expected === undefined ? [] : [expected]])
      } finally {
        await s.stop()
      }
    }
  })
})
