// SPDX-License-Identifier: AGPL-3.0-or-later
/** SQL for virtual credentials and anonymous bindings (db/0003_s3proxy.sql). */
import type { Database } from 'bun:sqlite'
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

export function createCredentialStore(db: Database) {
  const all = db.query<CredentialRow, []>('SELECT * FROM s3_credentials ORDER BY created_at, access_key')
  const byUser = db.query<CredentialRow, [string]>('SELECT * FROM s3_credentials WHERE user_id = ? ORDER BY created_at, access_key')
  const byKey = db.query<CredentialRow, [string]>('SELECT * FROM s3_credentials WHERE access_key = ?')
  const insert = db.query(
    `INSERT INTO s3_credentials (access_key, secret_key_enc, backend_id, buckets, user_id, description, enabled, expires_at, created_at, created_by, updated_at, updated_by)
     VALUES ($access_key, $secret_key_enc, $backend_id, $buckets, $user_id, $description, $enabled, $expires_at, $created_at, $created_by, $updated_at, $updated_by)`,
  )
  const remove = db.query<never, [string]>('DELETE FROM s3_credentials WHERE access_key = ?')
  // Read on every proxied request, so a disabled or demoted owner takes effect at once.
  const owner = db.query<OwnerRow, [string]>('SELECT enabled, role FROM users WHERE id = ?')
  const allAnon = db.query<AnonymousRow, []>('SELECT * FROM s3_anonymous_bindings ORDER BY bucket')
  const anonByBucket = db.query<AnonymousRow, [string]>('SELECT * FROM s3_anonymous_bindings WHERE bucket = ?')
  const upsertAnon = db.query(
    `INSERT INTO s3_anonymous_bindings (backend_id, bucket, mode, per_source_ip_rps, created_at, created_by, updated_at)
     VALUES ($backend_id, $bucket, $mode, $per_source_ip_rps, $created_at, $created_by, $updated_at)
     ON CONFLICT (backend_id, bucket) DO UPDATE SET mode = excluded.mode, per_source_ip_rps = excluded.per_source_ip_rps, updated_at = excluded.updated_at`,
  )
  const removeAnon = db.query<never, [string, string]>('DELETE FROM s3_anonymous_bindings WHERE backend_id = ? AND bucket = ?')

  return {
    list: (): CredentialRow[] => all.all(),
    listByUser: (userId: string): CredentialRow[] => byUser.all(userId),
    get: (accessKey: string): CredentialRow | null => byKey.get(accessKey),
    insert(row: CredentialRow): void {
      insert.run({ ...row } as unknown as Record<string, string | number | Uint8Array | null>)
    },
    update(accessKey: string, fields: Partial<Pick<CredentialRow, 'buckets' | 'description' | 'enabled' | 'expires_at' | 'updated_at' | 'updated_by'>>): void {
      const names = Object.keys(fields)
      if (names.length === 0) return
      const sql = `UPDATE s3_credentials SET ${names.map((n) => `${n} = $${n}`).join(', ')} WHERE access_key = $access_key`
      db.query(sql).run({ ...fields, access_key: accessKey } as Record<string, string | number | null>)
    },
    remove: (accessKey: string): boolean => remove.run(accessKey).changes > 0,
    owner: (userId: string): OwnerRow | null => owner.get(userId),

    listAnonymous: (): AnonymousRow[] => allAnon.all(),
    anonymousByBucket: (bucket: string): AnonymousRow | null => anonByBucket.get(bucket),
    upsertAnonymous(row: AnonymousRow): void {
      upsertAnon.run({ ...row } as unknown as Record<string, string | number | null>)
    },
    removeAnonymous: (backendId: string, bucket: string): boolean => removeAnon.run(backendId, bucket).changes > 0,
  }
}
