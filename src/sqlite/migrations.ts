// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The ordered list of migrations, embedded in the binary as text.
 * Only ever append: a shipped file is never edited (tests/sqlite/migrations.test.ts
 * pins each file's SHA-256).
 */
import m0001 from '../../db/0001_core.sql' with { type: 'text' }
import m0002 from '../../db/0002_storage.sql' with { type: 'text' }
import m0003 from '../../db/0003_s3proxy.sql' with { type: 'text' }
import m0004 from '../../db/0004_shares.sql' with { type: 'text' }
import m0005 from '../../db/0005_grants.sql' with { type: 'text' }

export type Migration = { version: number; name: string; sql: string }

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: '0001_core.sql', sql: m0001 },
  { version: 2, name: '0002_storage.sql', sql: m0002 },
  { version: 3, name: '0003_s3proxy.sql', sql: m0003 },
  { version: 4, name: '0004_shares.sql', sql: m0004 },
  { version: 5, name: '0005_grants.sql', sql: m0005 },
]
