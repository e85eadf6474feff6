// SPDX-License-Identifier: AGPL-3.0-or-later
/** `stowage backup` and `stowage restore`: flags in, a summary out; the work is in src/backup/. */
import { BackupError } from '../backup/format.ts'
import { createBackup } from '../backup/create.ts'
import { restoreBackup } from '../backup/restore.ts'
import { parseArgs, UsageError } from './args.ts'
import { dataPaths } from './data-paths.ts'

type Env = Record<string, string | undefined>

/** A refusal is exit 1 with its reason; misuse stays a UsageError (exit 2). */
async function refusalsExit1(run: () => Promise<void>): Promise<number> {
  try {
    await run()
    return 0
  } catch (err) {
    if (!(err instanceof BackupError)) throw err
    console.error(`stowage: ${err.message}`)
    return 1
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

export async function backupCommand(args: string[], env: Env): Promise<number> {
  const { flags } = parseArgs(args, { to: 'string', 'data-dir': 'string', config: 'string' })
  if (!flags.to) throw new UsageError('--to FILE is required (where to write the archive)')
  const paths = await dataPaths({ config: flags.config as string | undefined, dataDir: flags['data-dir'] as string | undefined }, env)
  return refusalsExit1(async () => {
    const r = await createBackup(paths, flags.to as string)
    for (const w of r.warnings) console.error(`stowage: warning: ${w}`)
    const m = r.manifest
    const key =
      m.master_key === 'file'
        ? `master key from ${m.source.key_file} (key id ${m.key_id})`
        : m.master_key === 'environment'
          ? `no key file: the master key is in STOWAGE_SECRET_KEY (key id ${m.key_id})`
          : 'no master key'
    console.log(`backup written to ${r.file} (${mib(r.bytes)}) in ${(r.ms / 1000).toFixed(1)} s
  database  ${m.source.database}, schema version ${m.schema_version}, snapshot at ${m.created_at}
  key       ${key}; ${m.sealed_secrets.total - m.sealed_secrets.unreadable} of ${m.sealed_secrets.total} sealed secrets open with it
Not in the archive:
${m.not_included.map((n) => `  - ${n}`).join('\n')}`)
  })
}

export async function restoreCommand(args: string[], env: Env): Promise<number> {
  const { flags } = parseArgs(args, { from: 'string', 'data-dir': 'string', config: 'string', force: 'boolean' })
  if (!flags.from) throw new UsageError('--from FILE is required (the backup to restore)')
  if (flags['data-dir'] === undefined && flags.config === undefined)
    throw new UsageError('--data-dir DIR or --config PATH is required (where the database goes)')
  const paths = await dataPaths({ config: flags.config as string | undefined, dataDir: flags['data-dir'] as string | undefined }, env)
  return refusalsExit1(async () => {
    const r = await restoreBackup(flags.from as string, paths, { force: flags.force === true })
    for (const w of r.warnings) console.error(`stowage: warning: ${w}`)
    const lines = [
      `restored the backup of ${r.manifest.created_at} (schema version ${r.manifest.schema_version}, Stowage ${r.manifest.stowage_version})`,
      `  database  ${r.database}`,
    ]
    if (r.keyFile) lines.push(`  key       ${r.keyFile}`)
    if (r.keptAside.length) lines.push(`  kept      ${r.keptAside.join(', ')}`)
    lines.push('Object bytes of fs backends are not in backups: put those directories back too.')
    console.log(lines.join('\n'))
  })
}
