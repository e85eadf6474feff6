// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Downloads from an `fs` backend through the S3 listener are written from the
 * file straight to the socket, with two reused buffers (src/backends/fs/read.ts).
 * Whatever the client's pace, the bytes are the object's: a client that reads
 * slowly (so every write waits for the socket) gets the whole object and
 * exact ranges across buffer boundaries; a client that goes away mid-body
 * leaves no request in flight and no open file.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readlinkSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { until } from '../helpers/until.ts'
import { proxyEnv, signedHead, type Cred, type ProxyEnv } from './fixture.ts'

const MiB = 1024 * 1024
const SIZE = 9 * MiB + 12345
const data = new Uint8Array(SIZE).map((_, i) => (i * 7 + (i >> 20)) % 251)
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

let p: ProxyEnv
let cred: Cred
const bucket = 'piped'

beforeAll(async () => {
  p = await proxyEnv()
  mkdirSync(join(p.fsRoot, bucket))
  cred = await p.mint({ backend_id: 'local', buckets: [bucket] })
  expect((await p.signed(cred, 'PUT', `/${bucket}/big.bin`, { body: data })).status).toBe(200)
})
afterAll(() => p.close())

/** A signed GET over a raw socket that reads `pace` bytes, then waits, and so on; resolves with the whole answer. */
function slowGet(
  path: string,
  headers: Record<string, string>,
  o: { pace: number; pauseMs: number; stopAfter?: number },
): {
  done: Promise<Buffer>
  socket: net.Socket
} {
  const head = signedHead(p, cred, 'GET', path, { ...headers, connection: 'close' })
  const socket = net.connect(p.running.proxy!.port, '127.0.0.1', () => socket.write(head))
  const chunks: Buffer[] = []
  let sinceRest = 0
  let total = 0
  const done = new Promise<Buffer>((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      chunks.push(d)
      total += d.length
      sinceRest += d.length
      if (o.stopAfter !== undefined && total >= o.stopAfter) return socket.pause()
      if (sinceRest >= o.pace) {
        sinceRest = 0
        socket.pause()
        setTimeout(() => socket.resume(), o.pauseMs)
      }
    })
    socket.on('close', () => resolve(Buffer.concat(chunks)))
    socket.on('error', reject)
  })
  return { done, socket }
}

function bodyOf(answer: Buffer): { head: string; body: Buffer } {
  const at = answer.indexOf('\r\n\r\n')
  return { head: answer.subarray(0, at).toString('latin1'), body: answer.subarray(at + 4) }
}

/** Descriptors of this process (the server runs in it) open on files under the fs backend. */
const openUnderRoot = (): string[] =>
  readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`)
      } catch {
        return ''
      }
    })
    .filter((target) => target.startsWith(p.fsRoot))

describe('downloads from an fs backend', () => {
  test('a client reading slowly gets every byte of the object, with its exact Content-Length', async () => {
    const { head, body } = bodyOf(await slowGet(`/${bucket}/big.bin`, {}, { pace: 3 * MiB, pauseMs: 150 }).done)
    expect(head).toStartWith('HTTP/1.1 200')
    expect(head.toLowerCase()).toContain(`content-length: ${SIZE}`)
    expect(body.length).toBe(SIZE)
    expect(sha(body)).toBe(sha(data))
  }, 30_000)

  test('ranges across the buffer boundaries are exact, and nothing follows them on the wire', async () => {
    for (const [start, end] of [
      [MiB - 5, 3 * MiB + 5],
      [2 * MiB, 2 * MiB],
      [SIZE - 10, SIZE - 1],
      [0, SIZE - 1],
    ] as const) {
      const { head, body } = bodyOf(await slowGet(`/${bucket}/big.bin`, { range: `bytes=${start}-${end}` }, { pace: 4 * MiB, pauseMs: 50 }).done)
      expect(head).toStartWith('HTTP/1.1 206')
      expect(head.toLowerCase()).toContain(`content-range: bytes ${start}-${end}/${SIZE}`)
      expect(body.length).toBe(end - start + 1)
      expect(sha(body)).toBe(sha(data.subarray(start, end + 1)))
    }
  }, 30_000)

  test('a client that goes away mid-body leaves no request in flight and no open file', async () => {
    const r = slowGet(`/${bucket}/big.bin`, {}, { pace: Number.MAX_SAFE_INTEGER, pauseMs: 0, stopAfter: 2 * MiB })
    await until(() => openUnderRoot().length > 0, 10_000)
    r.socket.destroy()
    await until(() => p.running.proxy!.inFlight() === 0, 10_000)
    await until(() => openUnderRoot().length === 0, 10_000)
    const again = await p.signed(cred, 'GET', `/${bucket}/big.bin`)
    expect(sha(new Uint8Array(await again.arrayBuffer()))).toBe(sha(data))
  }, 30_000)
})
