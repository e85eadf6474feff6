// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Work a fleet does once, not once per replica. A replica runs a periodic
 * job only while it holds the job's lease (a row in fleet_leases); it renews
 * the lease each time it runs, and when it dies another replica takes over
 * once the lease has run out (at most `LEASE_PERIODS` intervals later). One
 * statement claims or renews, so two replicas never both win. On SQLite the
 * one process always holds every lease.
 */
import type { Database } from './database.ts'

/** A lease lasts this many job intervals, so a late timer does not hand the job to another replica. */
const LEASE_PERIODS = 2.5

export type Leases = ReturnType<typeof createLeases>

export function createLeases(d: {
  db: Database
  holder: string
  now: () => number
  onError: (name: string, err: unknown) => void
  /** Called after the holder ran `name`, so a fleet's logs show which replica did the work. */
  onRun?: (name: string) => void
  /** Test-only: every job runs at this interval instead of its own, so a handover fits in a test. */
  intervalMs?: number
}) {
  const timers = new Set<ReturnType<typeof setInterval>>()

  /** Takes or renews `name` for `ttlMs`; false when another live replica holds it. */
  async function claim(name: string, ttlMs: number): Promise<boolean> {
    const t = d.now()
    const row = await d.db.get<{ holder: string }>(
      `INSERT INTO fleet_leases (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE fleet_leases.expires_at <= ? OR fleet_leases.holder = excluded.holder
       RETURNING holder`,
      [name, d.holder, t + ttlMs, t],
    )
    return row !== null
  }

  /**
   * Runs `fn`, the run of job `name` due now, if this replica holds (or takes)
   * the job's lease; for jobs that recur every `intervalMs` on a schedule of their own.
   */
  async function run(name: string, intervalMs: number, fn: () => Promise<unknown>): Promise<boolean> {
    if (!(await claim(name, intervalMs * LEASE_PERIODS))) return false
    await fn()
    d.onRun?.(name)
    return true
  }

  return {
    holder: d.holder,
    run,
    /** Takes or renews the lease of job `name` (recurring every `intervalMs`), e.g. at start or while a long run goes on; false while another live replica holds it. */
    renew: (name: string, intervalMs: number): Promise<boolean> => claim(name, intervalMs * LEASE_PERIODS),
    /**
     * Every `intervalMs`, runs `fn` on the replica holding the lease `name`
     * (and `otherwise`, if given, on the others).
     */
    every(name: string, ownIntervalMs: number, fn: () => Promise<unknown>, otherwise?: () => Promise<unknown>): void {
      const intervalMs = d.intervalMs ?? ownIntervalMs
      const tick = async () => {
        try {
          if (!(await run(name, intervalMs, fn)) && otherwise) await otherwise()
        } catch (err) {
          d.onError(name, err)
        }
      }
      const timer = setInterval(() => void tick(), intervalMs)
      timer.unref?.()
      timers.add(timer)
    },
    /** Stops the periodic jobs and gives up this replica's leases, so another takes over at once. */
    async close(): Promise<void> {
      for (const t of timers) clearInterval(t)
      timers.clear()
      await d.db.run('DELETE FROM fleet_leases WHERE holder = ?', [d.holder]).catch(() => 0)
    },
  }
}
