// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Unknown users, wrong passwords and disabled accounts take the same time to
 * refuse: every path runs one argon2id verify. The parameters here (16 MiB)
 * make a verify cost tens of milliseconds — far above request noise — without
 * the full production cost, so a skipped or doubled verify shows as a 0× or 2×.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { ulid } from '../../src/lib/ids.ts'
import { PASSWORD, testApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
beforeAll(async () => {
  t = await testApp({ ratelimit: { login_per_ip: 0 }, auth: { local: { lockout: { max_attempts: 1000 } } } }, { hashParams: { memoryCost: 16_384, timeCost: 2 } })
  const hash = await t.s.passwords.hash(PASSWORD)
  const add = (username: string, enabled: boolean) => {
    const id = ulid()
    t.s.users.insert({ id, username, email: null, passwordHash: hash, role: 'user', identitySource: 'local', mustChangePw: false, createdBy: null, now: Date.now() })
    if (!enabled) t.s.users.update(id, { enabled: 0 })
  }
  add('known', true)
  add('disabled', false)
})
afterAll(() => t.close())

test('refusals take the same time for unknown, wrong-password and disabled accounts', async () => {
  const kinds: Record<string, () => Promise<Response>> = {
    unknown: () => t.login(`nobody-${ulid()}`, PASSWORD),
    wrongPassword: () => t.login('known', 'wrong but plausible'),
    disabledRight: () => t.login('disabled', PASSWORD),
    disabledWrong: () => t.login('disabled', 'wrong but plausible'),
  }
  // Warm up: the first unknown-user attempt also builds the dummy hash.
  for (const k of Object.values(kinds)) expect((await k()).status).toBe(401)
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]))
  for (let round = 0; round < 5; round++) {
    for (const [name, attempt] of Object.entries(kinds)) {
      const started = performance.now()
      const res = await attempt()
      samples[name]!.push(performance.now() - started)
      expect(res.status).toBe(401)
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const base = mean(samples.wrongPassword!)
  // A real verify takes several milliseconds at least; an early return would take well under one.
  expect(base).toBeGreaterThan(5)
  for (const [name, xs] of Object.entries(samples)) {
    const ratio = mean(xs) / base
    if (ratio < 0.5 || ratio > 2) throw new Error(`${name} takes ${ratio.toFixed(2)}× the wrong-password time (${mean(xs).toFixed(1)} ms vs ${base.toFixed(1)} ms)`)
  }
  // A successful sign-in is not faster than a refusal either (it does the same verify plus a session).
  const ok = performance.now()
  expect((await t.login('known', PASSWORD)).status).toBe(200)
  expect(performance.now() - ok).toBeGreaterThan(base * 0.5)
}, 60_000)
