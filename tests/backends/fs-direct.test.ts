// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Files of 256 KiB and more are staged past the page cache (O_DIRECT) in
 * whole 4 KiB blocks, the last one padded and the file cut back: every size
 * around those boundaries, sent in pieces that never line up with them, must
 * come back byte for byte, through PUT, copy, part copy and completion.
 */
import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { Writable } from 'node:stream'
import { join } from 'node:path'
import { fixture, MiB } from './fs-fixture.ts'
import type { Backend, Range } from '../../src/backends/backend.ts'
import { takePipe } from '../../src/lib/pipeable.ts'

const KiB = 1024
const DIRECT_MIN = 256 * KiB
const SIZES = [DIRECT_MIN - 1, DIRECT_MIN, DIRECT_MIN + 1, MiB - 1, MiB, MiB + 1, 2 * MiB + 4097, 5 * MiB + 3]
/** Piece sizes a network delivers, none a multiple of a block or a slab. */
const PIECES = [1000, 70_001, 1_300_007, 4095, 65_537]

function bytesOf(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size)
  let x = seed * 2654435761
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

function pieces(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0
  let i = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.byteLength) return controller.close()
      const n = PIECES[i++ % PIECES.length]!
      controller.enqueue(bytes.slice(at, at + n))
      at += n
    },
  })
}

const md5 = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('hex')

async function readAll(b: Backend, key: string): Promise<Uint8Array> {
  const got = await b.getObject('bkt', key)
  if (got.status === 304) throw new Error('unexpected 304')
  return new Uint8Array(await new Response(got.body).arrayBuffer())
}

/** Bytes of the file held in the page cache, by util-linux's fincore. */
function resident(path: string): number {
  const r = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`fincore: ${r.stderr}`)
  return Number(r.stdout.trim())
}

