// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Unknown users, wrong passwords and disabled accounts take the same time to
 * refuse: every path runs one argon2id verify. The parameters here (16 MiB)
 * make a verify cost tens of milliseconds — far above request noise — without
 * the full production cost, so a skipped or doubled verify shows as a 0× or 2×.
 */
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from 'bun:test'
import { ulid } from '../../src/lib/ids.ts'
import { PASSWORD, testApp, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let t: TestApp
beforeAll(async () => {
  t = await testApp(
    { ratelimit: { login_per_ip: 0 }, auth: { local: { lockout: { max_attempts: 1000 } } } },
    { hashParams: { memoryCost: 16_384, timeCost: 2 } },
  )
  const hash = await t.s.passwords.hash(PASSWORD)
  const add = async (username: string, enabled: boolean) => {
    const id = ulid()
    await t.s.users.insert({
      id,
      username,
      email: null,
      passwordHash: hash,
      role: 'user',
      identitySource: 'local',
      mustChangePw: false,
      createdBy: null,
      now: Date.now(),
    })
    if (!enabled) await t.s.users.update(id, { enabled: 0 })
  }
  await add('known', true)
  await add('disabled', false)
})
afterAll(() => t.close())

/** Median time per kind over `rounds`, the kinds interleaved so load drifts hit them all alike. */
async function measure(kinds: Record<string, () => Promise<Response>>, rounds: number): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]))
  const names = Object.keys(kinds)
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length]!
      const started = performance.now()
      const res = await kinds[name]!()
      samples[name]!.push(performance.now() - started)
      expect(res.status).toBe(401)
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  return Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)]))
}

test('refusals take the same time for unknown, wrong-password and disabled accounts', async () => {
  const kinds: Record<string, () => Promise<Response>> = {
    unknown: () => t.login(`nobody-${ulid()}`, PASSWORD),
    wrongPassword: () => t.login('known', 'wrong but plausible'),
    disabledRight: () => t.login('disabled', PASSWORD),
    disabledWrong: () => t.login('disabled', 'wrong but plausible'),
  }
  // Warm up: the first unknown-user attempt also builds the dummy hash.
  for (const k of Object.values(kinds)) expect((await k()).status).toBe(401)
  // A skipped verify shows as ~0.05×, a doubled one as 2×; a busy machine can spoil one
  // measurement, so a kind fails only if it is out of bounds in three measurements running.
  let problems: string[] = []
  let base = 0
  for (let attempt = 0; attempt < 3; attempt++) {
    const medians = await measure(kinds, 7)
    base = medians.wrongPassword!
    problems = Object.entries(medians)
      .filter(([, ms]) => ms / base < 0.5 || ms / base > 2)
      .map(([name, ms]) => `${name} takes ${(ms / base).toFixed(2)}× the wrong-password time (${ms.toFixed(1)} ms vs ${base.toFixed(1)} ms)`)
    if (problems.length === 0) break
  }
  expect(problems).toEqual([])
  // A real verify takes several milliseconds at least; an early return would take well under one.
  expect(base).toBeGreaterThan(5)
}, 60_000)
