// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What only the fs driver has to get right: keys can never reach outside the
 * root, the key encoding round-trips while ordinary keys stay readable on
 * disk, files dropped into the folder are objects, writes are atomic under
 * crashes, aborts and concurrency, and listing agrees with S3's rules on
 * arbitrary trees.
 */
import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Backend, type ListOptions, type ObjectInfo } from '../../src/backends/backend.ts'
import { createFsBackend } from '../../src/backends/fs/driver.ts'
import { ALT_PREFIX, encodeKey, isCanonical, NAME_LIMIT, parseName } from '../../src/backends/fs/keys.ts'
import { body, byteOrder, failingBody, fixture, keysOf, kindOf, MiB, put, read, seeded, stagingFiles, walk } from './fs-fixture.ts'

describe('key encoding', () => {
  const onDisk = (key: string): string => {
    const { dirs, name } = encodeKey(key)
    return [...dirs, name].join('/')
  }

  test('ordinary keys are their own paths', () => {
    for (const key of ['photos/2024/x.jpg', 'a', 'Read Me.md', 'ファイル/名前.txt', 'a.b.c', '.hidden', '...', 'a%b', '%2e%2e', 'Report%20final.pdf']) {
      expect(onDisk(key)).toBe(key)
    }
  })

  test('what a filesystem cannot hold is escaped, readably', () => {
    const cases: Array<[string, string]> = [
      ['docs/', 'docs/.stowage'],
      ['a//b', 'a/.stowage/b'],
      ['/', '.stowage/.stowage'],
      ['/abs', '.stowage/abs'],
      ['../x', '%2E%2E/x'],
      ['./x', '%2E/x'],
      ['a/../../b', 'a/%2E%2E/%2E%2E/b'],
      ['nul\0byte', 'nul%00byte'],
      ['back\\slash', 'back%5Cslash'],
      ['bad\ufffd', 'bad%FD'],
      ['%FD', '%25FD'],
      ['%2E', '%252E'],
      ['%00', '%2500'],
      ['%25', '%2525'],
      ['100%', '100%'],
      ['.stowage', '%2Estowage'],
      ['.stowage=x', '%2Estowage=x'],
      ['z'.repeat(NAME_LIMIT), 'z'.repeat(NAME_LIMIT)],
      ['z'.repeat(300), `.stowage+${'z'.repeat(NAME_LIMIT)}/${'z'.repeat(300 - NAME_LIMIT)}`],
    ]
    for (const [key, path] of cases) expect(onDisk(key)).toBe(path)
  })

  test('random keys give safe components and decode back to themselves', () => {
    const alphabet = ['a', 'b', '.', '/', '/', '%', '2', 'E', '0', '5', 'C', 'F', 'D', '\0', '\\', '\ufffd', 'é', '😀', '.stowage', '=', '+', ' ']
    const random = seeded(42)
    for (let i = 0; i < 3000; i++) {
      const length = i % 50 === 0 ? 200 + random(700) : 1 + random(30)
      let key = ''
      while (key.length < length) key += alphabet[random(alphabet.length)]
      while (Buffer.byteLength(key) > 1024) key = key.slice(0, -2)
      const { dirs, name } = encodeKey(key)
      let decoded = ''
      for (const part of [...dirs, name, ALT_PREFIX + name]) {
        expect(part).not.toMatch(/[/\\\0]/)
        expect(['', '.', '..']).not.toContain(part)
        expect(Buffer.byteLength(part)).toBeLessThanOrEqual(255)
      }
      for (const part of dirs) {
        const parsed = parseName(part)!
        decoded += parsed.fragment + (parsed.type === 'cont' ? '' : '/')
      }
      decoded += parseName(name)!.fragment
      expect(decoded).toBe(key)
      expect(parseName(ALT_PREFIX + name)).toEqual({ type: 'alt', fragment: parseName(name)!.fragment })
      expect(isCanonical(key, [...dirs, name], false)).toBe(true)
    }
  })

  test('tricky keys round-trip through the driver and keep ordinary ones readable', async () => {
    const f = await fixture()
    const keys = [
      'a/b',
      'a/b/c',
      'x/y/z',
      'x/y',
      'p/',
      'p//',
      '/',
      '//',
      '/lead',
      'x'.repeat(300),
      'y'.repeat(1024),
      'é'.repeat(512),
      `seg/${'z'.repeat(250)}/tail`,
      'z'.repeat(NAME_LIMIT),
      'z'.repeat(NAME_LIMIT + 1),
      'nul\0byte',
      '%00',
      '%25',
      '%2E',
      '%2E%2E',
      '.stowage',
      '.stowage=x',
      '.stowage+x',
      '.',
      '..',
      '...',
      'a/./b',
      'a/../b',
      'back\\slash',
      'replacement\ufffdchar',
      'é',
      'e\u0301',
      'photos/2024/x.jpg',
    ]
    for (const [i, key] of keys.entries()) await put(f.b, key, `#${i}`)
    expect(await keysOf(f.b)).toEqual(byteOrder(keys))
    for (const [i, key] of keys.entries()) expect(await read(f.b, key)).toBe(`#${i}`)

    expect(await readFile(join(f.bucketDir(), 'photos/2024/x.jpg'), 'utf8')).toBe(`#${keys.indexOf('photos/2024/x.jpg')}`)
    expect(existsSync(join(f.bucketDir(), 'p/.stowage'))).toBe(true)
    expect(existsSync(join(f.bucketDir(), 'a', ALT_PREFIX + 'b'))).toBe(true)
    await f.b.deleteObject('bkt', 'a/b/c')
    expect((await stat(join(f.bucketDir(), 'a/b'))).isFile()).toBe(true)
    expect(await read(f.b, 'a/b')).toBe('#0')

    await expect(put(f.b, 'y'.repeat(1025), 'too long')).rejects.toMatchObject({ kind: 'invalid' })
    for (const key of keys) await f.b.deleteObject('bkt', key)
    expect(await walk(f.bucketDir())).toEqual([])
    await f.b.deleteBucket('bkt')
  })
})

