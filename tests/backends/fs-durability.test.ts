// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Durability of the fs driver: a process writing through it is killed with
 * SIGKILL mid-upload, mid-complete and between commits; after a restart no
 * partial object is visible and nothing is left behind. Then each rule of
 * start-up recovery on a crafted crash state, and symbolic links planted
 * inside `.stowage` that must never take a read or a write outside the root.
 */
import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { lstat, mkdir, readdir, readFile, rename, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Backend, GetResult } from '../../src/backends/backend.ts'
import { createFsBackend } from '../../src/backends/fs/driver.ts'
import { fill } from '../helpers/fs-crash-writer.ts'
import { body, fixture, keptBytes, kindOf, MiB, put, read, walk, type Fixture } from './fs-fixture.ts'

const WRITER = new URL('../helpers/fs-crash-writer.ts', import.meta.url).pathname

type Writer = { lines: string[]; waitFor(prefix: string): Promise<string>; kill(): Promise<void> }

/** Starts the crash writer; `kill` sends SIGKILL and waits for the process to be gone. */
function spawnWriter(job: Record<string, unknown>): Writer {
  const proc = Bun.spawn([process.execPath, WRITER, JSON.stringify(job)], { stdout: 'pipe', stderr: 'pipe' })
  const lines: string[] = []
  const waiters: Array<{ prefix: string; resolve: (line: string) => void }> = []
  const stderr = new Response(proc.stderr).text()
  void (async () => {
    let rest = ''
    for await (const chunk of proc.stdout) {
      rest += new TextDecoder().decode(chunk)
      const parts = rest.split('\n')
      rest = parts.pop()!
      for (const line of parts) {
        lines.push(line)
        for (const w of waiters.splice(0)) {
          if (line.startsWith(w.prefix)) w.resolve(line)
          else waiters.push(w)
        }
      }
    }
  })()
  return {
    lines,
    waitFor: (prefix) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((l) => l.startsWith(prefix))
        if (seen) return resolve(seen)
        waiters.push({ prefix, resolve })
        void proc.exited.then(async (code) => {
          if (!lines.some((l) => l.startsWith(prefix))) reject(new Error(`writer exited (${code}) before "${prefix}": ${await stderr}`))
        })
      }),
    async kill() {
      proc.kill('SIGKILL')
      await proc.exited
    },
  }
}

function md5(data: Uint8Array | string): string {
  return createHash('md5').update(data).digest('hex')
}

/** What a fresh process would see: a new driver on the same root, opened. */
async function restart(f: Fixture): Promise<Backend> {
  const b = f.open()
  await b.listBuckets()
  return b
}

/** Runs the crash writer until it prints `line`, kills it `delay` ms later, and opens the root again. */
async function killAfter(f: Fixture, job: Record<string, unknown>, line: string, delay: number): Promise<Backend> {
  const w = spawnWriter(job)
  await w.waitFor(line)
  await Bun.sleep(delay)
  await w.kill()
  return restart(f)
}

/** One whole version the writer wrote: 1 MiB of its number, with that version's ETag and content type. */
async function expectWholeVersion(get: Promise<GetResult>): Promise<void> {
  const got = await get
  if (got.status === 304) throw new Error('unexpected 304')
  const data = Buffer.from(await new Response(got.body).arrayBuffer())
  expect(data.length).toBe(MiB)
  const n = data[0]!
  expect(data.every((x) => x === n)).toBe(true)
  expect(got.info.etag).toBe(`"${md5(data)}"`)
  expect(got.info.contentType).toMatch(/^application\/x-version-\d+$/)
  expect(Number(got.info.contentType!.split('-').at(-1)) & 0xff).toBe(n)
}

/** Nothing of the crash is left: only this process's (empty) staging directory, and no stray part files. */
async function expectNothingLeaked(f: Fixture): Promise<void> {
  const staging = await readdir(join(f.root, '.stowage', 'tmp'))
  for (const dir of staging) {
    expect(dir).toStartWith(`${process.pid}-`)
    expect(await readdir(join(f.root, '.stowage', 'tmp', dir))).toEqual([])
  }
}