describe('fs staging past the page cache', () => {
  test('PUT of every size around a block and a slab comes back whole, with the MD5 of its bytes as ETag', async () => {
    const { b, bucketDir } = await fixture()
    for (const [i, size] of SIZES.entries()) {
      const bytes = bytesOf(size, i + 1)
      const put = await b.putObject('bkt', `o/${size}`, pieces(bytes), { size })
      expect(put.etag).toBe(`"${md5(bytes)}"`)
      expect(statSync(join(bucketDir(), 'o', String(size))).size).toBe(size)
      const back = await readAll(b, `o/${size}`)
      expect(back.byteLength).toBe(size)
      expect(md5(back)).toBe(md5(bytes))
    }
  })

  test('a checksum and a Content-MD5 asked for are those of the bytes (hashed off the event loop), and a wrong one keeps nothing', async () => {
    const { b } = await fixture()
    const bytes = bytesOf(3 * MiB + 17, 9)
    const sha256 = createHash('sha256').update(bytes).digest('base64')
    const md5b64 = createHash('md5').update(bytes).digest('base64')
    const put = await b.putObject('bkt', 'summed', pieces(bytes), { size: bytes.byteLength, md5: md5b64, checksum: { algorithm: 'sha256', value: sha256 } })
    expect(put.checksum).toEqual({ algorithm: 'sha256', value: sha256, type: 'FULL_OBJECT' })
    const wrong = { algorithm: 'sha256' as const, value: createHash('sha256').update('other').digest('base64') }
    await expect(b.putObject('bkt', 'summed', pieces(bytesOf(3 * MiB + 17, 10)), { size: bytes.byteLength, checksum: wrong })).rejects.toMatchObject({
      kind: 'bad_digest',
    })
    expect(md5(await readAll(b, 'summed'))).toBe(md5(bytes))
  })

  test('sixteen large bodies at once are each hashed as their own', async () => {
    const { b } = await fixture()
    const bodies = Array.from({ length: 16 }, (_, i) => bytesOf(MiB + 1000 * i + 1, 100 + i))
    const etags = await Promise.all(bodies.map((bytes, i) => b.putObject('bkt', `many/${i}`, pieces(bytes), { size: bytes.byteLength })))
    expect(etags.map((e) => e.etag)).toEqual(bodies.map((bytes) => `"${md5(bytes)}"`))
  })

  test('a large object is written past the page cache, a small one through it', async () => {
    const { b, bucketDir } = await fixture()
    await b.putObject('bkt', 'big', pieces(bytesOf(MiB + 1, 7)), { size: MiB + 1 })
    await b.putObject('bkt', 'small', pieces(bytesOf(64 * KiB, 8)), { size: 64 * KiB })
    expect(resident(join(bucketDir(), 'big'))).toBe(0)
    expect(resident(join(bucketDir(), 'small'))).toBe(64 * KiB)
  })

  test('a long read of an object not in the page cache goes past it, byte for byte over any range; a cached one reads through it', async () => {
    const { b, bucketDir } = await fixture()
    const size = 9 * MiB + 4097 + 3
    const bytes = bytesOf(size, 11)
    await b.putObject('bkt', 'big', pieces(bytes), { size })
    const path = join(bucketDir(), 'big')
    expect(resident(path)).toBe(0)
    const piped = async (range?: Range): Promise<Uint8Array> => {
      const got = await b.getObject('bkt', 'big', range ? { range } : {})
      const pipe = got.status === 304 ? undefined : takePipe(got.body)
      if (got.status === 304 || !pipe) throw new Error('no pipe')
      const parts: Buffer[] = []
      // Copies: the reader refills a buffer once the socket has taken it.
      const out = new Writable({
        write(chunk: Buffer, _enc, done) {
          parts.push(Buffer.from(chunk))
          setTimeout(done, 0)
        },
      })
      expect(await pipe(out, new AbortController().signal)).toBe(got.contentLength)
      return new Uint8Array(Buffer.concat(parts))
    }
    const ranges: Array<[Range | undefined, number, number]> = [
      [undefined, 0, size],
      [{ start: 4097, end: size - 3 }, 4097, size - 2],
      [{ start: 1, end: 8 * MiB + 1 }, 1, 8 * MiB + 2],
      [{ suffix: 8 * MiB + 5 }, size - (8 * MiB + 5), size],
      [{ start: MiB - 1 }, MiB - 1, size],
    ]
    for (const [range, from, to] of ranges) expect(md5(await piped(range))).toBe(md5(bytes.subarray(from, to)))
    expect(resident(path)).toBeLessThan(size / 2)
    readFileSync(path)
    expect(resident(path)).toBeGreaterThanOrEqual(size)
    expect(md5(await piped())).toBe(md5(bytes))
    expect(md5(await piped({ start: 4097, end: size - 3 }))).toBe(md5(bytes.subarray(4097, size - 2)))
  })

  test('a body that ends short of its size keeps nothing, the previous object stays', async () => {
    const { b, root } = await fixture()
    const first = bytesOf(MiB + 5, 1)
    await b.putObject('bkt', 'k', pieces(first), { size: first.byteLength })
    const short = bytesOf(2 * MiB, 2)
    await expect(b.putObject('bkt', 'k', pieces(short), { size: 2 * MiB + 1 })).rejects.toMatchObject({ kind: 'invalid' })
    expect(md5(await readAll(b, 'k'))).toBe(md5(first))
    const staging = readdirSync(join(root, '.stowage', 'tmp'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile())
    expect(staging).toEqual([])
  })

  test('copies, part copies of odd ranges and a completion concatenate exactly', async () => {
    const { b } = await fixture()
    const src = bytesOf(6 * MiB + 12_345, 3)
    await b.putObject('bkt', 'src', pieces(src), { size: src.byteLength })
    await b.copyObject({ bucket: 'bkt', key: 'src' }, { bucket: 'bkt', key: 'copy' })
    expect(md5(await readAll(b, 'copy'))).toBe(md5(src))

    const id = await b.createMultipartUpload('bkt', 'mp', {})
    const tail = bytesOf(5 * MiB + 300 * KiB + 5, 4)
    const p1 = await b.uploadPartCopy(
      { bucket: 'bkt', key: 'mp', uploadId: id, partNumber: 1 },
      { bucket: 'bkt', key: 'src' },
      { range: { start: 4097, end: 4097 + 5 * MiB + 1 } },
    )
    const p2 = await b.uploadPart('bkt', 'mp', id, 2, pieces(tail), { size: tail.byteLength })
    const p3 = await b.uploadPartCopy(
      { bucket: 'bkt', key: 'mp', uploadId: id, partNumber: 3 },
      { bucket: 'bkt', key: 'src' },
      { range: { start: 1, end: 300_000 } },
    )
    await b.completeMultipartUpload('bkt', 'mp', id, [p1, p2, p3])
    const whole = Buffer.concat([src.subarray(4097, 4097 + 5 * MiB + 2), tail, src.subarray(1, 300_001)])
    const back = await readAll(b, 'mp')
    expect(back.byteLength).toBe(whole.byteLength)
    expect(md5(back)).toBe(md5(whole))
  })
})
