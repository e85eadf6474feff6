// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The outbound HTTP/1.1 transport (src/s3/http1.ts, transport.ts) against
 * local servers that answer the way real upstreams do and RGW may not.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import http from 'node:http'
import net from 'node:net'
import { PassThrough } from 'node:stream'
import { createTransport, type Transport } from '../../src/s3/transport.ts'

const MiB = 1024 * 1024

type Local = { origin: string; port: number; accepted: () => number; open: () => number; stop(): Promise<void> }

/** A local listener whose connections are counted and cut on stop. */
async function listen(server: net.Server, scheme = 'http'): Promise<Local> {
  const sockets = new Set<net.Socket>()
  let accepted = 0
  server.on(scheme === 'https' ? 'secureConnection' : 'connection', (s: net.Socket) => {
    accepted++
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as net.AddressInfo).port
  return {
    origin: `${scheme}://127.0.0.1:${port}`,
    port,
    accepted: () => accepted,
    open: () => sockets.size,
    async stop() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

function patterned(size: number): Buffer {
  const b = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) b[i] = (i * 131 + (i >> 12)) & 0xff
  return b
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await Bun.sleep(10)
  }
}

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function transport(idleMs = 10_000): Transport {
  const t = createTransport({ idleMs, connectMs: 2_000 })
  cleanups.push(() => t.close())
  return t
}

async function local(server: net.Server, scheme = 'http'): Promise<Local> {
  const l = await listen(server, scheme)
  cleanups.push(() => l.stop())
  return l
}

const get = (path = '/', headers: Record<string, string> = {}) => ({ method: 'GET', path, headers: new Headers({ host: 'x', ...headers }) })

describe('pipe (written straight to a node:http response)', () => {
  const body = patterned(24 * MiB)
  /** The upstream: `body` (or the `bytes=a-b` range asked for) with its Content-Length. A relay in front pipes it to its own client. */
  async function relayed(): Promise<{ relay: Local; upstream: Local; piped: Promise<{ written: number; error?: unknown }> }> {
    const upstream = await local(
      http.createServer((req, res) => {
        const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
        const part = m ? body.subarray(Number(m[1]), Number(m[2]) + 1) : body
        res.writeHead(m ? 206 : 200, { 'content-length': String(part.length) })
        res.end(part)
      }),
    )
    const t = transport()
    let report!: (r: { written: number; error?: unknown }) => void
    const piped = new Promise<{ written: number; error?: unknown }>((r) => (report = r))
    const relay = await local(
      http.createServer(async (req, res) => {
        const abort = new AbortController()
        res.on('close', () => res.writableFinished || abort.abort())
        const answer = await t.send({ origin: upstream.origin, ...get('/', req.headers.range ? { range: req.headers.range } : {}) })
        res.writeHead(answer.status, { 'content-length': String(answer.contentLength) })
        try {
          const written = await answer.pipe(res, abort.signal)
          report({ written })
          res.end()
        } catch (error) {
          report({ written: -1, error })
          res.destroy()
        }
      }),
    )
    return { relay, upstream, piped }
  }

  test('downloads at once, each through its own connection into the shared receive buffer, get their own bytes', async () => {
    const { relay } = await relayed()
    const part = 8 * MiB
    const ranges = Array.from({ length: body.length / part }, (_, i) => [i * part, (i + 1) * part - 1] as const)
    for (let round = 0; round < 3; round++) {
      const got = await Promise.all(ranges.map(async ([a, b]) => Buffer.from(await (await fetch(`${relay.origin}/`, { headers: { range: `bytes=${a}-${b}` } })).arrayBuffer())))
      got.forEach((g, i) => expect(sha(g)).toBe(sha(body.subarray(ranges[i]![0], ranges[i]![1] + 1))))
    }
  }, 60_000)

  test('a slow reader gets every byte as sent', async () => {
    const { relay, piped } = await relayed()
    const socket = net.connect(relay.port, '127.0.0.1')
    socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')
    const parts: Buffer[] = []
    socket.on('data', (d: Buffer) => {
      parts.push(d)
      socket.pause()
      setTimeout(() => socket.resume(), 1)
    })
    await new Promise<void>((r) => socket.on('close', () => r()))
    const all = Buffer.concat(parts)
    const got = all.subarray(all.indexOf('\r\n\r\n') + 4)
    expect(got.length).toBe(body.length)
    expect(sha(got)).toBe(sha(body))
    expect((await piped).written).toBe(body.length)
  }, 60_000)

  test('a client that goes away stops it: it resolves with the bytes written and the upstream connection closes', async () => {
    const { relay, upstream, piped } = await relayed()
    const socket = net.connect(relay.port, '127.0.0.1')
    socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n')
    let got = 0
    socket.on('data', (d: Buffer) => {
      got += d.length
      if (got > MiB) socket.pause()
    })
    await until(() => got > MiB)
    socket.destroy()
    const r = await piped
    expect(r.error).toBeUndefined()
    expect(r.written).toBeGreaterThan(0)
    expect(r.written).toBeLessThan(body.length)
    await until(() => upstream.open() === 0)
  }, 30_000)

  test('an already aborted signal takes nothing and closes the connection', async () => {
    const upstream = await local(http.createServer((_req, res) => res.end(body)))
    const t = transport()
    const answer = await t.send({ origin: upstream.origin, ...get() })
    const out = new PassThrough()
    expect(await answer.pipe(out, AbortSignal.abort())).toBe(0)
    await until(() => upstream.open() === 0)
  })
})
