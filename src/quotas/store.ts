// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Quota limits and the one usage table shared by quotas, bucket sizes and the
 * admin dashboard. Times are unix milliseconds.
 */
import type { Database } from 'bun:sqlite'

export type QuotaRow = {
  backend_id: string
  bucket: string
  soft_bytes: number | null
  hard_bytes: number | null
  updated_at: number
  updated_by: string | null
}

export type UsageRow = {
  backend_id: string
  bucket: string
  bytes: number
  objects: number
  computed_at: number
}

export type QuotaStore = ReturnType<typeof createQuotaStore>

export function createQuotaStore(db: Database) {
  return {
    quota: (backendId: string, bucket: string): QuotaRow | null =>
      db.query<QuotaRow, [string, string]>('SELECT * FROM bucket_quotas WHERE backend_id = ? AND bucket = ?').get(backendId, bucket),
    /** Buckets with a quota on one backend (the scanner counts them even when size tracking is off). */
    quotaBuckets: (backendId: string): string[] =>
      db
        .query<{ bucket: string }, [string]>('SELECT bucket FROM bucket_quotas WHERE backend_id = ?')
        .all(backendId)
        .map((r) => r.bucket),
    setQuota(r: QuotaRow): void {
      db.query(
        `INSERT INTO bucket_quotas (backend_id, bucket, soft_bytes, hard_bytes, updated_at, updated_by)
         VALUES ($backend_id, $bucket, $soft_bytes, $hard_bytes, $updated_at, $updated_by)
         ON CONFLICT (backend_id, bucket) DO UPDATE SET soft_bytes = excluded.soft_bytes, hard_bytes = excluded.hard_bytes,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      ).run(r)
    },
    deleteQuota: (backendId: string, bucket: string): boolean =>
      db.query('DELETE FROM bucket_quotas WHERE backend_id = ? AND bucket = ?').run(backendId, bucket).changes > 0,

    usage: (backendId: string, bucket: string): UsageRow | null =>
      db.query<UsageRow, [string, string]>('SELECT * FROM bucket_usage WHERE backend_id = ? AND bucket = ?').get(backendId, bucket),
    allUsage: (): UsageRow[] => db.query<UsageRow, []>('SELECT * FROM bucket_usage ORDER BY backend_id, bucket').all(),
    setUsage(r: UsageRow): void {
      db.query(
        `INSERT INTO bucket_usage (backend_id, bucket, bytes, objects, computed_at) VALUES ($backend_id, $bucket, $bytes, $objects, $computed_at)
         ON CONFLICT (backend_id, bucket) DO UPDATE SET bytes = excluded.bytes, objects = excluded.objects, computed_at = excluded.computed_at`,
      ).run(r)
    },
    /** Applies a delta to a known usage; returns the new row, or null when the usage is not known yet. */
    addUsage: (backendId: string, bucket: string, bytes: number, objects: number): UsageRow | null =>
      db
        .query<UsageRow, [number, number, string, string]>(
          `UPDATE bucket_usage SET bytes = MAX(0, bytes + ?), objects = MAX(0, objects + ?)
           WHERE backend_id = ? AND bucket = ? RETURNING *`,
        )
        .get(bytes, objects, backendId, bucket),
    deleteUsage(backendId: string, bucket: string): void {
      db.query('DELETE FROM bucket_usage WHERE backend_id = ? AND bucket = ?').run(backendId, bucket)
    },
    /** Drops usage rows of buckets that no longer exist on a backend. */
    pruneUsage(backendId: string, existing: readonly string[]): void {
      const keep = new Set(existing)
      const rows = db.query<{ bucket: string }, [string]>('SELECT bucket FROM bucket_usage WHERE backend_id = ?').all(backendId)
      for (const r of rows) if (!keep.has(r.bucket)) db.query('DELETE FROM bucket_usage WHERE backend_id = ? AND bucket = ?').run(backendId, r.bucket)
    },
  }
}
