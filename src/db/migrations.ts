// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * One numbered sequence of migrations, embedded in the binary as text, in
 * two dialects: `db/NNNN_name.sql` is the SQLite form and
 * `db/postgres/NNNN_name.sql` the PostgreSQL form of the same version (same
 * number, same name, same tables). Only ever append: a shipped file of
 * either dialect is never edited (tests/sqlite/migrations.test.ts pins each
 * file's SHA-256).
 */
import type { Dialect } from './database.ts'
import m0001 from '../../db/0001_core.sql' with { type: 'text' }
import m0002 from '../../db/0002_storage.sql' with { type: 'text' }
import m0003 from '../../db/0003_s3proxy.sql' with { type: 'text' }
import m0004 from '../../db/0004_shares.sql' with { type: 'text' }
import m0005 from '../../db/0005_grants.sql' with { type: 'text' }
import m0006 from '../../db/0006_fleet.sql' with { type: 'text' }
import p0001 from '../../db/postgres/0001_core.sql' with { type: 'text' }
import p0002 from '../../db/postgres/0002_storage.sql' with { type: 'text' }
import p0003 from '../../db/postgres/0003_s3proxy.sql' with { type: 'text' }
import p0004 from '../../db/postgres/0004_shares.sql' with { type: 'text' }
import p0005 from '../../db/postgres/0005_grants.sql' with { type: 'text' }
import p0006 from '../../db/postgres/0006_fleet.sql' with { type: 'text' }

export type Migration = { version: number; name: string; sql: string }

/** File names shared by both dialects; a migration's version is its position, which is also its number. */
const NAMES = ['0001_core.sql', '0002_storage.sql', '0003_s3proxy.sql', '0004_shares.sql', '0005_grants.sql', '0006_fleet.sql']

const sequence = (texts: readonly string[]): readonly Migration[] => texts.map((sql, i) => ({ version: i + 1, name: NAMES[i]!, sql }))

export const MIGRATIONS = sequence([m0001, m0002, m0003, m0004, m0005, m0006])
export const POSTGRES_MIGRATIONS = sequence([p0001, p0002, p0003, p0004, p0005, p0006])

export const migrationsFor = (dialect: Dialect): readonly Migration[] => (dialect === 'sqlite' ? MIGRATIONS : POSTGRES_MIGRATIONS)

export const LATEST_VERSION = MIGRATIONS.at(-1)!.version
