// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Background work runs once per fleet: two `stowage serve` processes on one
 * PostgreSQL, with every leased job shortened to 400 ms
 * (STOWAGE_TEST_LEASE_INTERVAL_MS, and the usage scanner's own interval),
 * run each job on one replica only and no more often than once an interval;
 * the `fs` stale-upload sweep made when each replica opens the shared
 * directory runs once; when the holder is SIGKILLed the other replica takes
 * the job over once the dead holder's lease runs out. The replicas log each
 * run at debug level, which is what is counted.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { ServerProcess } from '../helpers/server-process.ts'
import { until } from '../helpers/until.ts'
import { replicaPair, type Pair } from './pair.ts'

const INTERVAL_MS = 400
const JOBS = ['session-reap', 'backend-probes', 'usage-scan']

const runs = (on: ServerProcess, job: string): number =>
  on
    .output()
    .split('\n')
    .filter((l) => l.includes('"msg":"background job ran"') && l.includes(`"job":"${job}"`)).length

describe('background work on two replicas', () => {
  let a: ServerProcess
  let b: ServerProcess
  let pair: Pair
  let startedAt: number

  beforeAll(async () => {
    pair = await replicaPair({
      bucket: 'swept',
      env: {
        STOWAGE_TEST_LEASE_INTERVAL_MS: String(INTERVAL_MS),
        STOWAGE_QUOTAS__SCAN_INTERVAL: `${INTERVAL_MS}ms`,
        STOWAGE_FS__ABORT_INCOMPLETE_UPLOADS_AFTER: '1h',
        STOWAGE_LOG_LEVEL: 'debug',
      },
    })
    ;({ a, b } = pair)
    startedAt = pair.startedAt
  }, 120_000)

  afterAll(() => pair?.dispose(), 60_000)

  test('each leased job runs on one replica, at most once an interval', async () => {
    const total = (job: string) => runs(a, job) + runs(b, job)
    await until(() => JOBS.every((job) => total(job) >= 8), 20_000)
    const elapsed = Date.now() - startedAt
    for (const job of JOBS) {
      expect(total(job)).toBeGreaterThanOrEqual(8)
      expect([runs(a, job), runs(b, job)]).toContain(0)
      // Both replicas' timers tick every interval; only the lease holder's ticks run the job.
      expect(total(job)).toBeLessThanOrEqual(Math.ceil(elapsed / INTERVAL_MS) + 1)
    }
  }, 30_000)

  test('the stale-upload sweep of a shared fs directory runs on one replica, not on each that opens it', async () => {
    const admin = await a.signIn()
    for (const on of [a, b]) expect((await on.call(admin, 'GET', '/api/backends/local/buckets')).status).toBe(200)
    const sweeps = () => runs(a, 'fs-upload-sweep:local') + runs(b, 'fs-upload-sweep:local')
    await until(() => sweeps() > 0, 10_000)
    await Bun.sleep(1000)
    expect(sweeps()).toBe(1)
  }, 30_000)

  test('when the holder is killed, the other replica takes the job over', async () => {
    const [holder, other] = runs(a, 'session-reap') > 0 ? [a, b] : [b, a]
    expect(runs(other, 'session-reap')).toBe(0)
    await holder.kill('SIGKILL')
    // The dead holder's lease lasts 2.5 intervals from its last run; then the survivor's next tick claims it.
    await until(() => runs(other, 'session-reap') >= 3, 20_000)
    expect(runs(other, 'session-reap')).toBeGreaterThanOrEqual(3)
  }, 30_000)
})