describe('killed with SIGKILL', () => {
  test('mid-upload: the old object stays whole, the new one never appears, staging is swept', async () => {
    const f = await fixture()
    await put(f.b, 'k', 'old version')
    await f.b.close()
    const w = spawnWriter({ mode: 'put', root: f.root, key: 'k', mib: 64 })
    await w.waitFor('streaming')
    const half = await walk(join(f.root, '.stowage', 'tmp'))
    expect(half.some((p) => p.includes('/put-'))).toBe(true)
    await w.kill()
    const b = await restart(f)
    expect(await read(b, 'k')).toBe('old version')
    expect((await b.headObject('bkt', 'k')).etag).toBe(`"${md5('old version')}"`)
    expect((await b.listObjects('bkt', {})).objects.map((o) => o.key)).toEqual(['k'])
    await expectNothingLeaked(f)
  }, 60_000)

  test('mid-complete, at many moments: the object is whole and the upload gone, or the upload is intact and completes', async () => {
    const f = await fixture()
    await f.b.close()
    const parts = 6
    const whole = md5(Buffer.concat(Array.from({ length: parts }, (_, i) => fill(i + 1, 5 * MiB))))
    const etag = `"${md5(
      Buffer.concat(
        Array.from({ length: parts }, (_, i) =>
          createHash('md5')
            .update(fill(i + 1, 5 * MiB))
            .digest(),
        ),
      ),
    )}-${parts}"`
    // How long a completion takes here, so that the kills land before, during and after its commit.
    const timing = spawnWriter({ mode: 'complete', root: f.root, key: 'timing', parts })
    await timing.waitFor('completing')
    const started = performance.now()
    await timing.waitFor('completed')
    const took = performance.now() - started
    const outcomes = new Set<string>()
    for (const delay of [0, 0.25, 0.5, 0.75, 0.9, 1, 1.1, 4].map((x) => Math.round(x * took))) {
      const key = `mp-${delay}`
      const w = spawnWriter({ mode: 'complete', root: f.root, key, parts })
      const id = (await w.waitFor('uploaded ')).slice('uploaded '.length)
      await w.waitFor('completing')
      await Bun.sleep(delay)
      await w.kill()
      const b = await restart(f)
      const uploads = (await b.listMultipartUploads('bkt', {})).map((u) => u.uploadId)
      const found = await b.headObject('bkt', key).catch(() => null)
      if (found) {
        outcomes.add('landed')
        expect(found).toMatchObject({ size: parts * 5 * MiB, etag, contentType: 'application/x-crash' })
        expect(uploads).not.toContain(id)
      } else {
        outcomes.add('open')
        expect(uploads).toContain(id)
        const listed = await b.listParts('bkt', key, id)
        expect(listed.map((p) => p.size)).toEqual(Array.from({ length: parts }, () => 5 * MiB))
        expect(
          (
            await b.completeMultipartUpload(
              'bkt',
              key,
              id,
              listed.map(({ partNumber, etag }) => ({ partNumber, etag })),
            )
          ).etag,
        ).toBe(etag)
      }
      const got = await b.getObject('bkt', key)
      if (got.status === 304) throw new Error('unexpected 304')
      const hash = createHash('md5')
      for await (const chunk of got.body) hash.update(chunk)
      expect(hash.digest('hex')).toBe(whole)
      expect(await readdir(join(f.root, '.stowage', 'uploads', 'bkt'))).toEqual([])
      await expectNothingLeaked(f)
      await b.deleteObject('bkt', key)
      await b.close()
    }
    expect([...outcomes].sort()).toEqual(['landed', 'open'])
  }, 120_000)

  test('between overwrites: the key holds one whole version, with the metadata of that version', async () => {
    const f = await fixture()
    await f.b.close()
    for (const delay of [30, 90, 200]) {
      const b = await killAfter(f, { mode: 'overwrite', root: f.root, key: 'hot' }, 'wrote 3', delay)
      await expectWholeVersion(b.getObject('bkt', 'hot'))
      expect((await b.listObjects('bkt', {})).objects.map((o) => o.key)).toEqual(['hot'])
      await expectNothingLeaked(f)
      await b.close()
    }
  }, 60_000)

  test('versioned overwrites and deletes: every version listed reads back whole, once, with one latest', async () => {
    const f = await fixture()
    await f.b.close()
    for (const delay of [10, 40, 110, 230]) {
      const b = await killAfter(f, { mode: 'versioned', root: f.root, key: 'hot' }, 'wrote 6', delay)
      const versions = await b.listObjectVersions('bkt', 'hot')
      expect(new Set(versions.map((v) => v.versionId)).size).toBe(versions.length)
      expect(versions.filter((v) => v.isLatest)).toHaveLength(1)
      expect(versions[0]!.isLatest).toBe(true)
      for (const v of versions.filter((v) => !v.isDeleteMarker)) await expectWholeVersion(b.getObject('bkt', 'hot', { versionId: v.versionId }))
      // Every noncurrent version has its file, and nothing else is kept but, after a kill just before the
      // bucket's file changed, the record's copy of that file's version (dropped at the key's next change).
      const kept = (await keptBytes(f.root)).length
      const noncurrent = versions.filter((v) => !v.isDeleteMarker && !v.isLatest).length
      expect([noncurrent, noncurrent + 1]).toContain(kept)
      await expectNothingLeaked(f)
      await b.close()
    }
  }, 90_000)
})

