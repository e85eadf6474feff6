// SPDX-License-Identifier: AGPL-3.0-or-later
import type { Database } from '../db/database.ts'

export type BackendRow = {
  id: string
  name: string
  type: 's3'
  endpoint: string
  region: string
  path_style: number
  access_key: string
  secret_key_enc: Uint8Array
  enabled: number
  created_at: number
  created_by: string | null
  updated_at: number
  updated_by: string | null
}

export type BackendStore = ReturnType<typeof createBackendStore>

export function createBackendStore(db: Database) {
  return {
    list: (): Promise<BackendRow[]> => db.all<BackendRow>('SELECT * FROM backends ORDER BY id'),
    get: (id: string): Promise<BackendRow | null> => db.get<BackendRow>('SELECT * FROM backends WHERE id = ?', [id]),
    async insert(r: BackendRow): Promise<void> {
      await db.run(
        `INSERT INTO backends (id, name, type, endpoint, region, path_style, access_key, secret_key_enc, enabled, created_at, created_by, updated_at, updated_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          r.id,
          r.name,
          r.type,
          r.endpoint,
          r.region,
          r.path_style,
          r.access_key,
          r.secret_key_enc,
          r.enabled,
          r.created_at,
          r.created_by,
          r.updated_at,
          r.updated_by,
        ],
      )
    },
    async update(r: BackendRow): Promise<void> {
      await db.run(
        `UPDATE backends SET name = ?, endpoint = ?, region = ?, path_style = ?, access_key = ?,
           secret_key_enc = ?, enabled = ?, updated_at = ?, updated_by = ? WHERE id = ?`,
        [r.name, r.endpoint, r.region, r.path_style, r.access_key, r.secret_key_enc, r.enabled, r.updated_at, r.updated_by, r.id],
      )
    },
    async delete(id: string): Promise<void> {
      await db.run('DELETE FROM backends WHERE id = ?', [id])
    },
  }
}