describe('path safety', () => {
  const escapes = [
    '../escape',
    '../../escape',
    '/etc/passwd',
    'a/../../../escape',
    '..',
    '.',
    '..\\..\\escape',
    '%2e%2e/%2e%2e/escape',
    '%2E%2E/%2E%2E/escape',
    'x\0/../../escape',
    '\uff0e\uff0e/escape',
    '\u2025/escape',
    'C:\\Windows\\escape',
    '~/escape',
    '$HOME/escape',
  ]

  test('no key reaches outside the bucket', async () => {
    const f = await fixture()
    for (const key of escapes) await put(f.b, key, key)
    expect(await keysOf(f.b)).toEqual(byteOrder(escapes))
    for (const key of escapes) expect(await read(f.b, key)).toBe(key)
    expect((await readdir(f.base)).sort()).toEqual(['root', 'sentinel'])
    expect(await readFile(join(f.base, 'sentinel'), 'utf8')).toBe('untouched')
    expect((await readdir(f.root)).sort()).toEqual(['.stowage', 'bkt'])
    for (const path of await walk(f.bucketDir())) {
      expect(await realpath(join(f.bucketDir(), path))).toStartWith(f.bucketDir() + '/')
    }
    for (const key of escapes) await f.b.deleteObject('bkt', key)
    expect(await walk(f.bucketDir())).toEqual([])
  })

  test('bucket names and upload ids cannot name paths', async () => {
    const f = await fixture()
    for (const name of ['..', '.', '../x', '.stowage', 'a/b', '', 'bkt/..', 'UPPER']) {
      expect(await kindOf(f.b.createBucket(name))).toBe('invalid')
      expect(await kindOf(f.b.listObjects(name, {}))).toBe('bucket_not_found')
      expect(await kindOf(f.b.getObject(name, 'sentinel'))).toBe('bucket_not_found')
      expect(await f.b.bucketExists(name)).toBe(false)
    }
    for (const id of ['../../../sentinel', '..', '', 'x'.repeat(32)]) {
      expect(await kindOf(f.b.listParts('bkt', 'k', id))).toBe('not_found')
      expect(await kindOf(f.b.uploadPart('bkt', 'k', id, 1, body('x'), { size: 1 }))).toBe('not_found')
      expect(await kindOf(f.b.completeMultipartUpload('bkt', 'k', id, [{ partNumber: 1, etag: '"x"' }]))).toBe('not_found')
    }
    expect(await kindOf(f.b.listObjects('bkt', { token: '!!not a token!!' }))).toBe('invalid')
    expect(await kindOf(f.b.listObjects('bkt', { maxKeys: 0 }))).toBe('invalid')
  })

  test('symlinks inside the root are never followed', async () => {
    const f = await fixture()
    const outside = join(f.base, 'outside')
    await mkdir(join(outside, 'dir'), { recursive: true })
    await writeFile(join(outside, 'secret.txt'), 'secret')
    await symlink(outside, join(f.bucketDir(), 'link-dir'))
    await symlink(join(outside, 'secret.txt'), join(f.bucketDir(), 'link-file'))
    await mkdir(join(f.bucketDir(), 'real'))
    await writeFile(join(f.bucketDir(), 'real/ok.txt'), 'ok')
    await symlink(outside, join(f.bucketDir(), 'real/inner-link'))
    await symlink(outside, join(f.root, 'evil'))

    expect(await keysOf(f.b)).toEqual(['real/ok.txt'])
    expect((await f.b.listObjects('bkt', { delimiter: '/' })).commonPrefixes).toEqual(['real/'])
    expect(await keysOf(f.b, { prefix: 'link-dir/' })).toEqual([])
    for (const key of ['link-file', 'link-dir/secret.txt', 'real/inner-link/secret.txt']) {
      expect(await kindOf(f.b.headObject('bkt', key))).toBe('not_found')
      expect(await kindOf(f.b.getObject('bkt', key))).toBe('not_found')
      expect(await kindOf(f.b.getObjectTags('bkt', key))).toBe('not_found')
      expect(await kindOf(f.b.copyObject({ bucket: 'bkt', key }, { bucket: 'bkt', key: 'stolen' }))).toBe('not_found')
      await f.b.deleteObject('bkt', key)
    }
    expect(await kindOf(put(f.b, 'link-dir/new.txt', 'x'))).toBe('invalid')
    expect(await kindOf(put(f.b, 'real/inner-link/new.txt', 'x'))).toBe('invalid')
    expect(await kindOf(put(f.b, 'link-file', 'overwrite'))).toBe('invalid')
    expect(await readdir(outside)).toEqual(expect.arrayContaining(['dir', 'secret.txt']))
    expect(await readdir(outside)).toHaveLength(2)
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('secret')

    expect((await f.b.listBuckets()).map((x) => x.name)).toEqual(['bkt'])
    expect(await f.b.bucketExists('evil')).toBe(false)
    expect(await kindOf(f.b.getObject('evil', 'secret.txt'))).toBe('bucket_not_found')
    expect(await kindOf(put(f.b, 'x', 'x', 'evil'))).toBe('bucket_not_found')

    await f.b.deleteObject('bkt', 'real/ok.txt')
    expect(await kindOf(f.b.deleteBucket('bkt'))).toBe('not_empty')
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('secret')
  })
})