describe('start-up recovery of crafted crash states', () => {
  const deadStaging = (f: Fixture): string => join(f.root, '.stowage', 'tmp', '999999999-0badc0ffee00')

  test('a sidecar staged before its commit’s second rename is put in place; a stale one is dropped', async () => {
    const f = await fixture()
    await put(f.b, 'moved', 'data first')
    await f.b.copyObject({ bucket: 'bkt', key: 'moved' }, { bucket: 'bkt', key: 'moved' }, { contentType: 'text/x-kept', metadata: { k: 'v' } })
    const h = createHash('sha256').update('moved').digest('hex')
    const sidecar = join(f.root, '.stowage', 'meta', 'bkt', h.slice(0, 2), `${h}.json`)
    const staged = await readFile(sidecar, 'utf8')
    await f.b.close()
    await mkdir(deadStaging(f), { recursive: true })
    // The crash: the data is in place, its sidecar is still staged, an older one (or none) at the key.
    await rename(sidecar, join(deadStaging(f), 'json-aaaa'))
    await writeFile(join(deadStaging(f), 'json-bbbb'), staged.replace('"moved"', '"other"'))
    await writeFile(join(deadStaging(f), 'json-cccc'), '{"torn')
    const b = await restart(f)
    expect(await b.headObject('bkt', 'moved')).toMatchObject({ contentType: 'text/x-kept', metadata: { k: 'v' }, etag: `"${md5('data first')}"` })
    expect(await kindOf(b.headObject('bkt', 'other'))).toBe('not_found')
    await expectNothingLeaked(f)
  })

  test('a delete that parked the sidecar but did not remove the data leaves the object as it was', async () => {
    const f = await fixture()
    await f.b.putObject('bkt', 'kept', body('still here'), { size: 10, contentType: 'text/x-mine', tags: { t: '1' } })
    const h = createHash('sha256').update('kept').digest('hex')
    await f.b.close()
    await mkdir(deadStaging(f), { recursive: true })
    await rename(join(f.root, '.stowage', 'meta', 'bkt', h.slice(0, 2), `${h}.json`), join(deadStaging(f), 'json-deleted-1234'))
    const b = await restart(f)
    expect(await b.headObject('bkt', 'kept')).toMatchObject({ contentType: 'text/x-mine', tagCount: 1 })
  })

  test('multipart leftovers: orphan parts and records, a torn upload, a completion that did or did not land', async () => {
    const f = await fixture()
    const live = await f.b.createMultipartUpload('bkt', 'live', {})
    await f.b.uploadPart('bkt', 'live', live, 1, body('kept part'), { size: 9 })
    const landed = await f.b.createMultipartUpload('bkt', 'landed', {})
    const notLanded = await f.b.createMultipartUpload('bkt', 'not-landed', {})
    await f.b.uploadPart('bkt', 'not-landed', notLanded, 1, body('part one'), { size: 8 })
    await put(f.b, 'landed', 'assembled')
    await f.b.close()
    const uploads = join(f.root, '.stowage', 'uploads', 'bkt')
    await writeFile(join(uploads, live, '00002.part'), 'a part whose record was never written')
    await writeFile(join(uploads, live, '00003.json'), '{"partNumber":3}')
    await mkdir(join(uploads, '0000000000000000000000000000abcd'))
    const st = await lstat(join(f.bucketDir(), 'landed'), { bigint: true })
    await writeFile(join(uploads, landed, 'complete.json'), JSON.stringify({ ino: String(st.ino), size: Number(st.size), mtimeNs: String(st.mtimeNs) }))
    await writeFile(join(uploads, notLanded, 'complete.json'), JSON.stringify({ ino: '1', size: 8, mtimeNs: '1' }))
    const b = await restart(f)
    expect((await readdir(uploads)).sort()).toEqual([live, notLanded].sort())
    expect((await readdir(join(uploads, live))).sort()).toEqual(['00001.json', '00001.part', 'upload.json'])
    expect(await readdir(join(uploads, notLanded))).not.toContain('complete.json')
    expect((await b.listParts('bkt', 'not-landed', notLanded)).map((p) => p.size)).toEqual([8])
    expect(await read(b, 'landed')).toBe('assembled')
  })
})

