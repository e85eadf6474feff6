// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * SQL of the `shares` table. The download cap is enforced here, in one
 * conditional UPDATE … RETURNING: SQLite serialises writers and PostgreSQL
 * re-checks the condition on the row it locks, so concurrent downloads of a
 * share capped at N get exactly N rows back, however many race and on however
 * many replicas.
 */
import type { Database } from '../db/database.ts'

export type ShareRow = {
  id: string
  code: string
  code_hash: string
  kind: 'object' | 'folder'
  backend_id: string
  bucket: string
  object_key: string
  created_by: string
  created_by_name: string
  created_at: number
  expires_at: number | null
  password_hash: string | null
  max_downloads: number | null
  download_count: number
  disposition: 'attachment' | 'inline'
  revoked: number
  revoked_at: number | null
  revoked_by: string | null
  last_accessed_at: number | null
}

export type NewShare = Omit<ShareRow, 'download_count' | 'revoked' | 'revoked_at' | 'revoked_by' | 'last_accessed_at'>

export type ShareStore = ReturnType<typeof createShareStore>

export function createShareStore(db: Database) {
  return {
    async insert(s: NewShare): Promise<void> {
      await db.run(
        `INSERT INTO shares (id, code, code_hash, kind, backend_id, bucket, object_key, created_by, created_by_name, created_at, expires_at, password_hash, max_downloads, disposition)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          s.id,
          s.code,
          s.code_hash,
          s.kind,
          s.backend_id,
          s.bucket,
          s.object_key,
          s.created_by,
          s.created_by_name,
          s.created_at,
          s.expires_at,
          s.password_hash,
          s.max_downloads,
          s.disposition,
        ],
      )
    },

    /** The one indexed lookup every public request makes, whether or not the code exists. */
    byCodeHash: (hash: string): Promise<ShareRow | null> => db.get<ShareRow>('SELECT * FROM shares WHERE code_hash = ?', [hash]),

    get: (id: string): Promise<ShareRow | null> => db.get<ShareRow>('SELECT * FROM shares WHERE id = ?', [id]),

    /** Newest first; `owner` limits the list to one user's shares. */
    async list(opts: { owner?: string; limit: number; offset: number }): Promise<{ rows: ShareRow[]; total: number }> {
      if (opts.owner !== undefined) {
        return {
          rows: await db.all<ShareRow>('SELECT * FROM shares WHERE created_by = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?', [
            opts.owner,
            opts.limit,
            opts.offset,
          ]),
          total: (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM shares WHERE created_by = ?', [opts.owner]))!.n,
        }
      }
      return {
        rows: await db.all<ShareRow>('SELECT * FROM shares ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?', [opts.limit, opts.offset]),
        total: (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM shares'))!.n,
      }
    },

    /** Marks a share revoked; the first revocation's time and author are kept. */
    async revoke(id: string, by: string, at: number): Promise<void> {
      await db.run('UPDATE shares SET revoked = 1, revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked = 0', [at, by, id])
    },

    /** Counts one download if the share is live and under its cap; null when it is not. */
    takeDownload: (id: string, now: number): Promise<ShareRow | null> =>
      db.get<ShareRow>(
        `UPDATE shares SET download_count = download_count + 1, last_accessed_at = ?
         WHERE id = ? AND revoked = 0
           AND (max_downloads IS NULL OR download_count < max_downloads)
           AND (expires_at IS NULL OR expires_at > ?)
         RETURNING *`,
        [now, id, now],
      ),

    /** Gives back a download that failed before any byte was sent (object gone, backend down). */
    async refundDownload(id: string): Promise<void> {
      await db.run('UPDATE shares SET download_count = download_count - 1 WHERE id = ? AND download_count > 0', [id])
    },
  }
}
