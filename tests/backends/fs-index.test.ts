// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The sorted directory indexes behind fs listings: a folder is read once and
 * then paged by binary search; the driver's own writes patch the index; files
 * added, removed or renamed by other means show at the next listing; and
 * whatever the cache holds or drops, every listing matches an S3 reference
 * model of the keys.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Backend, ListOptions } from '../../src/backends/backend.ts'
import { indexStats, readIndex, setIndexBudget, trackKey, watchedCount, watchesFilesystem } from '../../src/backends/fs/dir-index.ts'
import { byteOrder, fixture, keysOf, put, seeded } from './fs-fixture.ts'

afterEach(() => setIndexBudget(64 * 1024 * 1024))

/** Every page of a listing, as S3 keys and common prefixes in order. */
async function everything(b: Backend, opts: ListOptions): Promise<string[]> {
  const out: string[] = []
  let token: string | undefined
  do {
    const page = await b.listObjects('bkt', { ...opts, token })
    out.push(...byteOrder([...page.objects.map((o) => o.key), ...page.commonPrefixes]))
    token = page.isTruncated ? page.nextToken : undefined
  } while (token)
  return out
}

function reference(keys: Iterable<string>, opts: ListOptions): string[] {
  const prefix = opts.prefix ?? ''
  const out: string[] = []
  for (const key of byteOrder([...keys])) {
    if (!key.startsWith(prefix)) continue
    const at = opts.delimiter ? key.indexOf(opts.delimiter, prefix.length) : -1
    const entry = at < 0 ? key : key.slice(0, at + opts.delimiter!.length)
    if (out.at(-1) !== entry) out.push(entry)
  }
  return out
}