describe('links planted inside .stowage', () => {
  test('a linked .stowage, tmp, meta or uploads directory makes the root refuse to open', async () => {
    for (const planted of ['.stowage', '.stowage/tmp', '.stowage/meta', '.stowage/uploads']) {
      const f = await fixture(null)
      const outside = join(f.base, 'outside')
      await mkdir(outside)
      if (planted !== '.stowage') await mkdir(join(f.root, '.stowage'), { recursive: true })
      await symlink(outside, join(f.root, planted))
      const b = createFsBackend({ id: 'planted', root: f.root })
      expect(await kindOf(b.listBuckets())).toBe('unavailable')
      expect(await readdir(outside)).toEqual([])
      await b.close()
    }
  })

  test('linked metadata and upload directories of a bucket are never written through, read through or swept', async () => {
    const f = await fixture()
    await f.b.createBucket('other')
    const outside = join(f.base, 'outside')
    await mkdir(join(outside, '00', 'ffffffffffffffffffffffffffffffff'), { recursive: true })
    await writeFile(join(outside, 'decoy.txt'), 'decoy')
    const h = createHash('sha256').update('victim').digest('hex')
    await mkdir(join(outside, h.slice(0, 2)))
    await writeFile(join(f.bucketDir(), 'victim'), 'the data')
    const st = await lstat(join(f.bucketDir(), 'victim'), { bigint: true })
    await writeFile(
      join(outside, h.slice(0, 2), `${h}.json`),
      JSON.stringify({
        v: 2,
        bucket: 'bkt',
        key: 'victim',
        ino: String(st.ino),
        size: Number(st.size),
        mtimeNs: String(st.mtimeNs),
        etag: '"planted"',
        contentType: 'text/planted',
        metadata: {},
        tags: {},
        lastModified: 0,
      }),
    )
    const old = '000000000000ffffffffffffffffffff'
    await mkdir(join(outside, old))
    await writeFile(join(outside, old, '00001.part'), 'not ours')
    await symlink(outside, join(f.root, '.stowage', 'meta', 'bkt'))
    await symlink(outside, join(f.root, '.stowage', 'uploads', 'bkt'))
    const before = await walk(outside)

    const info = await f.b.headObject('bkt', 'victim')
    expect(info.etag).not.toBe('"planted"')
    expect(info.contentType).not.toBe('text/planted')
    expect(await kindOf(put(f.b, 'new', 'refused'))).toBe('denied')
    expect(await kindOf(f.b.headObject('bkt', 'new'))).toBe('not_found')
    expect(await kindOf(f.b.createMultipartUpload('bkt', 'mp', {}))).toBe('denied')
    expect(await f.b.listMultipartUploads('bkt', {})).toEqual([])
    expect(await kindOf(f.b.listParts('bkt', 'x', old))).toBe('not_found')
    expect(await kindOf(f.b.abortMultipartUpload('bkt', 'x', old))).toBe('not_found')
    const swept = createFsBackend({ id: 'sweeper', root: f.root, abandonedUploadAfterMs: 1 })
    await swept.listBuckets()
    await Bun.sleep(100)
    await swept.close()
    await f.b.close()
    await restart(f)
    expect(await walk(outside)).toEqual(before)
    expect(await readFile(join(outside, old, '00001.part'), 'utf8')).toBe('not ours')
    await put(f.b, 'fine', 'other buckets still work', 'other')
  })

  test('a linked sidecar file is not read', async () => {
    const f = await fixture()
    await put(f.b, 'obj', 'real')
    const h = createHash('sha256').update('obj').digest('hex')
    const path = join(f.root, '.stowage', 'meta', 'bkt', h.slice(0, 2), `${h}.json`)
    const real = await readFile(path, 'utf8')
    await writeFile(join(f.base, 'outside.json'), real.replace(/"contentType":"[^"]*"/, '"contentType":"text/from-outside"'))
    await rename(path, path + '.bak')
    await symlink(join(f.base, 'outside.json'), path)
    expect((await f.b.headObject('bkt', 'obj')).contentType).not.toBe('text/from-outside')
  })
})
