// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Directory syncs shared by concurrent commits: every caller is answered only after a sync that
 * began after its call, callers that come while one runs share the next, and a failure reaches
 * the callers of the sync that failed.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { syncDir } from '../../src/backends/fs/dir-sync.ts'

const dir = mkdtempSync(join(tmpdir(), 'stowage-dirsync-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('sixteen concurrent callers are all answered, by at most two syncs after the first', async () => {
  const first = syncDir(dir)
  const rest = Array.from({ length: 16 }, () => syncDir(dir))
  // Every caller after the first shares one promise: the sync that starts when the running one ends.
  expect(new Set(rest).size).toBe(1)
  expect(rest[0]).not.toBe(first)
  await Promise.all([first, ...rest])
})

test('a call made after a sync ended starts a new one', async () => {
  const a = syncDir(dir)
  await a
  const b = syncDir(dir)
  expect(b).not.toBe(a)
  await b
})

test('a directory that cannot be synced fails its callers, and later calls try again', async () => {
  const missing = join(dir, 'missing')
  await expect(syncDir(missing)).rejects.toThrow()
  await expect(syncDir(missing)).rejects.toThrow()
  await expect(syncDir(dir)).resolves.toBeUndefined()
})