describe('crash safety', () => {
  test('leftover staging files are invisible and removed on start', async () => {
    const f = await fixture()
    const tmp = join(f.root, '.stowage', 'tmp')
    await mkdir(join(tmp, '999999999-abc123'))
    await writeFile(join(tmp, '999999999-abc123', 'put-half'), 'half an object')
    await mkdir(join(tmp, `${process.pid}-deadbeef`))
    await writeFile(join(tmp, `${process.pid}-deadbeef`, 'put-half'), 'from an instance that is gone')
    await writeFile(join(tmp, 'stray'), 'x')
    await put(f.b, 'k', 'v')
    const liveDirs = (await readdir(tmp)).filter((n) => !['999999999-abc123', `${process.pid}-deadbeef`, 'stray'].includes(n))
    expect(liveDirs).toHaveLength(1)

    const restarted = f.open()
    expect((await restarted.listBuckets()).map((x) => x.name)).toEqual(['bkt'])
    expect(await keysOf(restarted)).toEqual(['k'])
    const left = await readdir(tmp)
    expect(left).not.toContain('999999999-abc123')
    expect(left).not.toContain(`${process.pid}-deadbeef`)
    expect(left).not.toContain('stray')
    expect(left).toContain(liveDirs[0]!)
  })

  test('a body that fails midway leaves no object and no staging file', async () => {
    const f = await fixture()
    expect(await kindOf(f.b.putObject('bkt', 'new', failingBody(MiB), { size: 4 * MiB }))).toBe('invalid')
    expect(await kindOf(f.b.headObject('bkt', 'new'))).toBe('not_found')
    await put(f.b, 'kept', 'version one')
    expect(await kindOf(f.b.putObject('bkt', 'kept', failingBody(MiB), { size: 4 * MiB }))).toBe('invalid')
    expect(await read(f.b, 'kept')).toBe('version one')
    expect(await keysOf(f.b)).toEqual(['kept'])
    expect(await stagingFiles(f.root)).toEqual([])
  })

  test('an aborted upload leaves no object', async () => {
    const f = await fixture()
    const abort = new AbortController()
    let chunks = 0
    const slow = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (++chunks === 2) abort.abort()
        controller.enqueue(new Uint8Array(MiB))
      },
    })
    expect(await kindOf(f.b.putObject('bkt', 'aborted', slow, { size: 8 * MiB, signal: abort.signal }))).toBe('invalid')
    expect(await kindOf(f.b.headObject('bkt', 'aborted'))).toBe('not_found')
    expect(await stagingFiles(f.root)).toEqual([])
  })

  test('a body of the wrong length is refused and nothing is written', async () => {
    const f = await fixture()
    expect(await kindOf(f.b.putObject('bkt', 'short', body('abc'), { size: 4 }))).toBe('invalid')
    expect(await kindOf(f.b.putObject('bkt', 'long', body('abcde'), { size: 4 }))).toBe('invalid')
    expect(await kindOf(f.b.uploadPart('bkt', 'k', await f.b.createMultipartUpload('bkt', 'k', {}), 1, body('ab'), { size: 3 }))).toBe('invalid')
    expect(await keysOf(f.b)).toEqual([])
    expect(await stagingFiles(f.root)).toEqual([])
  })

  test('staging, sidecars and uploads stay out of listings', async () => {
    const f = await fixture()
    await f.b.putObject('bkt', 'meta', body('m'), { size: 1, metadata: { a: 'b' } })
    await f.b.createMultipartUpload('bkt', 'pending', {})
    expect((await f.b.listBuckets()).map((x) => x.name)).toEqual(['bkt'])
    expect(await keysOf(f.b)).toEqual(['meta'])
    expect(await readdir(f.bucketDir())).toEqual(['meta'])
  })
})

