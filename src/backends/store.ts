// SPDX-License-Identifier: AGPL-3.0-or-later
import type { Database } from 'bun:sqlite'

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
    list: (): BackendRow[] => db.query<BackendRow, []>('SELECT * FROM backends ORDER BY id').all(),
    get: (id: string): BackendRow | null => db.query<BackendRow, [string]>('SELECT * FROM backends WHERE id = ?').get(id),
    insert(r: BackendRow): void {
      db.query(
        `INSERT INTO backends (id, name, type, endpoint, region, path_style, access_key, secret_key_enc, enabled, created_at, created_by, updated_at, updated_by)
         VALUES ($id, $name, $type, $endpoint, $region, $path_style, $access_key, $secret_key_enc, $enabled, $created_at, $created_by, $updated_at, $updated_by)`,
      ).run(r)
    },
    update(r: BackendRow): void {
      db.query(
        `UPDATE backends SET name = $name, endpoint = $endpoint, region = $region, path_style = $path_style, access_key = $access_key,
           secret_key_enc = $secret_key_enc, enabled = $enabled, updated_at = $updated_at, updated_by = $updated_by WHERE id = $id`,
      ).run({
        id: r.id,
        name: r.name,
        endpoint: r.endpoint,
        region: r.region,
        path_style: r.path_style,
        access_key: r.access_key,
        secret_key_enc: r.secret_key_enc,
        enabled: r.enabled,
        updated_at: r.updated_at,
        updated_by: r.updated_by,
      })
    },
    delete(id: string): void {
      db.query('DELETE FROM backends WHERE id = ?').run(id)
    },
  }
}
