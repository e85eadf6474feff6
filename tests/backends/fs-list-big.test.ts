// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Paging through a big directory of the fs driver: the sorted read of a quiet directory is kept
 * between pages and each page starts at its token, with the same keys in the same order as a
 * fresh walk, and a change to the directory is seen at once.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listPage, type Describe } from '../../src/backends/fs/list.ts'

const root = mkdtempSync(join(tmpdir(), 'stowage-fs-big-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const describe: Describe = async (files) => files.map(({ key }) => ({ key, size: 0 }))
const past = new Date(Date.now() - 60_000)

async function walk(prefix: string, delimiter: string): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await listPage(root, { prefix, delimiter, maxKeys: 1000, ...(token ? { token } : {}) }, describe)
    keys.push(...page.commonPrefixes, ...page.objects.map((o) => o.key))
    token = page.nextToken
  } while (token)
  return keys
}

test('every key of a 7000-entry directory once, in key order, page after page, and a new file appears at once', async () => {
  const dir = join(root, 'big')
  mkdirSync(join(dir, 'm-sub'), { recursive: true })
  const names = Array.from({ length: 7000 }, (_, i) => `f-${String(i).padStart(5, '0')}.txt`)
  for (const name of names) writeFileSync(join(dir, name), '')
  writeFileSync(join(dir, 'm-sub', 'inner.txt'), '')
  // A quiet directory (its mtime a minute old) is the kind whose sorted read is kept.
  utimesSync(dir, past, past)
  const expected = [...names.map((n) => `big/${n}`), 'big/m-sub/inner.txt'].sort()
  expect(await walk('big/', '')).toEqual(expected)
  // Again, from the kept read: the same.
  expect(await walk('big/', '')).toEqual(expected)
  expect((await walk('big/', '/')).sort()).toEqual([...names.map((n) => `big/${n}`), 'big/m-sub/'].sort())

  writeFileSync(join(dir, 'f-03500a.txt'), '')
  const after = await walk('big/', '')
  expect(after).toContain('big/f-03500a.txt')
  expect(after).toHaveLength(expected.length + 1)
})
