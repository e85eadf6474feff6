// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The backup archive: a plain POSIX tar (gzip-compressed when its name ends in
 * `.gz` or `.tgz`), so that in an emergency `tar -xf` alone gets the files back.
 * Members, in this order:
 *   manifest.json  this schema: versions, where the files came from, and the
 *                  size and SHA-256 of every other member
 *   stowage.db     a consistent snapshot of the database (VACUUM INTO)
 *   stowage.key    the master key file, when the key came from a file
 * Every member is mode 0600, and so is the archive: it holds the key.
 */
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'

export class BackupError extends Error {}

export const FORMAT = 'stowage-backup'
export const FORMAT_VERSION = 1
export const MANIFEST = 'manifest.json'
export const DATABASE = 'stowage.db'
export const KEY = 'stowage.key'
/** A manifest is a few hundred bytes; anything near this is not one of ours. */
export const MANIFEST_MAX_BYTES = 64 * 1024

const Member = Type.Object({
  name: Type.Union([Type.Literal(DATABASE), Type.Literal(KEY)]),
  size: Type.Integer({ minimum: 0 }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
})

export const Manifest = Type.Object({
  format: Type.Literal(FORMAT),
  format_version: Type.Literal(FORMAT_VERSION),
  created_at: Type.String(),
  stowage_version: Type.String(),
  /** The highest migration applied to the snapshot (see src/sqlite/migrate.ts). */
  schema_version: Type.Integer({ minimum: 1 }),
  source: Type.Object({ database: Type.String(), key_file: Type.Optional(Type.String()) }),
  /** `file`: stowage.key is a member; `environment`: the key was in STOWAGE_SECRET_KEY and is not. */
  master_key: Type.Union([Type.Literal('file'), Type.Literal('environment'), Type.Literal('none')]),
  /** Identifies the master key without revealing it (the id sealed values carry in their header). */
  key_id: Type.Optional(Type.String({ pattern: '^[0-9a-f]{8}$' })),
  sealed_secrets: Type.Object({ total: Type.Integer({ minimum: 0 }), unreadable: Type.Integer({ minimum: 0 }) }),
  files: Type.Array(Member),
  not_included: Type.Array(Type.String()),
})
export type Manifest = Static<typeof Manifest>

export function parseManifest(text: string): Manifest {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new BackupError('the archive manifest is not valid JSON (the archive is damaged)')
  }
  if ((doc as { format?: unknown })?.format !== FORMAT) throw new BackupError('not a Stowage backup (manifest.json has no "format": "stowage-backup")')
  const version = (doc as { format_version?: unknown }).format_version
  if (version !== FORMAT_VERSION)
    throw new BackupError(
      `backup format version ${JSON.stringify(version)} is not one this Stowage reads (${FORMAT_VERSION}); restore it with the Stowage that made it`,
    )
  const problem = Value.Errors(Manifest, doc).First()
  if (problem) throw new BackupError(`the archive manifest is invalid at ${problem.path || '/'}: ${problem.message}`)
  const manifest = doc as Manifest
  const names = manifest.files.map((f) => f.name)
  if (new Set(names).size !== names.length || !names.includes(DATABASE) || names.includes(KEY) !== (manifest.master_key === 'file')) {
    throw new BackupError('the archive manifest lists the wrong files (the archive is damaged)')
  }
  return manifest
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

export function isGzipName(path: string): boolean {
  return /\.(gz|tgz)$/i.test(path)
}