describe('directory indexes', () => {
  test('a large folder is read once, then paged through without reading it again', async () => {
    const f = await fixture()
    const dir = join(f.bucketDir(), 'big')
    await mkdir(dir)
    const names = Array.from({ length: 5000 }, (_, i) => `file-${String(i).padStart(5, '0')}.bin`)
    for (const n of names) await writeFile(join(dir, n), 'x')
    const before = indexStats().builds
    const keys = await keysOf(f.b, { prefix: 'big/', maxKeys: 100 })
    expect(keys).toEqual(names.map((n) => `big/${n}`))
    // The folder is read once for 50 pages (the prefix starts the walk inside it).
    expect(indexStats().builds - before).toBe(1)
    const mid = await f.b.listObjects('bkt', { prefix: 'big/', startAfter: 'big/file-02500.bin', maxKeys: 2 })
    expect(mid.objects.map((o) => o.key)).toEqual(['big/file-02501.bin', 'big/file-02502.bin'])
    expect(indexStats().builds - before).toBe(1)
  })

  test('files added, removed and renamed by other means show at the next listing', async () => {
    const f = await fixture()
    for (const k of ['d/a', 'd/b', 'd/c']) await put(f.b, k, k)
    expect(await keysOf(f.b, { prefix: 'd/' })).toEqual(['d/a', 'd/b', 'd/c'])
    await writeFile(join(f.bucketDir(), 'd', 'ab'), 'dropped in')
    expect(await keysOf(f.b, { prefix: 'd/' })).toEqual(['d/a', 'd/ab', 'd/b', 'd/c'])
    await unlink(join(f.bucketDir(), 'd', 'b'))
    expect(await keysOf(f.b, { prefix: 'd/' })).toEqual(['d/a', 'd/ab', 'd/c'])
    await rename(join(f.bucketDir(), 'd', 'c'), join(f.bucketDir(), 'd', 'z'))
    expect(await keysOf(f.b, { prefix: 'd/' })).toEqual(['d/a', 'd/ab', 'd/z'])
    await mkdir(join(f.bucketDir(), 'd', 'sub'))
    await writeFile(join(f.bucketDir(), 'd', 'sub', 'x'), 'x')
    expect((await f.b.listObjects('bkt', { prefix: 'd/', delimiter: '/' })).commonPrefixes).toEqual(['d/sub/'])
    await put(f.b, 'd/m', 'ours')
    await writeFile(join(f.bucketDir(), 'd', 'n'), 'theirs, right after ours')
    expect(await keysOf(f.b, { prefix: 'd/' })).toEqual(['d/a', 'd/ab', 'd/m', 'd/n', 'd/sub/x', 'd/z'])
  })

  test('a folder of 10,000 files is watched: what other programs change there shows without reading it again', async () => {
    const f = await fixture()
    const dir = join(f.bucketDir(), 'w')
    mkdirSync(dir)
    const names = Array.from({ length: 10_000 }, (_, i) => `f-${String(i).padStart(5, '0')}`)
    for (const n of names) writeFileSync(join(dir, n), '')
    const watched = watchedCount()
    expect(await keysOf(f.b, { prefix: 'w/', maxKeys: 1000 })).toHaveLength(10_000)
    expect(watchedCount()).toBe(watched + 1)
    const builds = indexStats().builds
    // Each change is listed right after it is made, before the watcher's event has had a turn.
    const around = async (after: string): Promise<string[]> =>
      (await f.b.listObjects('bkt', { prefix: 'w/', startAfter: after, maxKeys: 2, delimiter: '/' })).objects.map((o) => o.key)
    writeFileSync(join(dir, 'f-05000.dropped'), 'x')
    expect(await around('w/f-05000')).toEqual(['w/f-05000.dropped', 'w/f-05001'])
    unlinkSync(join(dir, 'f-05001'))
    expect(await around('w/f-05000.dropped')).toEqual(['w/f-05002', 'w/f-05003'])
    renameSync(join(dir, 'f-05002'), join(dir, 'zz'))
    expect(await around('w/f-05000.dropped')).toEqual(['w/f-05003', 'w/f-05004'])
    expect(await around('w/f-09999')).toEqual(['w/zz'])
    await put(f.b, 'w/f-05003.ours', 'x')
    expect(await around('w/f-05003')).toEqual(['w/f-05003.ours', 'w/f-05004'])
    // Asked straight after the change, with no turn of the event loop between.
    writeFileSync(join(dir, 'f-06000.direct'), 'x')
    const index = await readIndex(dir)
    expect(index!.at(index!.lowerBound('f-06000.direct')).name).toBe('f-06000.direct')
    expect(indexStats().builds - builds).toBe(0)
    mkdirSync(join(dir, 'f-05003.d'))
    writeFileSync(join(dir, 'f-05003.d', 'inside'), 'x')
    expect((await f.b.listObjects('bkt', { prefix: 'w/f-05003', delimiter: '/' })).commonPrefixes).toEqual(['w/f-05003.d/'])
    expect(await keysOf(f.b, { prefix: 'w/f-05003' })).toEqual(['w/f-05003', 'w/f-05003.d/inside', 'w/f-05003.ours'])
    expect(await keysOf(f.b, { prefix: 'w/', maxKeys: 1000 })).toHaveLength(10_003)
    // Another folder put in its place (a sync tool swapping a finished copy in): the watched one is gone from the path.
    renameSync(dir, `${dir}.old`)
    mkdirSync(dir)
    writeFileSync(join(dir, 'fresh'), '')
    expect(await keysOf(f.b, { prefix: 'w/' })).toEqual(['w/fresh'])
    rmSync(`${dir}.old`, { recursive: true })
    rmSync(dir, { recursive: true })
    expect(await keysOf(f.b, { prefix: 'w/' })).toEqual([])
    await new Promise((r) => setTimeout(r, 50))
    expect(watchedCount()).toBe(watched)
  }, 60_000)

  test('folders are watched on local filesystems only: elsewhere inotify misses other machines’ changes', () => {
    for (const local of [0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x2fc12fc1, 0x794c7630]) expect(watchesFilesystem(local)).toBe(true)
    // NFS, SMB, CIFS, SMB2, FUSE (sshfs, rclone mount), Ceph, 9p
    for (const shared of [0x6969, 0x517b, 0xff534d42, 0xfe534d42, 0x65735546, 0x00c36400, 0x01021997]) expect(watchesFilesystem(shared)).toBe(false)
  })

  test('the driver’s own writes and deletes patch the index instead of forcing a read', async () => {
    const f = await fixture()
    for (let i = 0; i < 50; i++) await put(f.b, `p/${i}`, 'x')
    await keysOf(f.b, { prefix: 'p/' })
    const before = indexStats().builds
    await put(f.b, 'p/new', 'x')
    await f.b.deleteObject('bkt', 'p/7')
    await f.b.copyObject({ bucket: 'bkt', key: 'p/1' }, { bucket: 'bkt', key: 'p/copied' })
    const keys = await keysOf(f.b, { prefix: 'p/' })
    expect(keys).toContain('p/new')
    expect(keys).toContain('p/copied')
    expect(keys).not.toContain('p/7')
    expect(keys).toHaveLength(51)
    expect(indexStats().builds - before).toBe(0)
  })

  test('a commit that has answered shows in every later listing, though listings read its folder while it ran', async () => {
    const f = await fixture()
    for (let i = 0; i < 300; i++) await writeFile(join(f.bucketDir(), `seed-${i}`), 'x')
    const hidden: string[] = []
    for (let i = 0; i < 150; i++) {
      // A file dropped in makes the next listing read the folder again.
      await writeFile(join(f.bucketDir(), `foreign-${i}`), 'x')
      let answered = false
      const commit = put(f.b, `ours-${i}`, 'x').then(() => (answered = true))
      const listings: Promise<unknown>[] = []
      while (!answered && listings.length < 50) {
        listings.push(f.b.listObjects('bkt', { maxKeys: 1 }))
        await new Promise((r) => setImmediate(r))
      }
      await Promise.all([commit, ...listings])
      const page = await f.b.listObjects('bkt', { prefix: `ours-${i}` })
      if (page.objects.length !== 1) hidden.push(`ours-${i}`)
    }
    expect(hidden).toEqual([])
    expect(await keysOf(f.b, { prefix: 'ours-' })).toHaveLength(150)
  }, 60_000)

  test('a read that one of our own changes overlapped is kept, with that change in it', async () => {
    const f = await fixture()
    for (let i = 0; i < 100; i++) await put(f.b, `k-${i}`, 'x')
    const dir = f.bucketDir()
    await writeFile(join(dir, 'dropped'), 'x')
    const read = readIndex(dir)
    await trackKey(dir, 'late', async () => writeFileSync(join(dir, 'late'), 'x'))
    await read
    const before = indexStats().builds
    const keys = await keysOf(f.b)
    expect(keys).toContain('late')
    expect(keys).toContain('dropped')
    expect(keys).toHaveLength(102)
    expect(indexStats().builds - before).toBe(0)
  })

  test('random own and foreign changes, any cache budget, watched or not: listings always match the model', async () => {
    for (const [budget, seeds] of [
      [64 * 1024 * 1024, 0],
      [2000, 0],
      [0, 0],
      [64 * 1024 * 1024, 10_000],
    ] as const) {
      setIndexBudget(budget)
      const f = await fixture()
      const random = seeded(budget + seeds + 11)
      const segments = ['a', 'b', 'a!', 'é', '', 'x-y', 'z'.repeat(250), '日本']
      const keys = new Set<string>()
      // Enough files in the bucket's top folder for it to be watched.
      for (let i = 0; i < seeds; i++) writeFileSync(join(f.bucketDir(), `seed-${i}`), '')
      for (let i = 0; i < seeds; i++) keys.add(`seed-${i}`)
      const pageSize = (): number => (seeds > 0 ? 1000 : 1 + random(4))
      for (let step = 0; step < 300; step++) {
        const key = Array.from({ length: 1 + random(3) }, () => segments[random(segments.length)]).join('/') || 'root'
        const op = random(10)
        if (op < 5) {
          await put(f.b, key, key)
          keys.add(key)
        } else if (op < 7) {
          await f.b.deleteObject('bkt', key)
          keys.delete(key)
        } else if (op < 8 && /^[a-z!-]{1,20}$/.test(key)) {
          // A file dropped in where no directory is in the way is an object of its own name (longer names are not keys).
          const path = join(f.bucketDir(), key)
          try {
            await writeFile(path, 'foreign')
            keys.add(key)
          } catch {
            // A directory holds the name, or a file holds a parent: not droppable by hand either.
          }
        } else if (op < 9) {
          const victim = [...keys].find((k) => /^[a-z!-]{1,20}$/.test(k))
          if (
            victim &&
            (await rm(join(f.bucketDir(), victim)).then(
              () => true,
              () => false,
            ))
          )
            keys.delete(victim)
        } else {
          const opts = [{}, { delimiter: '/' }, { prefix: 'a', delimiter: '/' }, { prefix: 'a/' }][random(4)]!
          expect(await everything(f.b, { ...opts, maxKeys: pageSize() })).toEqual(reference(keys, opts))
        }
      }
      for (const opts of [{}, { delimiter: '/' }, { prefix: 'é/', delimiter: '/' }]) expect(await everything(f.b, opts)).toEqual(reference(keys, opts))
    }
  }, 120_000)
})
