// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Versions on a directory (src/backends/fs/versions.ts): what S3 clients see
 * through the seam, and what is on disk, where the latest version stays the
 * plain file at the key's path.
 */
import { describe, expect, test } from 'bun:test'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Backend, VersionInfo } from '../../src/backends/backend.ts'
import { caught } from '../helpers/s3.ts'
import { body, fixture, keptBytes, keysOf, kindOf, put, seeded, type Fixture } from './fs-fixture.ts'

async function readVersion(b: Backend, key: string, versionId?: string): Promise<string> {
  const got = await b.getObject('bkt', key, versionId !== undefined ? { versionId } : {})
  if (got.status === 304) throw new Error('unexpected 304')
  return new Response(got.body).text()
}

const summary = (vs: VersionInfo[]): Array<[string, boolean, boolean]> => vs.map((v) => [v.key, v.isLatest, v.isDeleteMarker])

async function versioned(): Promise<Fixture> {
  const f = await fixture()
  await f.b.setVersioning('bkt', true)
  return f
}

describe('versioning on a directory', () => {
  test('every overwrite is kept, by a second name for the same bytes; each version reads back by id', async () => {
    const f = await versioned()
    expect(await f.b.getVersioning('bkt')).toBe(true)
    const ids: string[] = []
    for (const text of ['one', 'two', 'three']) {
      const done = await f.b.putObject('bkt', 'k.txt', body(text), { size: text.length })
      expect(done.versionId).toMatch(/^[0-9a-f]{32}$/)
      ids.push(done.versionId!)
    }
    expect(new Set(ids).size).toBe(3)
    const versions = await f.b.listObjectVersions('bkt', 'k.txt')
    expect(versions.map((v) => v.versionId)).toEqual([...ids].reverse())
    expect(versions.map((v) => [v.isLatest, v.size])).toEqual([
      [true, 5],
      [false, 3],
      [false, 3],
    ])
    for (const [i, text] of ['one', 'two', 'three'].entries()) expect(await readVersion(f.b, 'k.txt', ids[i])).toBe(text)
    // The latest is the plain file a NAS user sees; listings show one object.
    expect(await readFile(join(f.bucketDir(), 'k.txt'), 'utf8')).toBe('three')
    expect(await keysOf(f.b)).toEqual(['k.txt'])
    expect(await keptBytes(f.root)).toHaveLength(2)
    expect((await f.b.headObject('bkt', 'k.txt')).versionId).toBe(ids[2])
    expect(await kindOf(f.b.getObject('bkt', 'k.txt', { versionId: 'no-such-version' }))).toBe('not_found')
  })

  test('a delete leaves a marker: the key is gone from reads and listings, listed as deleted, and removing the marker brings it back', async () => {
    const f = await versioned()
    const first = await f.b.putObject('bkt', 'docs/a.md', body('alpha'), { size: 5 })
    const gone = await f.b.deleteObject('bkt', 'docs/a.md')
    expect(gone.deleteMarker).toBe(true)
    expect(gone.versionId).not.toBe(first.versionId)
    const miss = await caught(f.b.getObject('bkt', 'docs/a.md'))
    expect([miss.kind, miss.code, miss.deleteMarker]).toEqual(['not_found', 'NoSuchKey', gone.versionId])
    expect((await caught(f.b.headObject('bkt', 'docs/a.md', { versionId: gone.versionId! }))).deleteMarker).toBe(gone.versionId)
    expect(await keysOf(f.b)).toEqual([])
    expect(summary(await f.b.listObjectVersions('bkt', 'docs/a.md'))).toEqual([
      ['docs/a.md', true, true],
      ['docs/a.md', false, false],
    ])
    expect((await f.b.listDeletedKeys('bkt', 'docs/')).map((v) => [v.key, v.versionId])).toEqual([['docs/a.md', gone.versionId!]])
    expect(await f.b.listDeletedKeys('bkt', '')).toEqual([])
    const undone = await f.b.deleteObject('bkt', 'docs/a.md', { versionId: gone.versionId! })
    expect(undone).toEqual({ versionId: gone.versionId, deleteMarker: true })
    expect(await readVersion(f.b, 'docs/a.md')).toBe('alpha')
    expect(await readFile(join(f.bucketDir(), 'docs', 'a.md'), 'utf8')).toBe('alpha')
    expect(await f.b.listDeletedKeys('bkt', 'docs/')).toEqual([])
  })

  test('deleting the latest version by id makes the next one the file again; a marker below stays the latest', async () => {
    const f = await versioned()
    const v1 = (await f.b.putObject('bkt', 'k', body('v1'), { size: 2 })).versionId!
    const marker = (await f.b.deleteObject('bkt', 'k')).versionId!
    const v3 = (await f.b.putObject('bkt', 'k', body('v3'), { size: 2 })).versionId!
    const v4 = (await f.b.putObject('bkt', 'k', body('v4'), { size: 2 })).versionId!
    expect(await f.b.deleteObject('bkt', 'k', { versionId: v4 })).toEqual({ versionId: v4 })
    expect(await readVersion(f.b, 'k')).toBe('v3')
    expect(await readFile(join(f.bucketDir(), 'k'), 'utf8')).toBe('v3')
    await f.b.deleteObject('bkt', 'k', { versionId: v3 })
    expect((await caught(f.b.getObject('bkt', 'k'))).deleteMarker).toBe(marker)
    expect((await f.b.listObjectVersions('bkt', 'k')).map((v) => v.versionId)).toEqual([marker, v1])
    // A version id that names nothing is deleted already.
    expect(await f.b.deleteObject('bkt', 'k', { versionId: 'never-was' })).toEqual({ versionId: 'never-was' })
    await f.b.deleteObject('bkt', 'k', { versionId: marker })
    expect(await readVersion(f.b, 'k')).toBe('v1')
  })

  test('objects from before versioning are the null version, kept on overwrite; suspended writes replace the null version', async () => {
    const f = await fixture()
    await put(f.b, 'k', 'plain')
    await writeFile(join(f.bucketDir(), 'dropped.txt'), 'from the NAS')
    await f.b.setVersioning('bkt', true)
    const v2 = (await f.b.putObject('bkt', 'k', body('enabled'), { size: 7 })).versionId!
    await put(f.b, 'dropped.txt', 'replaced')
    expect(await readVersion(f.b, 'k', 'null')).toBe('plain')
    expect(await readVersion(f.b, 'dropped.txt', 'null')).toBe('from the NAS')
    await f.b.setVersioning('bkt', false)
    expect(await f.b.getVersioning('bkt')).toBe(false)
    const s1 = await f.b.putObject('bkt', 'k', body('suspended 1'), { size: 11 })
    expect(s1.versionId).toBe('null')
    await f.b.putObject('bkt', 'k', body('suspended 2'), { size: 11 })
    const versions = await f.b.listObjectVersions('bkt', 'k')
    // The first null version ('plain') was replaced by the suspended writes; the enabled one stays.
    expect(versions.map((v) => v.versionId)).toEqual(['null', v2])
    expect(await readVersion(f.b, 'k', 'null')).toBe('suspended 2')
    const marker = await f.b.deleteObject('bkt', 'k')
    expect(marker).toEqual({ versionId: 'null', deleteMarker: true })
    expect(summary(await f.b.listObjectVersions('bkt', 'k'))).toEqual([
      ['k', true, true],
      ['k', false, false],
    ])
    expect(await keptBytes(f.root)).toHaveLength(2)
  })

  test('tags of an old version, and copying it onto its key to bring it back as a new version', async () => {
    const f = await versioned()
    const old = (await f.b.putObject('bkt', 'k', body('old'), { size: 3, tags: { a: '1' } })).versionId!
    await f.b.putObject('bkt', 'k', body('new'), { size: 3 })
    expect(await f.b.getObjectTags('bkt', 'k', { versionId: old })).toEqual({ a: '1' })
    await f.b.putObjectTags('bkt', 'k', { b: '2' }, { versionId: old })
    expect(await f.b.getObjectTags('bkt', 'k', { versionId: old })).toEqual({ b: '2' })
    expect(await f.b.getObjectTags('bkt', 'k')).toEqual({})
    expect(await kindOf(f.b.putObjectTags('bkt', 'k', {}, { versionId: 'nope' }))).toBe('not_found')
    const restored = await f.b.copyObject({ bucket: 'bkt', key: 'k' }, { bucket: 'bkt', key: 'k' }, { srcVersionId: old })
    expect(restored.versionId).not.toBe(old)
    expect(await readVersion(f.b, 'k')).toBe('old')
    expect(await f.b.listObjectVersions('bkt', 'k')).toHaveLength(3)
    // A metadata edit in place is a new version too, so the old metadata stays readable.
    await f.b.copyObject({ bucket: 'bkt', key: 'k' }, { bucket: 'bkt', key: 'k' }, { contentType: 'text/x-edited' })
    const [latest, previous] = await f.b.listObjectVersions('bkt', 'k')
    expect((await f.b.headObject('bkt', 'k', { versionId: latest!.versionId })).contentType).toBe('text/x-edited')
    expect((await f.b.headObject('bkt', 'k', { versionId: previous!.versionId })).contentType).not.toBe('text/x-edited')
  })

  test('a write adds one entry and leaves the others alone, however many versions the key has', async () => {
    const f = await versioned()
    await put(f.b, 'hot', 'v0')
    await put(f.b, 'hot', 'v1')
    const [first] = await keptBytes(f.root)
    const entry = join(f.root, '.stowage', 'vdata', 'bkt', `${first!}.json`)
    const before = await stat(entry, { bigint: true })
    for (let i = 2; i < 400; i++) await put(f.b, 'hot', `v${i}`)
    const after = await stat(entry, { bigint: true })
    expect([after.ino, after.mtimeNs]).toEqual([before.ino, before.mtimeNs])
    const versions = await f.b.listObjectVersions('bkt', 'hot')
    expect(versions).toHaveLength(400)
    expect(await readVersion(f.b, 'hot', versions[399]!.versionId)).toBe('v0')
    expect(await readVersion(f.b, 'hot', versions[1]!.versionId)).toBe('v398')
  })

  test('a bucket with versions or markers is not empty; once they are gone it deletes cleanly', async () => {
    const f = await versioned()
    await put(f.b, 'x', '1')
    await put(f.b, 'x', '2')
    await f.b.deleteObject('bkt', 'x')
    expect(await kindOf(f.b.deleteBucket('bkt'))).toBe('not_empty')
    for (const v of await f.b.listObjectVersions('bkt', 'x')) await f.b.deleteObject('bkt', 'x', { versionId: v.versionId })
    await f.b.deleteBucket('bkt')
    for (const dir of ['versions', 'vdata']) expect(await readdir(join(f.root, '.stowage', dir))).toEqual([])
    // A bucket made again under the name starts unversioned and empty.
    await f.b.createBucket('bkt')
    expect(await f.b.getVersioning('bkt')).toBe(false)
    expect(await f.b.listObjectVersions('bkt', 'x')).toEqual([])
  })

  test('keys that need escaping, a file and a folder of one name, and over-long segments all keep versions', async () => {
    const f = await versioned()
    const keys = ['a', 'a/b', 'ü/../%2E/x', 'long/' + 'é'.repeat(200) + '/tail', 'a//b', '.stowage-x']
    for (const key of keys) {
      await put(f.b, key, `${key} 1`)
      await put(f.b, key, `${key} 2`)
    }
    for (const key of keys) {
      const versions = await f.b.listObjectVersions('bkt', key)
      expect(versions).toHaveLength(2)
      expect(await readVersion(f.b, key, versions[1]!.versionId)).toBe(`${key} 1`)
    }
    const page = await f.b.listVersionPage!('bkt', {})
    expect(page.versions.map((v) => v.key)).toEqual([...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))).flatMap((k) => [k, k]))
  })

  test('version pages: any page size walks every version once, in order, with and without a delimiter', async () => {
    const f = await versioned()
    const rand = seeded(7)
    const keys = ['a', 'b/1', 'b/2', 'c', 'd/x/y', 'e']
    for (let i = 0; i < 30; i++) {
      const key = keys[rand(keys.length)]!
      if (rand(4) === 0) await f.b.deleteObject('bkt', key)
      else await put(f.b, key, `${key}#${i}`)
    }
    const whole = await f.b.listVersionPage!('bkt', { maxKeys: 1000 })
    expect(whole.isTruncated).toBe(false)
    const expected: string[] = []
    for (const key of keys) for (const v of await f.b.listObjectVersions('bkt', key)) expected.push(`${key}@${v.versionId}`)
    expect(whole.versions.map((v) => `${v.key}@${v.versionId}`)).toEqual(expected)
    for (const maxKeys of [1, 2, 3, 7]) {
      const seen: string[] = []
      let marker: { keyMarker?: string; versionIdMarker?: string } = {}
      for (let pages = 0; pages < 100; pages++) {
        const page = await f.b.listVersionPage!('bkt', { maxKeys, ...marker })
        expect(page.versions.length).toBeLessThanOrEqual(maxKeys)
        seen.push(...page.versions.map((v) => `${v.key}@${v.versionId}`))
        if (!page.isTruncated) break
        marker = { keyMarker: page.nextKeyMarker!, ...(page.nextVersionIdMarker ? { versionIdMarker: page.nextVersionIdMarker } : {}) }
      }
      expect(seen).toEqual(expected)
    }
    const rolled = await f.b.listVersionPage!('bkt', { delimiter: '/', maxKeys: 1000 })
    expect(rolled.commonPrefixes).toEqual(['b/', 'd/'])
    expect([...new Set(rolled.versions.map((v) => v.key))]).toEqual(['a', 'c', 'e'].filter((k) => expected.some((e) => e.startsWith(k + '@'))))
  })

  test('index files a crash left without entries neither end a listing early nor keep the bucket from being deleted', async () => {
    const f = await versioned()
    for (const key of ['b', 'd', 'f']) {
      await put(f.b, key, `${key}1`)
      await put(f.b, key, `${key}2`)
    }
    // Deleted: its versions are only in the store, after index files with nothing behind them.
    await put(f.b, 'g', 'g1')
    await f.b.deleteObject('bkt', 'g')
    // Made the way the store indexes a key before its first entry is written.
    for (const key of ['a', 'c', 'c2', 'c3', 'e', 'f1', 'f2']) await writeFile(join(f.root, '.stowage', 'versions', 'bkt', key), '{}')
    const expected = ['b', 'b', 'd', 'd', 'f', 'f', 'g', 'g']
    for (const maxKeys of [1, 2, 3, 1000]) {
      const seen: string[] = []
      let marker: { keyMarker?: string; versionIdMarker?: string } = {}
      for (let pages = 0; pages < 50; pages++) {
        const page = await f.b.listVersionPage!('bkt', { maxKeys, ...marker })
        seen.push(...page.versions.map((v) => v.key))
        if (!page.isTruncated) break
        marker = { keyMarker: page.nextKeyMarker!, ...(page.nextVersionIdMarker ? { versionIdMarker: page.nextVersionIdMarker } : {}) }
      }
      expect(seen).toEqual(expected)
    }
    expect((await f.b.listDeletedKeys('bkt', '')).map((v) => v.key)).toEqual(['g'])
    for (const key of ['b', 'd', 'f', 'g'])
      for (const v of await f.b.listObjectVersions('bkt', key)) await f.b.deleteObject('bkt', key, { versionId: v.versionId })
    await f.b.deleteBucket('bkt')
    expect(await readdir(join(f.root, '.stowage', 'versions'))).toEqual([])
  })

  test('lifecycle expiry in a versioned bucket leaves a delete marker, as S3 expires', async () => {
    const f = await fixture('bkt', { now: () => Date.now() + 40 * 86_400_000 })
    const b = f.open()
    await b.setVersioning('bkt', true)
    await put(b, 'logs/old.log', 'old')
    await b.setLifecycle('bkt', [{ id: 'logs', enabled: true, prefix: 'logs/', expiration_days: 1 }])
    const reopened = createLater(f)
    await waitFor(async () => (await reopened.listDeletedKeys('bkt', 'logs/')).length === 1)
    expect(summary(await reopened.listObjectVersions('bkt', 'logs/old.log'))).toEqual([
      ['logs/old.log', true, true],
      ['logs/old.log', false, false],
    ])
  })
  test('lifecycle removes due noncurrent versions past the newest ones kept, and a delete marker left alone', async () => {
    const f = await fixture('bkt', { now: () => Date.now() + 40 * 86_400_000 })
    const b = f.open()
    await b.setVersioning('bkt', true)
    const ids: string[] = []
    for (const text of ['v1', 'v2', 'v3']) ids.push((await b.putObject('bkt', 'k', body(text), { size: 2 })).versionId!)
    await put(b, 'other/x', 'x')
    await b.deleteObject('bkt', 'other/x')
    const lone = await b.putObject('bkt', 'alone', body('a'), { size: 1 })
    await b.deleteObject('bkt', 'alone')
    await b.deleteObject('bkt', 'alone', { versionId: lone.versionId! })
    await b.bucketRules!.setLifecycle('bkt', [
      { id: 'old-versions', enabled: true, scope: { kind: 'prefix', prefix: 'k' }, noncurrentDays: 1, newerNoncurrentVersions: 1 },
      { id: 'markers', enabled: true, scope: { kind: 'prefix', prefix: '' }, expiration: { expiredObjectDeleteMarker: true } },
    ])
    const reopened = createLater(f)
    await waitFor(async () => (await reopened.listObjectVersions('bkt', 'k')).length === 2)
    expect((await reopened.listObjectVersions('bkt', 'k')).map((v) => v.versionId)).toEqual([ids[2]!, ids[1]!])
    expect(await reopened.listObjectVersions('bkt', 'alone')).toEqual([])
    // A marker with a version under it is not alone: kept.
    expect(summary(await reopened.listObjectVersions('bkt', 'other/x'))).toEqual([
      ['other/x', true, true],
      ['other/x', false, false],
    ])
  })
})

/** A driver on the same root that runs its sweep (with the fixture's clock) when it first opens. */
function createLater(f: Fixture): Backend {
  const b = f.open()
  void b.listBuckets()
  return b
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return
    await Bun.sleep(50)
  }
  throw new Error('timed out')
}