describe('files dropped into the folder', () => {
  test('appear as objects with a type from their extension and a stable ETag', async () => {
    const f = await fixture()
    const files: Record<string, string> = {
      'photos/x.jpg': 'jpeg bytes',
      'photos/2024/y.png': 'png bytes',
      'notes.txt': 'notes',
      '100%.txt': 'percent',
      'Report%20final.pdf': 'pdf',
      '.hidden': 'dotfile',
      '名前.txt': 'unicode',
    }
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(f.bucketDir(), path, '..'), { recursive: true })
      await writeFile(join(f.bucketDir(), path), content)
    }
    await mkdir(join(f.bucketDir(), 'empty'))
    await mkdir(join(f.bucketDir(), 'deep/er'), { recursive: true })
    // Names that are not UTF-8 cannot be keys: neither the file nor the folder shows.
    const raw = (...bytes: number[]): Buffer => Buffer.concat([Buffer.from(f.bucketDir() + '/'), Buffer.from(bytes)])
    await writeFile(raw(0x66, 0xff, 0x2e, 0x74, 0x78, 0x74), 'latin-1 name')
    await mkdir(raw(0xfe, 0x64))
    await writeFile(Buffer.concat([raw(0xfe, 0x64), Buffer.from('/inside.txt')]), 'x')

    expect(await keysOf(f.b)).toEqual(byteOrder(Object.keys(files)))
    const top = await f.b.listObjects('bkt', { delimiter: '/' })
    expect(top.commonPrefixes).toEqual(['photos/'])

    const info = await f.b.headObject('bkt', 'photos/x.jpg')
    expect(info).toMatchObject({ size: 10, contentType: 'image/jpeg', metadata: {} })
    expect(info.etag).toMatch(/^"[0-9a-f]{32}-1"$/)
    expect((await f.b.headObject('bkt', 'photos/x.jpg')).etag).toBe(info.etag)
    const listed = (await f.b.listObjects('bkt', { prefix: 'photos/x' })).objects[0]!
    expect(listed.etag).toBe(info.etag)
    expect(await read(f.b, 'photos/x.jpg')).toBe('jpeg bytes')
    expect((await f.b.getObject('bkt', 'photos/x.jpg', { ifNoneMatch: info.etag })).status).toBe(304)

    await Bun.sleep(5)
    await writeFile(join(f.bucketDir(), 'photos/x.jpg'), 'new jpeg bytes')
    const changed = await f.b.headObject('bkt', 'photos/x.jpg')
    expect(changed.etag).not.toBe(info.etag)
    expect(changed.size).toBe(14)

    await f.b.putObjectTags('bkt', 'notes.txt', { source: 'nas' })
    const tagged = await f.b.headObject('bkt', 'notes.txt')
    expect(await f.b.getObjectTags('bkt', 'notes.txt')).toEqual({ source: 'nas' })
    expect(tagged.etag).toBe((await f.b.listObjects('bkt', { prefix: 'notes' })).objects[0]!.etag)
  })

  test('a file replaced behind our back loses its stale metadata', async () => {
    const f = await fixture()
    await f.b.putObject('bkt', 'doc.txt', body('ours'), { size: 4, contentType: 'application/x-ours', metadata: { owner: 'stowage' } })
    await Bun.sleep(5)
    await writeFile(join(f.bucketDir(), 'doc.txt'), 'theirs!')
    const info = await f.b.headObject('bkt', 'doc.txt')
    expect(info).toMatchObject({ size: 7, contentType: 'text/plain;charset=utf-8', metadata: {} })
    expect(info.etag).toMatch(/-1"$/)
  })

  test('a listing shows every change since the last one: rewrites in place, metadata edits, overwrites, deletes', async () => {
    const f = await fixture()
    const listing = async (): Promise<Record<string, ObjectInfo>> =>
      Object.fromEntries((await f.b.listObjects('bkt', { withMetadata: true })).objects.map((o) => [o.key, o]))
    await f.b.putObject('bkt', 'edited.txt', body('one'), { size: 3, contentType: 'text/x-one', metadata: { v: '1' } })
    await put(f.b, 'rewritten.txt', 'bee')
    const first = await listing()
    await Bun.sleep(20)
    // Truncated and written again by other means: the same inode and size, a new mtime, the directory untouched.
    await writeFile(join(f.bucketDir(), 'rewritten.txt'), 'BEE')
    await f.b.copyObject({ bucket: 'bkt', key: 'edited.txt' }, { bucket: 'bkt', key: 'edited.txt' }, { contentType: 'text/x-two', metadata: { v: '2' } })
    const second = await listing()
    expect(second['edited.txt']).toMatchObject({ etag: first['edited.txt']!.etag, size: 3, contentType: 'text/x-two', metadata: { v: '2' } })
    expect(second['edited.txt']!.lastModified!.getTime()).toBeGreaterThan(first['edited.txt']!.lastModified!.getTime())
    expect(second['rewritten.txt']!.etag).toMatch(/-1"$/)
    expect(second['rewritten.txt']!.etag).toBe((await f.b.headObject('bkt', 'rewritten.txt')).etag)
    await put(f.b, 'edited.txt', 'three')
    await f.b.deleteObject('bkt', 'rewritten.txt')
    const third = await listing()
    expect(Object.keys(third)).toEqual(['edited.txt'])
    expect(third['edited.txt']).toMatchObject({ size: 5, etag: `"${createHash('md5').update('three').digest('hex')}"`, metadata: {} })
  })

  test('directories made by hand are buckets when their names are valid', async () => {
    const f = await fixture(null)
    await mkdir(join(f.root, 'dropped'))
    await mkdir(join(f.root, 'Not_A_Bucket'))
    await writeFile(join(f.root, 'loose-file'), 'x')
    expect((await f.b.listBuckets()).map((x) => x.name)).toEqual(['dropped'])
    expect(await f.b.bucketExists('dropped')).toBe(true)
  })
})

