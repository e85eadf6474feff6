// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `stowage migrate-store --from sqlite:PATH --to postgres`: copies a SQLite
 * deployment's state into the PostgreSQL database of the config, so one
 * process can grow into a fleet. The source is read inside one read
 * transaction (a consistent snapshot, also while a server still runs on it);
 * the target is written in one transaction, so a failure leaves it empty; and
 * every table's row count is compared on both sides before that transaction
 * commits. `--dry-run` does all of it and rolls the copy back (it still
 * brings an empty target's schema up to date).
 */
import { existsSync } from 'node:fs'
import type { AppConfig } from '../config/load.ts'
import type { Database, Param, Queries } from '../db/database.ts'
import { migrate } from '../db/migrate.ts'
import { LATEST_VERSION } from '../db/migrations.ts'
import { postgresDatabase } from '../db/postgres.ts'
import { sqliteDatabase } from '../db/sqlite.ts'
import { readSchemaVersion } from '../sqlite/migrate.ts'
import { openDatabase } from '../sqlite/open.ts'
import { UsageError } from './args.ts'

/** Rows per INSERT: well under PostgreSQL's 65 535 parameters for the widest table. */
const BATCH = 500

export type TableReport = { table: string; rows: number }

export type MigrateStoreResult = { tables: TableReport[]; dryRun: boolean }

class RolledBack extends Error {}

/** The tables both stores share; schema_migrations is the target's own. */
async function tablesOf(source: Database): Promise<string[]> {
  const rows = await source.all<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name",
  )
  return rows.map((r) => r.name)
}

async function copyTable(source: Database, target: Queries, table: string): Promise<number> {
  const columns = (await source.all<{ name: string }>(`SELECT name FROM pragma_table_info('${table}') ORDER BY cid`)).map((c) => c.name)
  const list = columns.map((c) => `"${c}"`).join(', ')
  const rows = await source.all<Record<string, Param>>(`SELECT ${list} FROM "${table}"`)
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = rows.slice(i, i + BATCH)
    const values = batch.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ')
    await target.run(
      `INSERT INTO "${table}" (${list}) VALUES ${values}`,
      batch.flatMap((r) => columns.map((c) => r[c] ?? null)),
    )
  }
  return rows.length
}

export async function migrateStore(o: {
  from: string
  /** The target's connection URL. */
  url: string
  config: AppConfig
  dryRun: boolean
  log: (line: string) => void
}): Promise<MigrateStoreResult> {
  if (!o.from.startsWith('sqlite:') || o.from.length === 'sqlite:'.length) throw new UsageError('--from must be sqlite:PATH')
  const path = o.from.slice('sqlite:'.length)
  if (!existsSync(path)) throw new UsageError(`${path} does not exist`)
  const raw = openDatabase(path)
  const version = readSchemaVersion(raw)
  if (version === undefined) {
    raw.close()
    throw new UsageError(`${path} is not a Stowage database`)
  }
  if (version !== LATEST_VERSION) {
    raw.close()
    throw new UsageError(
      `${path} is at schema version ${version}, this binary writes ${LATEST_VERSION}: start this version on it once (or run an older migrate-store)`,
    )
  }
  const source = sqliteDatabase(raw, path)
  const target = postgresDatabase({
    url: o.url,
    poolSize: 2,
    statementTimeoutMs: 0,
    connectTimeoutMs: o.config.db.postgres.connect_timeout,
  })
  try {
    await migrate(target)
    const tables = await tablesOf(source)
    const report: TableReport[] = []
    try {
      // Every read below sees one snapshot of the source, whatever a running server writes meanwhile.
      raw.exec('BEGIN')
      await target.transaction(async (tx) => {
        for (const table of tables) {
          const there = (await tx.get<{ n: number }>(`SELECT COUNT(*) AS n FROM "${table}"`))!.n
          if (there > 0) throw new UsageError(`the target already holds rows in ${table}: migrate-store only fills an empty database`)
        }
        for (const table of tables) {
          const rows = await copyTable(source, tx, table)
          report.push({ table, rows })
          o.log(`${table}: ${rows} rows`)
        }
        // Identity columns keep counting after the copied ids.
        await tx.get("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), GREATEST((SELECT MAX(id) FROM audit_events), 1))")
        for (const { table, rows } of report) {
          const there = (await tx.get<{ n: number }>(`SELECT COUNT(*) AS n FROM "${table}"`))!.n
          if (there !== rows) throw new Error(`count check failed for ${table}: ${rows} read, ${there} written`)
        }
        if (o.dryRun) throw new RolledBack()
      })
    } catch (err) {
      if (!(err instanceof RolledBack)) throw err
    } finally {
      if (raw.inTransaction) raw.exec('ROLLBACK')
    }
    return { tables: report, dryRun: o.dryRun }
  } finally {
    await target.close()
    raw.close()
  }
}
