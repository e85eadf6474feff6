// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Per-bucket size-tracking switch. Tracking is on by default, so only buckets
 * that differ from the default (switched off) have a row.
 */
import type { Database } from 'bun:sqlite'

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
    get: (backendId: string, bucket: string): TrackingRow | null =>
      db.query<TrackingRow, [string, string]>('SELECT * FROM bucket_size_tracking WHERE backend_id = ? AND bucket = ?').get(backendId, bucket),
    enabled(backendId: string, bucket: string): boolean {
      const row = db
        .query<{ enabled: number }, [string, string]>('SELECT enabled FROM bucket_size_tracking WHERE backend_id = ? AND bucket = ?')
        .get(backendId, bucket)
      return row ? row.enabled === 1 : true
    },
    disable(backendId: string, bucket: string, at: number, by: string | null): void {
      db.query(
        `INSERT INTO bucket_size_tracking (backend_id, bucket, enabled, updated_at, updated_by) VALUES (?, ?, 0, ?, ?)
         ON CONFLICT (backend_id, bucket) DO UPDATE SET enabled = 0, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      ).run(backendId, bucket, at, by)
    },
    /** Back to the default (on): the row goes away. */
    reset(backendId: string, bucket: string): void {
      db.query('DELETE FROM bucket_size_tracking WHERE backend_id = ? AND bucket = ?').run(backendId, bucket)
    },
  }
}