describe('listing matches a reference model of S3', () => {
  /** ListObjects as S3 defines it, over an in-memory key list. */
  function reference(keys: string[], opts: ListOptions): string[][] {
    const prefix = opts.prefix ?? ''
    const delimiter = opts.delimiter ?? ''
    const entries: string[] = []
    for (const key of byteOrder(keys)) {
      if (!key.startsWith(prefix)) continue
      const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1
      const entry = at < 0 ? key : key.slice(0, at + delimiter.length)
      if (entries.at(-1) !== entry) entries.push(entry)
    }
    const size = opts.maxKeys ?? 1000
    const pages: string[][] = []
    for (let i = 0; i < entries.length; i += size) pages.push(entries.slice(i, i + size))
    return pages.length ? pages : [[]]
  }

  async function pages(b: Backend, opts: ListOptions): Promise<string[][]> {
    const out: string[][] = []
    let token: string | undefined
    do {
      const page = await b.listObjects('bkt', { ...opts, token })
      out.push(byteOrder([...page.objects.map((o) => o.key), ...page.commonPrefixes]))
      expect(page.objects.length + page.commonPrefixes.length).toBeLessThanOrEqual(opts.maxKeys ?? 1000)
      token = page.isTruncated ? page.nextToken : undefined
    } while (token)
    return out
  }

  test('on a random tree, for many prefixes, delimiters and page sizes', async () => {
    const f = await fixture()
    const parts = ['a', 'b', 'a!', 'é', '', '.', 'x-y', 'A', '~', 'z'.repeat(250)]
    const random = seeded(7)
    const keys = new Set<string>()
    while (keys.size < 150) {
      const depth = 1 + random(4)
      keys.add(Array.from({ length: depth }, () => parts[random(parts.length)]).join('/') || 'root')
    }
    for (const key of keys) await put(f.b, key, key)
    const all = [...keys]
    const prefixes = ['', 'a', 'a/', 'a/b', 'a/b/', 'é/', '/', 'z', 'nothing']
    const delimiters = ['', '/', '!', 'a', '-y']
    for (const prefix of prefixes) {
      for (const delimiter of delimiters) {
        for (const maxKeys of [1, 3, 1000]) {
          const opts = { prefix, delimiter, maxKeys }
          expect({ opts, pages: await pages(f.b, opts) }).toEqual({ opts, pages: reference(all, opts) })
        }
      }
    }
  }, 120_000)
})

