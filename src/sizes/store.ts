// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Per-bucket size-tracking switch. Tracking is on by default, so only buckets
 * that differ from the default (switched off) have a row.
 */
import type { Database } from '../db/database.ts'

export type TrackingRow = {
  backend_id: string
  bucket: string
  enabled: number
  updated_at: number
  updated_by: string | null
}

export type TrackingStore = ReturnType<typeof createTrackingStore>

export function createTrackingStore(db: Database) {
  return {
    get: (backendId: string, bucket: string): Promise<TrackingRow | null> =>
      db.get<TrackingRow>('SELECT * FROM bucket_size_tracking WHERE backend_id = ? AND bucket = ?', [backendId, bucket]),
    async enabled(backendId: string, bucket: string): Promise<boolean> {
      const row = await db.get<{ enabled: number }>('SELECT enabled FROM bucket_size_tracking WHERE backend_id = ? AND bucket = ?', [backendId, bucket])
      return row ? row.enabled === 1 : true
    },
    async disable(backendId: string, bucket: string, at: number, by: string | null): Promise<void> {
      await db.run(
        `INSERT INTO bucket_size_tracking (backend_id, bucket, enabled, updated_at, updated_by) VALUES (?, ?, 0, ?, ?)
         ON CONFLICT (backend_id, bucket) DO UPDATE SET enabled = 0, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        [backendId, bucket, at, by],
      )
    },
    /** Back to the default (on): the row goes away. */
    async reset(backendId: string, bucket: string): Promise<void> {
      await db.run('DELETE FROM bucket_size_tracking WHERE backend_id = ? AND bucket = ?', [backendId, bucket])
    },
  }
}
