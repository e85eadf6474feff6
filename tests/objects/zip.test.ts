// SPDX-License-Identifier: AGPL-3.0-or-later
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { GetOptions } from '../../src/backends/backend.ts'
import { errorCode } from '../helpers/app.ts'
import { KINDS, objectEnv, type Env } from './fixture.ts'

/** Entry names and contents, read back with Python's zipfile (which also checks every CRC). */
async function unzip(dir: string, bytes: Uint8Array): Promise<Record<string, string>> {
  const file = join(dir, `z-${Math.random().toString(36).slice(2)}.zip`)
  writeFileSync(file, bytes)
  const script =
    'import sys,json,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps({n: z.read(n).decode("latin1") for n in z.namelist()}))'
  const proc = Bun.spawnSync([Bun.which('python3', { PATH: '/usr/bin:/bin' }) ?? 'python3', '-c', script, file])
  if (proc.exitCode !== 0) throw new Error(`bad zip: ${proc.stderr.toString()}`)
  return JSON.parse(proc.stdout.toString()) as Record<string, string>
}

describe.each(KINDS)('zip downloads on %s', (kind) => {
  let e: Env
  beforeAll(async () => {
    e = await objectEnv(kind)
    for (const [k, v] of [
      ['top.txt', 'top'],
      ['dir/a.txt', 'a'.repeat(5000)],
      ['dir/sub/b.txt', 'bee'],
      ['dir/pic.jpg', 'not really a jpeg'],
      ['other/c.txt', 'c'],
    ] as const) {
      expect((await e.put(k, v)).status).toBe(201)
    }
  }, 60_000)
  afterAll(() => e.close(), 60_000)

  const zip = (keys: string[]): Promise<Response> =>
    e.t.call('GET', `${e.base}/objects/zip?${keys.map((k) => `key=${encodeURIComponent(k)}`).join('&')}`, { as: e.reader })

  test('keys and folders (expanded recursively) stream as one zip named <bucket>-YYYYMMDD-HHMMSS.zip', async () => {
    const res = await zip(['top.txt', 'dir/'])
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/zip')
    expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="${e.bucket}-\\d{8}-\\d{6}\\.zip"$`))
    const entries = await unzip(e.t.dir, new Uint8Array(await res.arrayBuffer()))
    expect(Object.keys(entries).sort()).toEqual(['dir/a.txt', 'dir/pic.jpg', 'dir/sub/b.txt', 'top.txt'])
    expect(entries['dir/a.txt']).toBe('a'.repeat(5000))
    expect(entries['dir/sub/b.txt']).toBe('bee')
  })

  test('a single key works and duplicates are added once', async () => {
    const entries = await unzip(e.t.dir, new Uint8Array(await (await zip(['top.txt', 'top.txt'])).arrayBuffer()))
    expect(Object.keys(entries)).toEqual(['top.txt'])
  })

  test('keys that cannot be read are listed in _errors.txt at the end instead of silently skipped', async () => {
    const entries = await unzip(e.t.dir, new Uint8Array(await (await zip(['top.txt', 'missing.txt'])).arrayBuffer()))
    expect(Object.keys(entries)).toEqual(['top.txt', '_errors.txt'])
    expect(entries['_errors.txt']).toContain('missing.txt\tnot_found')
  })

  test('an entry that breaks off mid-stream is reported as incomplete', async () => {
    const backend = e.backend() as { getObject: (b: string, k: string, o?: GetOptions) => Promise<{ body: ReadableStream<Uint8Array> }> }
    const original = backend.getObject.bind(backend)
    backend.getObject = async (b, k, o) => {
      const res = await original(b, k, o)
      if (k !== 'dir/a.txt') return res
      const reader = res.body.getReader()
      let sent = false
      return {
        ...res,
        body: new ReadableStream<Uint8Array>({
          async pull(c) {
            if (sent) return c.error(new Error('connection reset'))
            sent = true
            const r = await reader.read()
            c.enqueue(r.value!.subarray(0, 10))
          },
        }),
      }
    }
    try {
      const entries = await unzip(e.t.dir, new Uint8Array(await (await zip(['dir/a.txt', 'top.txt'])).arrayBuffer()))
      expect(entries['_errors.txt']).toContain('dir/a.txt\tread failed part-way')
      expect(entries['top.txt']).toBe('top')
    } finally {
      backend.getObject = original
    }
  })

  test('more than 1000 keys is 413 too_many_keys; a bad key is 400; no key is 400', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => `k${i}`)
    const res = await zip(many)
    expect(res.status).toBe(413)
    expect(await errorCode(res)).toBe('too_many_keys')
    expect((await zip(['a/../b'])).status).toBe(400)
    expect((await e.t.call('GET', `${e.base}/objects/zip`, { as: e.reader })).status).toBe(400)
  })
})