describe('concurrency', () => {
  test('concurrent puts to one key end with one complete version', async () => {
    const f = await fixture()
    const versions = Array.from({ length: 8 }, (_, i) => new Uint8Array(2 * MiB).fill(i + 1))
    const results = await Promise.all(versions.map((v) => f.b.putObject('bkt', 'contended', body(v), { size: v.byteLength })))
    const got = await f.b.getObject('bkt', 'contended')
    if (got.status === 304) throw new Error('unexpected 304')
    const bytes = new Uint8Array(await new Response(got.body).arrayBuffer())
    const winner = versions.findIndex((v) => Buffer.compare(Buffer.from(v), Buffer.from(bytes)) === 0)
    expect(winner).toBeGreaterThanOrEqual(0)
    expect(got.info.etag).toBe(results[winner]!.etag)
    expect(got.info.etag).toBe(`"${createHash('md5').update(bytes).digest('hex')}"`)
    expect(await keysOf(f.b)).toEqual(['contended'])
    expect(await stagingFiles(f.root)).toEqual([])
  })

  test("only one of several ifNoneMatch '*' puts wins", async () => {
    const f = await fixture()
    const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => kindOf(f.b.putObject('bkt', 'once', body(`v${i}`), { size: 2, ifNoneMatch: '*' }))))
    expect(outcomes.filter((o) => o === 'resolved')).toHaveLength(1)
    expect(outcomes.filter((o) => o === 'precondition')).toHaveLength(5)
  })

  test('keys that need the same name as file and directory settle consistently', async () => {
    const f = await fixture()
    const keys = ['k', 'k/1', 'k/1/x', 'k/2', 'k/', 'k//', 'k/1/']
    await Promise.all(keys.map((key) => put(f.b, key, key)))
    expect(await keysOf(f.b)).toEqual(byteOrder(keys))
    await Promise.all(['k/1/x', 'k/2', 'k//'].map((key) => f.b.deleteObject('bkt', key)))
    const left = ['k', 'k/', 'k/1', 'k/1/']
    expect(await keysOf(f.b)).toEqual(left)
    for (const key of left) expect(await read(f.b, key)).toBe(key)
  })
})

