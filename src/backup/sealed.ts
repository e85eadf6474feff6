// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Opens every sealed value in a database with a master key: a backup whose key
 * does not open its secrets restores users and audit but no backends or S3
 * credentials, and that should be found when the backup is made, not when it
 * is needed.
 */
import type { Database } from 'bun:sqlite'
import { sealContext as backendContext } from '../backends/registry.ts'
import { sealContext as credentialContext } from '../credentials/service.ts'
import { createSealer } from '../lib/seal.ts'

const SEALED: Array<{ table: string; id: string; context: (id: string) => string }> = [
  { table: 'backends', id: 'id', context: backendContext },
  { table: 's3_credentials', id: 'access_key', context: credentialContext },
]

export type SealedCheck = { total: number; unreadable: string[] }

/** Counts the sealed values and names those `key` cannot open (all of them when there is no key). */
export function checkSealedSecrets(db: Database, key: Uint8Array | undefined): SealedCheck {
  const sealer = key ? createSealer(key) : undefined
  const out: SealedCheck = { total: 0, unreadable: [] }
  for (const s of SEALED) {
    const exists = db.query('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?').get('table', s.table)
    if (!exists) continue
    for (const row of db.query<{ id: string; blob: Uint8Array }, []>(`SELECT ${s.id} AS id, secret_key_enc AS blob FROM ${s.table}`).iterate()) {
      out.total++
      try {
        if (!sealer) throw new Error('no key')
        sealer.open(row.blob, s.context(row.id))
      } catch {
        out.unreadable.push(`${s.table}/${row.id}`)
      }
    }
  }
  return out
}
