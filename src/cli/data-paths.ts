// SPDX-License-Identifier: AGPL-3.0-or-later
import { join, resolve } from 'node:path'
import { keyFilePath } from '../lib/seal.ts'
import { resolveConfig } from './config-source.ts'
import { UsageError } from './args.ts'

/** What `quickstart --data-dir DIR` keeps where. */
export function quickstartLayout(dir: string): { database: string; keyFile: string; objects: string } {
  const root = resolve(dir)
  return { database: join(root, 'stowage.db'), keyFile: join(root, 'stowage.key'), objects: join(root, 'objects') }
}

export type DataPaths = {
  database: string
  keyFile: string
  /** `STOWAGE_SECRET_KEY`, which the server prefers to the key file. */
  envKey: string | undefined
  /** Object bytes of these live in their directories, not in the database. */
  fsBackends: Array<{ id: string; root: string }>
}

/**
 * Finds the database and the key file the way the server would: `--data-dir`
 * as `quickstart` lays it out, otherwise the config `serve` would read
 * (`--config`, `$STOWAGE_CONFIG`, `./config.yaml`, defaults), with the same
 * STOWAGE_* overrides.
 */
export async function dataPaths(flags: { config?: string; dataDir?: string }, env: Record<string, string | undefined>): Promise<DataPaths> {
  if (flags.config !== undefined && flags.dataDir !== undefined) throw new UsageError('give --config or --data-dir, not both')
  if (flags.dataDir !== undefined) {
    const q = quickstartLayout(flags.dataDir)
    return { database: q.database, keyFile: q.keyFile, envKey: env.STOWAGE_SECRET_KEY || undefined, fsBackends: [{ id: 'local', root: q.objects }] }
  }
  const config = await resolveConfig(flags.config, env, { secrets: 'skip' })
  if (config.db.driver === 'postgres')
    throw new UsageError('backup and restore cover the SQLite store; with db.driver: postgres, back up the database with pg_dump and keep the master key')
  const database = resolve(config.db.sqlite.path)
  return {
    database,
    keyFile: resolve(keyFilePath(config.server.secret_key_file, database)),
    envKey: config.masterKey,
    fsBackends: config.backends.filter((b) => b.type === 'fs').map((b) => ({ id: b.id, root: resolve(b.root) })),
  }
}
