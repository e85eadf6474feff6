// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Per-account lockout: 5 failures lock for 15 minutes (admin can unlock), and
 * unknown usernames lock exactly like real ones so "locked" reveals nothing.
 */
import { afterEach, expect, test, setDefaultTimeout } from 'bun:test'
import { errorCode, PASSWORD, testApp, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

const MIN = 60_000
let t: TestApp | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

async function lockApp() {
  const clock = { now: Date.UTC(2026, 0, 1, 12, 0, 0) }
  t = await testApp({}, { now: () => clock.now })
  return { t, clock }
}

const failures = async (t: TestApp, name: string, n: number): Promise<number[]> => {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push((await t.login(name, 'definitely wrong')).status)
  return out
}

test('the fifth failure locks; the right password is then refused with 429 account_locked', async () => {
  const { t } = await lockApp()
  await t.user('user', { username: 'carol' })
  expect(await failures(t, 'carol', 5)).toEqual([401, 401, 401, 401, 401])
  const res = await t.login('carol', PASSWORD)
  expect(res.status).toBe(429)
  expect(await errorCode(res)).toBe('account_locked')
  expect(res.headers.getSetCookie()).toEqual([])
  const row = (await t.s.users.getByUsername('carol'))!
  expect(row.failed_attempts).toBe(5)
  expect(row.locked_until).toBeGreaterThan(Date.UTC(2026, 0, 1, 12, 14, 0))
})

test('four failures and a success reset the counter', async () => {
  const { t } = await lockApp()
  await t.user('user', { username: 'dave' })
  await failures(t, 'dave', 4)
  expect((await t.login('dave', PASSWORD)).status).toBe(200)
  expect(await failures(t, 'dave', 4)).toEqual([401, 401, 401, 401])
  expect((await t.login('dave', PASSWORD)).status).toBe(200)
})

test('the lock lasts 15 minutes', async () => {
  const { t, clock } = await lockApp()
  await t.user('user', { username: 'erin' })
  await failures(t, 'erin', 5)
  clock.now += 14 * MIN
  expect((await t.login('erin', PASSWORD)).status).toBe(429)
  clock.now += 1 * MIN + 1
  expect((await t.login('erin', PASSWORD)).status).toBe(200)
})

test('an admin can unlock at once, and the user list shows the lock', async () => {
  const { t } = await lockApp()
  const admin = await t.user('admin')
  const frank = await t.user('user', { username: 'frank' })
  await failures(t, 'frank', 5)
  const before = (await (await t.call('GET', `/api/admin/users/${frank.userId}`, { as: admin })).json()) as { failed_attempts: number; locked_until?: string }
  expect(before.failed_attempts).toBe(5)
  expect(before.locked_until).toBeDefined()
  const res = await t.call('POST', `/api/admin/users/${frank.userId}/unlock`, { as: admin })
  expect(res.status).toBe(200)
  const after = (await res.json()) as { failed_attempts: number; locked_until?: string }
  expect(after.failed_attempts).toBe(0)
  expect(after.locked_until).toBeUndefined()
  expect((await t.login('frank', PASSWORD)).status).toBe(200)
})

test('the lockout is audited once, when it starts', async () => {
  const { t } = await lockApp()
  const g = await t.user('user', { username: 'gina' })
  await failures(t, 'gina', 7)
  await t.s.audit.flush()
  const rows = await t.s.db.all<{ user_id: string; status: string; ip: string }>("SELECT user_id, status, ip FROM audit_events WHERE action = 'auth.lockout'")
  expect(rows).toEqual([{ user_id: g.userId, status: 'denied', ip: '127.0.0.1' }])
})

test('a disabled account locks like any other, so a right password is not confirmed by "never locks"', async () => {
  const { t } = await lockApp()
  const h = await t.user('user', { username: 'hank' })
  await t.s.users.update(h.userId, { enabled: 0 })
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push((await t.login('hank', PASSWORD)).status)
  expect(statuses).toEqual([401, 401, 401, 401, 401, 429])
})

test('unknown usernames lock exactly like real ones', async () => {
  const { t, clock } = await lockApp()
  await t.user('user', { username: 'ivan' })
  const real = await failures(t, 'ivan', 6)
  const ghost = await failures(t, 'ghost-user', 6)
  expect(ghost).toEqual(real)
  expect(real).toEqual([401, 401, 401, 401, 401, 429])
  const [r, g] = [await t.login('ivan', 'x'), await t.login('ghost-user', 'x')]
  expect(g.status).toBe(r.status)
  expect(await g.text()).toBe(await r.text())
  expect([...g.headers.keys()].filter((k) => k !== 'x-request-id').sort()).toEqual([...r.headers.keys()].filter((k) => k !== 'x-request-id').sort())
  // Case does not help an attacker around the phantom lock.
  expect((await t.login('GHOST-USER', 'x')).status).toBe(429)
  // Both unlock after the window.
  clock.now += 16 * MIN
  expect((await t.login('ghost-user', 'x')).status).toBe(401)
  expect((await t.login('ivan', PASSWORD)).status).toBe(200)
})

test('an expired lock starts a fresh count instead of re-locking on the next mistake', async () => {
  const { t, clock } = await lockApp()
  await t.user('user', { username: 'judy' })
  await failures(t, 'judy', 5)
  clock.now += 16 * MIN
  expect(await failures(t, 'judy', 4)).toEqual([401, 401, 401, 401])
  expect((await t.login('judy', PASSWORD)).status).toBe(200)
})

test('concurrent guesses cannot outrun the lockout: at most 5 passwords are ever checked', async () => {
  const { t } = await lockApp()
  const k = await t.user('user', { username: 'kate' })
  let verifies = 0
  const real = t.s.passwords.verify
  t.s.passwords.verify = async (pw, hash) => {
    verifies++
    return real(pw, hash)
  }
  try {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => t.login('kate', `guess number ${i}`)))
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 401)).toHaveLength(5)
    expect(statuses.filter((s) => s === 429)).toHaveLength(35)
    expect(verifies).toBe(5)
    // Even the right password is refused now.
    expect((await t.login('kate', PASSWORD)).status).toBe(429)
    await t.s.audit.flush()
    expect((await t.s.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'auth.lockout' AND user_id = ?", [k.userId]))!.n).toBe(1)
  } finally {
    t.s.passwords.verify = real
  }
})

test('concurrent guesses at an unknown name are bounded the same way', async () => {
  const { t } = await lockApp()
  const statuses = (await Promise.all(Array.from({ length: 20 }, () => t.login('ghost-concurrent', 'guess')))).map((r) => r.status)
  expect(statuses.filter((s) => s === 401)).toHaveLength(5)
  expect(statuses.filter((s) => s === 429)).toHaveLength(15)
})
