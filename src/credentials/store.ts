// SPDX-License-Identifier: AGPL-3.0-or-later
/** SQL for virtual credentials and anonymous bindings (db/0003_s3proxy.sql). */
import type { Database, Param } from '../db/database.ts'
import type { BucketScope } from './model.ts'

export type CredentialRow = {
  access_key: string
  secret_key_enc: Uint8Array
  backend_id: string
  /** JSON BucketScope[] */
  buckets: string
  user_id: string | null
  description: string
  enabled: number
  expires_at: number | null
  created_at: number
  created_by: string | null
  updated_at: number
  updated_by: string | null
}

export type AnonymousRow = {
  backend_id: string
  bucket: string
  mode: 'ReadOnly'
  per_source_ip_rps: number
  created_at: number
  created_by: string | null
  updated_at: number
}

export type OwnerRow = { enabled: number; role: string }

export type CredentialStore = ReturnType<typeof createCredentialStore>

export function scopesOf(row: CredentialRow): BucketScope[] {
  return JSON.parse(row.buckets) as BucketScope[]
}

/** Columns `update` may set; anything else never reaches the SQL text. */
const UPDATABLE = new Set(['buckets', 'description', 'enabled', 'expires_at', 'updated_at', 'updated_by'])

export function createCredentialStore(db: Database) {
  return {
    list: (): Promise<CredentialRow[]> => db.all<CredentialRow>('SELECT * FROM s3_credentials ORDER BY created_at, access_key'),
    listByUser: (userId: string): Promise<CredentialRow[]> =>
      db.all<CredentialRow>('SELECT * FROM s3_credentials WHERE user_id = ? ORDER BY created_at, access_key', [userId]),
    get: (accessKey: string): Promise<CredentialRow | null> => db.get<CredentialRow>('SELECT * FROM s3_credentials WHERE access_key = ?', [accessKey]),
    async insert(r: CredentialRow): Promise<void> {
      await db.run(
        `INSERT INTO s3_credentials (access_key, secret_key_enc, backend_id, buckets, user_id, description, enabled, expires_at, created_at, created_by, updated_at, updated_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          r.access_key,
          r.secret_key_enc,
          r.backend_id,
          r.buckets,
          r.user_id,
          r.description,
          r.enabled,
          r.expires_at,
          r.created_at,
          r.created_by,
          r.updated_at,
          r.updated_by,
        ],
      )
    },
    async update(
      accessKey: string,
      fields: Partial<Pick<CredentialRow, 'buckets' | 'description' | 'enabled' | 'expires_at' | 'updated_at' | 'updated_by'>>,
    ): Promise<void> {
      const names = Object.keys(fields).filter((n) => UPDATABLE.has(n)) as Array<keyof typeof fields>
      if (names.length === 0) return
      await db.run(`UPDATE s3_credentials SET ${names.map((n) => `${n} = ?`).join(', ')} WHERE access_key = ?`, [
        ...names.map((n) => fields[n] as Param),
        accessKey,
      ])
    },
    remove: async (accessKey: string): Promise<boolean> => (await db.run('DELETE FROM s3_credentials WHERE access_key = ?', [accessKey])) > 0,
    owner: (userId: string): Promise<OwnerRow | null> => db.get<OwnerRow>('SELECT enabled, role FROM users WHERE id = ?', [userId]),

    listAnonymous: (): Promise<AnonymousRow[]> => db.all<AnonymousRow>('SELECT * FROM s3_anonymous_bindings ORDER BY bucket'),
    anonymousByBucket: (bucket: string): Promise<AnonymousRow | null> => db.get<AnonymousRow>('SELECT * FROM s3_anonymous_bindings WHERE bucket = ?', [bucket]),
    async upsertAnonymous(r: AnonymousRow): Promise<void> {
      await db.run(
        `INSERT INTO s3_anonymous_bindings (backend_id, bucket, mode, per_source_ip_rps, created_at, created_by, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (backend_id, bucket) DO UPDATE SET mode = excluded.mode, per_source_ip_rps = excluded.per_source_ip_rps, updated_at = excluded.updated_at`,
        [r.backend_id, r.bucket, r.mode, r.per_source_ip_rps, r.created_at, r.created_by, r.updated_at],
      )
    },
    removeAnonymous: async (backendId: string, bucket: string): Promise<boolean> =>
      (await db.run('DELETE FROM s3_anonymous_bindings WHERE backend_id = ? AND bucket = ?', [backendId, bucket])) > 0,
  }
}
