// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Per-user pinned buckets for the sidebar. Pinning is idempotent (pinning
 * twice keeps the first time) and so is unpinning. The backend must exist and
 * the name must be a valid bucket name; whether the bucket exists is not
 * checked, so a pin survives a backend being down.
 */
import type { Database } from '../db/database.ts'
import type { Actor } from '../auth/actor.ts'
import type { Registry } from '../backends/registry.ts'
import { fail } from '../http/errors.ts'
import { validateBucketName } from '../storage/validate.ts'
import { iso } from '../users/model.ts'
import type { PinBody, PinDTO } from './model.ts'

type PinRow = { backend_id: string; bucket: string; created_at: number }

/** Enough for any sidebar; stops one account from filling the table. */
export const MAX_PINS = 500

export type PinService = ReturnType<typeof createPinService>

export function createPinService(d: { db: Database; registry: Registry; now: () => number }) {
  const toDTO = (r: PinRow): PinDTO => ({ backend_id: r.backend_id, bucket: r.bucket, created_at: iso(r.created_at)! })
  const get = (userId: string, backendId: string, bucket: string): Promise<PinRow | null> =>
    d.db.get<PinRow>('SELECT backend_id, bucket, created_at FROM bucket_pins WHERE user_id = ? AND backend_id = ? AND bucket = ?', [userId, backendId, bucket])

  return {
    list: async (actor: Actor): Promise<PinDTO[]> =>
      (
        await d.db.all<PinRow>('SELECT backend_id, bucket, created_at FROM bucket_pins WHERE user_id = ? ORDER BY created_at, backend_id, bucket', [actor.id])
      ).map(toDTO),

    async add(actor: Actor, body: PinBody): Promise<PinDTO> {
      const entry = d.registry.entry(body.backend_id)
      if (!entry || !entry.enabled) throw fail('not_found', 'No such backend.')
      validateBucketName(body.bucket)
      const existing = await get(actor.id, body.backend_id, body.bucket)
      if (existing) return toDTO(existing)
      const count = (await d.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM bucket_pins WHERE user_id = ?', [actor.id]))!.n
      if (count >= MAX_PINS) throw fail('conflict', `At most ${MAX_PINS} pins per user.`)
      await d.db.run('INSERT INTO bucket_pins (user_id, backend_id, bucket, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [
        actor.id,
        body.backend_id,
        body.bucket,
        d.now(),
      ])
      return toDTO((await get(actor.id, body.backend_id, body.bucket))!)
    },

    async remove(actor: Actor, backendId: string, bucket: string): Promise<void> {
      await d.db.run('DELETE FROM bucket_pins WHERE user_id = ? AND backend_id = ? AND bucket = ?', [actor.id, backendId, bucket])
    },

    /** Drops every user's pins of a deleted bucket. */
    async forget(backendId: string, bucket: string): Promise<void> {
      await d.db.run('DELETE FROM bucket_pins WHERE backend_id = ? AND bucket = ?', [backendId, bucket])
    },
  }
}
