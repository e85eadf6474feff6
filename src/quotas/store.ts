// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Quota limits and the one usage table shared by quotas, bucket sizes and the
 * admin dashboard. Times are unix milliseconds.
 */
import type { Database } from '../db/database.ts'

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
  // SQLite's two-argument MAX is PostgreSQL's GREATEST.
  const atLeastZero = (expr: string) => (db.dialect === 'sqlite' ? `MAX(0, ${expr})` : `GREATEST(0, ${expr})`)
  const add = `UPDATE bucket_usage SET bytes = ${atLeastZero('bytes + ?')}, objects = ${atLeastZero('objects + ?')}
     WHERE backend_id = ? AND bucket = ? RETURNING *`
  return {
    quota: (backendId: string, bucket: string): Promise<QuotaRow | null> =>
      db.get<QuotaRow>('SELECT * FROM bucket_quotas WHERE backend_id = ? AND bucket = ?', [backendId, bucket]),
    /** Buckets with a quota on one backend (the scanner counts them even when size tracking is off). */
    quotaBuckets: async (backendId: string): Promise<string[]> =>
      (await db.all<{ bucket: string }>('SELECT bucket FROM bucket_quotas WHERE backend_id = ?', [backendId])).map((r) => r.bucket),
    async setQuota(r: QuotaRow): Promise<void> {
      await db.run(
        `INSERT INTO bucket_quotas (backend_id, bucket, soft_bytes, hard_bytes, updated_at, updated_by)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (backend_id, bucket) DO UPDATE SET soft_bytes = excluded.soft_bytes, hard_bytes = excluded.hard_bytes,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        [r.backend_id, r.bucket, r.soft_bytes, r.hard_bytes, r.updated_at, r.updated_by],
      )
    },
    deleteQuota: async (backendId: string, bucket: string): Promise<boolean> =>
      (await db.run('DELETE FROM bucket_quotas WHERE backend_id = ? AND bucket = ?', [backendId, bucket])) > 0,

    usage: (backendId: string, bucket: string): Promise<UsageRow | null> =>
      db.get<UsageRow>('SELECT * FROM bucket_usage WHERE backend_id = ? AND bucket = ?', [backendId, bucket]),
    allUsage: (): Promise<UsageRow[]> => db.all<UsageRow>('SELECT * FROM bucket_usage ORDER BY backend_id, bucket'),
    async setUsage(r: UsageRow): Promise<UsageRow> {
      await db.run(
        `INSERT INTO bucket_usage (backend_id, bucket, bytes, objects, computed_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (backend_id, bucket) DO UPDATE SET bytes = excluded.bytes, objects = excluded.objects, computed_at = excluded.computed_at`,
        [r.backend_id, r.bucket, r.bytes, r.objects, r.computed_at],
      )
      return r
    },
    /**
     * Stores a full count that started when the row read `start`: whatever
     * the row grew by since (writes on any replica) is added, in the same
     * statement, so no write is lost between reading and writing.
     */
    async setCounted(r: UsageRow, start: UsageRow): Promise<UsageRow> {
      const row = await db.get<UsageRow>(
        `UPDATE bucket_usage SET bytes = ? + ${atLeastZero('bytes - ?')}, objects = ? + ${atLeastZero('objects - ?')}, computed_at = ?
         WHERE backend_id = ? AND bucket = ? RETURNING *`,
        [r.bytes, start.bytes, r.objects, start.objects, r.computed_at, r.backend_id, r.bucket],
      )
      return row ?? this.setUsage(r)
    },
    /**
     * Applies a delta to a known usage in one statement, so writes on every
     * replica add up; returns the new row, or null when the usage is not known yet.
     */
    addUsage: (backendId: string, bucket: string, bytes: number, objects: number): Promise<UsageRow | null> =>
      db.get<UsageRow>(add, [bytes, objects, backendId, bucket]),
    async deleteUsage(backendId: string, bucket: string): Promise<void> {
      await db.run('DELETE FROM bucket_usage WHERE backend_id = ? AND bucket = ?', [backendId, bucket])
    },
    /** Drops usage rows of buckets that no longer exist on a backend. */
    async pruneUsage(backendId: string, existing: readonly string[]): Promise<void> {
      const keep = new Set(existing)
      const rows = await db.all<{ bucket: string }>('SELECT bucket FROM bucket_usage WHERE backend_id = ?', [backendId])
      for (const r of rows) if (!keep.has(r.bucket)) await db.run('DELETE FROM bucket_usage WHERE backend_id = ? AND bucket = ?', [backendId, r.bucket])
    },
  }
}
