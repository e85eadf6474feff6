// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Change announcements between replicas, over the store's notifications.
 * `announce` first runs this replica's own listeners (and waits for them),
 * then tells the others; a replica ignores its own announcements when they
 * come back from the database, so each listener runs once per change.
 */
import type { Database } from './database.ts'

export type Listener = (data: string) => unknown

export type Changes = ReturnType<typeof createChanges>

export function createChanges(db: Database, replica: string) {
  const local = new Map<string, Set<Listener>>()
  return {
    replica,
    async announce(channel: string, data: string): Promise<void> {
      await Promise.all([...(local.get(channel) ?? [])].map((fn) => fn(data)))
      await db.notify(channel, JSON.stringify([replica, data]))
    },
    /** `fn` runs for every announcement on `channel`; `resync` when announcements may have been missed. */
    async on(channel: string, fn: Listener, resync?: () => void): Promise<() => Promise<void>> {
      const set = local.get(channel) ?? new Set()
      local.set(channel, set)
      set.add(fn)
      const stop = await db.listen(
        channel,
        (payload) => {
          const [from, data] = JSON.parse(payload) as [string, string]
          if (from !== replica) void fn(data)
        },
        resync,
      )
      return async () => {
        set.delete(fn)
        await stop()
      }
    },
  }
}