describe('driver surface', () => {
  test('capabilities and unsupported operations', async () => {
    const f = await fixture()
    expect(f.b.kind).toBe('fs')
    expect(f.b.capabilities).toEqual({
      versioning: true,
      object_lock: false,
      lifecycle: true,
      storage_classes: false,
      bucket_policy: false,
      cors: true,
      backend_cors: false,
      tagging: true,
      server_side_encrypt: false,
      admin_api: '',
      max_multipart_parts: 10000,
      max_part_size_bytes: 5 * 1024 ** 3,
      presign: false,
      checksums: true,
    })
    expect(await f.b.getVersioning('bkt')).toBe(false)
    expect(await f.b.getPolicy('bkt')).toBeNull()
    expect(await f.b.getLifecycle('bkt')).toEqual([])
    // Thunks: a promise created early would reject before anything awaits it.
    for (const call of [
      () => f.b.setPolicy('bkt', '{}'),
      () => f.b.deletePolicy('bkt'),
      () => f.b.setLifecycle('bkt', [{ enabled: true, transition_days: 1, transition_storage_class: 'GLACIER' }]),
      () => f.b.setCors('bkt', []),
    ]) {
      expect(await kindOf(call())).toBe('not_supported')
    }
    expect(await kindOf(f.b.getVersioning('missing'))).toBe('bucket_not_found')
  })

  test('probe checks the root', async () => {
    const f = await fixture()
    await f.b.probe()
    const missing = createFsBackend({ id: 'gone', root: join(f.base, 'does-not-exist') })
    expect(await kindOf(missing.probe())).toBe('unavailable')
    expect(await kindOf(missing.listBuckets())).toBe('unavailable')
    const file = createFsBackend({ id: 'file', root: join(f.base, 'sentinel') })
    expect(await kindOf(file.probe())).toBe('unavailable')
  })

  test('a body releases its file when read, cancelled or aborted, and failed GETs release theirs', async () => {
    const f = await fixture()
    const etag = await put(f.b, 'k', 'x'.repeat(2 * MiB))
    const openFiles = async (): Promise<number> => (await readdir('/proc/self/fd')).length
    const before = await openFiles()
    expect((await read(f.b, 'k')).length).toBe(2 * MiB)
    const cancelled = await f.b.getObject('bkt', 'k')
    if (cancelled.status !== 304) await cancelled.body.cancel()
    const abort = new AbortController()
    const aborted = await f.b.getObject('bkt', 'k', { signal: abort.signal })
    if (aborted.status === 304) throw new Error('unexpected 304')
    const reader = aborted.body.getReader()
    await reader.read()
    abort.abort()
    expect(await kindOf(reader.read())).toStartWith('not a BackendError')
    expect((await f.b.getObject('bkt', 'k', { ifNoneMatch: etag })).status).toBe(304)
    expect(await kindOf(f.b.getObject('bkt', 'k', { ifMatch: '"nope"' }))).toBe('precondition')
    expect(await kindOf(f.b.getObject('bkt', 'k', { range: { start: 5 * MiB } }))).toBe('bad_range')
    await Bun.sleep(20)
    expect(await openFiles()).toBe(before)
  })

  test('unversioned, the only version is "null"; copying onto itself must change something', async () => {
    const f = await fixture()
    await put(f.b, 'k', 'v')
    expect((await f.b.headObject('bkt', 'k', { versionId: 'null' })).size).toBe(1)
    expect(await kindOf(f.b.headObject('bkt', 'k', { versionId: 'abc' }))).toBe('not_found')
    expect(await kindOf(f.b.copyObject({ bucket: 'bkt', key: 'k' }, { bucket: 'bkt', key: 'k' }))).toBe('invalid')
  })

  test('multipart rules, persistence across restarts, and cleanup with the bucket', async () => {
    const f = await fixture()
    const id = await f.b.createMultipartUpload('bkt', 'mp', { contentType: 'text/plain' })
    expect(await kindOf(f.b.uploadPart('bkt', 'mp', id, 0, body('x'), { size: 1 }))).toBe('invalid')
    expect(await kindOf(f.b.uploadPart('bkt', 'mp', id, 10001, body('x'), { size: 1 }))).toBe('invalid')
    expect(await kindOf(f.b.uploadPart('bkt', 'other-key', id, 1, body('x'), { size: 1 }))).toBe('not_found')
    const p1 = await f.b.uploadPart('bkt', 'mp', id, 1, body('one'), { size: 3 })
    const p2 = await f.b.uploadPart('bkt', 'mp', id, 2, body('two'), { size: 3 })
    expect(
      await kindOf(
        f.b.completeMultipartUpload(
          'bkt',
          'mp',
          id,
          [p1, p2].map(({ partNumber, etag }) => ({ partNumber, etag })),
        ),
      ),
    ).toBe('invalid')
    expect(
      await kindOf(
        f.b.completeMultipartUpload(
          'bkt',
          'mp',
          id,
          [p2, p1].map(({ partNumber, etag }) => ({ partNumber, etag })),
        ),
      ),
    ).toBe('invalid')
    expect(await kindOf(f.b.completeMultipartUpload('bkt', 'mp', id, []))).toBe('invalid')

    const restarted = f.open()
    expect((await restarted.listMultipartUploads('bkt', { prefix: 'm' })).map((u) => u.uploadId)).toEqual([id])
    expect(await restarted.listMultipartUploads('bkt', { prefix: 'x' })).toEqual([])
    const p1again = await restarted.uploadPart('bkt', 'mp', id, 1, body('1'.repeat(5 * MiB)), { size: 5 * MiB })
    const done = await restarted.completeMultipartUpload(
      'bkt',
      'mp',
      id,
      [p1again, p2].map(({ partNumber, etag }) => ({ partNumber, etag })),
    )
    expect(done.etag).toMatch(/^"[0-9a-f]{32}-2"$/)
    expect((await restarted.headObject('bkt', 'mp')).size).toBe(5 * MiB + 3)

    await restarted.createMultipartUpload('bkt', 'pending', {})
    await restarted.deleteObject('bkt', 'mp')
    await restarted.deleteBucket('bkt')
    expect(await readdir(join(f.root, '.stowage', 'uploads'))).toEqual([])
    expect(await readdir(join(f.root, '.stowage', 'meta'))).toEqual([])
  })
})
