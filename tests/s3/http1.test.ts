// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The outbound HTTP/1.1 transport (src/s3/http1.ts, transport.ts) against
 * local servers that answer the way real upstreams do and RGW may not.
 */
import { afterAll, afterEach, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Writable } from 'node:stream'
import { contentLength, TransportError } from '../../src/s3/wire.ts'
import { createTransport, type Transport } from '../../src/s3/transport.ts'
import { pump } from '../../src/http/node-server.ts'
import { pipeable, takePipe } from '../../src/lib/pipeable.ts'
import { until } from '../helpers/until.ts'

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

type RawRequest = { method: string; path: string; headers: Record<string, string>; body: Buffer; socket: net.Socket; index: number; connection: number }

/**
 * A server that answers with exactly the bytes `answer` writes, for answers no HTTP library
 * would send. `index` counts requests on the server, `connection` the connection's number.
 */
async function raw(answer: (r: RawRequest) => void): Promise<Local & { requests: RawRequest[] }> {
  const requests: RawRequest[] = []
  let connections = 0
  const server = net.createServer((socket) => {
    const connection = connections++
    let pending = Buffer.alloc(0)
    socket.on('error', () => {})
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d])
      for (;;) {
        const end = pending.indexOf('\r\n\r\n')
        if (end < 0) return
        const lines = pending.subarray(0, end).toString('latin1').split('\r\n')
        const [method, path] = lines[0]!.split(' ')
        const headers: Record<string, string> = {}
        for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim()
        const length = Number(headers['content-length'] ?? 0)
        if (pending.length < end + 4 + length) return
        const r = { method: method!, path: path!, headers, body: pending.subarray(end + 4, end + 4 + length), socket, index: requests.length, connection }
        pending = pending.subarray(end + 4 + length)
        requests.push(r)
        answer(r)
      }
    })
  })
  return Object.assign(await local(server), { requests })
}

/** Writes `text` (latin1) in pieces of `size` bytes, a tick apart: every parser state meets a read boundary. */
async function dribble(socket: net.Socket, text: string, size: number): Promise<void> {
  const b = Buffer.from(text, 'latin1')
  for (let i = 0; i < b.length; i += size) {
    socket.write(b.subarray(i, i + size))
    await Bun.sleep(1)
  }
}

const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`

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
      const got = await Promise.all(
        ranges.map(async ([a, b]) => Buffer.from(await (await fetch(`${relay.origin}/`, { headers: { range: `bytes=${a}-${b}` } })).arrayBuffer())),
      )
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

describe('stream (a web stream of the body)', () => {
  const body = patterned(3 * MiB)
  const collect = (parts: Buffer[]): Writable =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        parts.push(Buffer.from(chunk))
        done()
      },
    })

  test('takes nothing before its first read: whoever sends it on may still pipe it, and gets every byte', async () => {
    const upstream = await local(http.createServer((_req, res) => res.end(body)))
    const answer = await transport().send({ origin: upstream.origin, ...get() })
    const stream = answer.stream()
    await Bun.sleep(20)
    const pipe = takePipe(stream)
    expect(pipe).toBeDefined()
    const parts: Buffer[] = []
    expect(await pipe!(collect(parts), new AbortController().signal)).toBe(body.length)
    expect(sha(Buffer.concat(parts))).toBe(sha(body))
  })

  test('once read, it has no pipe left, even with its reader released, and reads on to the end', async () => {
    const upstream = await local(http.createServer((_req, res) => res.end(body)))
    const answer = await transport().send({ origin: upstream.origin, ...get() })
    const stream = answer.stream()
    const reader = stream.getReader()
    const first = await reader.read()
    reader.releaseLock()
    expect(takePipe(stream)).toBeUndefined()
    const parts = [Buffer.from(first.value!)]
    for await (const chunk of stream) parts.push(Buffer.from(chunk))
    expect(sha(Buffer.concat(parts))).toBe(sha(body))
  })

  test('pump sends it by the pipe (nothing reads it), byte for byte', async () => {
    const upstream = await local(http.createServer((_req, res) => res.end(body)))
    const t = transport()
    let viaPipe = false
    const relay = await local(
      http.createServer(async (_req, res) => {
        const answer = await t.send({ origin: upstream.origin, ...get() })
        const stream = answer.stream()
        const pipe = takePipe(stream)!
        pipeable(stream, (out, signal) => {
          viaPipe = true
          return pipe(out, signal)
        })
        res.writeHead(200, { 'content-length': String(body.length) })
        expect(await pump(stream, res, new AbortController().signal)).toBe(body.length)
        res.end()
      }),
    )
    expect(sha(Buffer.from(await (await fetch(relay.origin)).arrayBuffer()))).toBe(sha(body))
    expect(viaPipe).toBe(true)
  })

  test('cancelled before any read, it closes the connection', async () => {
    const upstream = await local(http.createServer((_req, res) => res.end(body)))
    const answer = await transport().send({ origin: upstream.origin, ...get() })
    await answer.stream().cancel()
    await until(() => upstream.open() === 0)
  })
})

describe('answers RGW does not give', () => {
  test('chunked, with chunk extensions and trailers, split at every byte; the connection is reused after', async () => {
    const chunked = '5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nx-trailer: t\r\n\r\n'
    const s = await raw((r) => {
      if (r.index === 0) void dribble(r.socket, `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunked}`, 1)
      else r.socket.write(ok('second'))
    })
    const t = transport()
    const a = await t.send({ origin: s.origin, ...get() })
    expect(a.status).toBe(200)
    expect(a.contentLength).toBe(-1)
    expect(await a.text(1024)).toBe('hello 0123456789')
    expect(await (await t.send({ origin: s.origin, ...get() })).text(1024)).toBe('second')
    expect(s.accepted()).toBe(1)
  })

  test('a chunked body that ends without its last chunk fails', async () => {
    const s = await raw((r) => r.socket.end('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n'))
    const a = await transport().send({ origin: s.origin, ...get() })
    expect(await a.text(1024).catch((e: unknown) => e)).toBeInstanceOf(TransportError)
  })

  test('Connection: close ends the connection after the answer; the next request opens another', async () => {
    const s = await raw((r) => r.socket.write(ok(`answer ${r.index}`, 'connection: close\r\n')))
    const t = transport()
    expect(await (await t.send({ origin: s.origin, ...get() })).text(100)).toBe('answer 0')
    expect(await (await t.send({ origin: s.origin, ...get() })).text(100)).toBe('answer 1')
    expect(s.accepted()).toBe(2)
    expect(s.requests.map((r) => r.connection)).toEqual([0, 1])
  })

  test('no Content-Length: the body runs until the server closes (HTTP/1.1 and 1.0), and the connection is not reused', async () => {
    const s = await raw((r) =>
      r.socket.end(r.index === 0 ? 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil close' : 'HTTP/1.0 200 OK\r\n\r\nold style'),
    )
    const t = transport()
    const a = await t.send({ origin: s.origin, ...get() })
    expect(a.contentLength).toBe(-1)
    expect(await a.text(100)).toBe('until close')
    expect(await (await t.send({ origin: s.origin, ...get() })).text(100)).toBe('old style')
    expect(s.accepted()).toBe(2)
  })

  test('a body shorter than its Content-Length fails, never completes short', async () => {
    const s = await raw((r) => r.socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort'))
    const a = await transport().send({ origin: s.origin, ...get() })
    const err = await a.text(100).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TransportError)
    expect((err as TransportError).kind).toBe('broken')
  })

  test('100 Continue and 103 Early Hints before the answer are skipped', async () => {
    const s = await raw((r) => {
      void dribble(r.socket, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </x>; rel=preload\r\n\r\n' + ok('after', 'etag: "e"\r\n'), 7)
    })
    const t = transport()
    const a = await t.send({
      origin: s.origin,
      method: 'PUT',
      path: '/k',
      headers: new Headers({ host: 'x', 'content-length': '4', expect: '100-continue' }),
      body: 'data',
    })
    expect(a.status).toBe(200)
    expect(a.headers.etag).toBe('"e"')
    expect(a.headers.link).toBeUndefined()
    expect(await a.text(100)).toBe('after')
    expect(s.requests[0]!.body.toString()).toBe('data')
  })

  test('Content-Length above 4 GiB: a HEAD states it, a GET streams against it', async () => {
    const big = 5 * 1024 ** 3 + 7
    const s = await raw((r) => {
      r.socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${big}\r\n\r\n`)
      if (r.method === 'GET') r.socket.write(Buffer.alloc(MiB, 1))
    })
    const t = transport()
    const head = await t.send({ origin: s.origin, method: 'HEAD', path: '/', headers: new Headers({ host: 'x' }) })
    expect(head.contentLength).toBe(big)
    await head.discard()
    const g = await t.send({ origin: s.origin, ...get() })
    expect(g.contentLength).toBe(big)
    const reader = g.stream().getReader()
    let got = 0
    while (got < MiB) got += (await reader.read()).value!.byteLength
    expect(got).toBe(MiB)
    await reader.cancel()
    // The HEAD's connection went back to the pool: a HEAD answer has no body to wait for.
    expect(s.requests.map((r) => r.connection)).toEqual([0, 0])
  })

  test('Content-Length values: digits only, repeats of one value accepted', () => {
    expect(contentLength('5368709127')).toBe(5368709127)
    expect(contentLength('12, 12')).toBe(12)
    for (const bad of ['1e3', '0x10', '-1', '+5', '', '12, 13', '1.5', '99999999999999999']) expect(contentLength(bad)).toBeUndefined()
  })

  test('an invalid Content-Length fails the request', async () => {
    const s = await raw((r) => r.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1e3\r\n\r\n'))
    const err = await transport()
      .send({ origin: s.origin, ...get() })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TransportError)
  })

  test('an oversized response head fails', async () => {
    const s = await raw((r) => r.socket.write(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(70 * 1024)}\r\n\r\n`))
    const err = await transport()
      .send({ origin: s.origin, ...get() })
      .catch((e: unknown) => e)
    expect((err as TransportError).message).toContain('oversized')
  })
})

describe('keep-alive connections the server closes', () => {
  test('one closed while idle is noticed and dropped; the next request opens a new one', async () => {
    const server = http.createServer((_req, res) => res.end('fine'))
    server.keepAliveTimeout = 50
    const s = await local(server)
    const t = transport()
    expect(await (await t.send({ origin: s.origin, ...get() })).text(100)).toBe('fine')
    await until(() => s.open() === 0)
    expect(await (await t.send({ origin: s.origin, ...get() })).text(100)).toBe('fine')
    expect(s.accepted()).toBe(2)
  })

  /** A server that reads the second request on each connection and closes it unanswered: the race of an idle close. */
  const closesSecond = () => raw((r) => (s2(r) ? r.socket.destroy() : r.socket.write(ok(`${r.method} ${r.index}`))))
  const perConnection = new Map<string, number>()
  function s2(r: RawRequest): boolean {
    const id = `${r.socket.localPort}:${r.socket.remotePort}`
    const n = (perConnection.get(id) ?? 0) + 1
    perConnection.set(id, n)
    return n === 2
  }

  test('an idempotent request with a body at hand is sent again on a new connection', async () => {
    const s = await closesSecond()
    const t = transport()
    expect(await (await t.send({ origin: s.origin, ...get() })).text(100)).toBe('GET 0')
    const put = await t.send({ origin: s.origin, method: 'PUT', path: '/k', headers: new Headers({ host: 'x', 'content-length': '3' }), body: 'abc' })
    expect(await put.text(100)).toBe('PUT 2')
    expect(s.requests.map((r) => [r.method, r.connection])).toEqual([
      ['GET', 0],
      ['PUT', 0],
      ['PUT', 1],
    ])
  })

  test('a POST is never sent twice: on a connection just used it fails, on one idle for a while it goes on a new connection', async () => {
    const s = await closesSecond()
    const t = transport()
    const post = () => t.send({ origin: s.origin, method: 'POST', path: '/k?uploads', headers: new Headers({ host: 'x', 'content-length': '0' }) })
    expect(await (await t.send({ origin: s.origin, ...get() })).text(100)).toBe('GET 0')
    const err = await post().catch((e: unknown) => e)
    expect((err as TransportError).kind).toBe('broken')
    expect(s.requests.map((r) => r.method)).toEqual(['GET', 'POST'])
    expect(await (await t.send({ origin: s.origin, ...get() })).text(100)).toBe('GET 2')
    await Bun.sleep(1_100)
    expect(await (await post()).text(100)).toBe('POST 3')
    expect(s.requests.map((r) => r.connection)).toEqual([0, 0, 1, 2])
  })

  test('a streamed body is not sent again either', async () => {
    const s = await closesSecond()
    const t = transport()
    expect(await (await t.send({ origin: s.origin, ...get() })).text(100)).toBe('GET 0')
    const body = new Response('streamed').body!
    const err = await t
      .send({ origin: s.origin, method: 'PUT', path: '/k', headers: new Headers({ host: 'x', 'content-length': '8' }), body })
      .catch((e: unknown) => e)
    expect((err as TransportError).kind).toBe('broken')
    expect(s.requests.map((r) => r.method)).toEqual(['GET', 'PUT'])
  })
})

describe('TLS', () => {
  // A throwaway CA and a server certificate for 127.0.0.1 and localhost, made once.
  const dir = mkdtempSync(join(tmpdir(), 'stowage-tls-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  function certificates(): { ca: string; key: string; cert: string } {
    const run = (args: string[]): void => {
      const p = Bun.spawnSync(['openssl', ...args], { cwd: dir, stderr: 'pipe' })
      if (p.exitCode !== 0) throw new Error(`openssl ${args[0]}: ${p.stderr.toString()}`)
    }
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Stowage test CA'])
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=localhost'])
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
    run(['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '1', '-extfile', 'ext.cnf'])
    return { ca: join(dir, 'ca.pem'), key: readFileSync(join(dir, 'srv.key'), 'utf8'), cert: readFileSync(join(dir, 'srv.pem'), 'utf8') }
  }
  const certs = certificates()

  async function tlsServer(): Promise<Local> {
    const server = https.createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
      if (req.url === '/chunked') {
        res.write('chunked ')
        setTimeout(() => res.end('over tls'), 5)
      } else if (req.method === 'PUT') {
        let n = 0
        req.on('data', (d: Buffer) => (n += d.length))
        req.on('end', () => res.end(`got ${n}`))
      } else res.end('hello over tls')
    })
    return local(server, 'https')
  }

  test('an upstream whose certificate the system does not trust is refused', async () => {
    const s = await tlsServer()
    const err = await transport()
      .send({ origin: s.origin, ...get() })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TransportError)
    expect((err as TransportError).kind).toBe('broken')
    expect(String((err as TransportError).message)).toMatch(/certificate/i)
  })

  test('with its CA in NODE_EXTRA_CA_CERTS: GET, chunked GET and PUT, on one kept-alive connection, by IP and by name', async () => {
    const s = await tlsServer()
    const script = join(dir, 'client.ts')
    writeFileSync(
      script,
      `import { createTransport } from ${JSON.stringify(join(import.meta.dir, '../../src/s3/transport.ts'))}
const t = createTransport({ idleMs: 5000 })
const out = []
for (const host of ['127.0.0.1', 'localhost']) {
  const origin = 'https://' + host + ':' + ${s.port}
  out.push(await (await t.send({ origin, method: 'GET', path: '/', headers: new Headers({ host }) })).text(100))
  out.push(await (await t.send({ origin, method: 'GET', path: '/chunked', headers: new Headers({ host }) })).text(100))
  out.push(await (await t.send({ origin, method: 'PUT', path: '/k', headers: new Headers({ host, 'content-length': '1048576' }), body: new Uint8Array(1048576) })).text(100))
}
t.close()
console.log(JSON.stringify(out))
`,
    )
    const p = Bun.spawn([process.execPath, script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: certs.ca }, stdout: 'pipe', stderr: 'pipe' })
    const [stdout, stderr] = [await new Response(p.stdout).text(), await new Response(p.stderr).text()]
    expect(await p.exited, stderr).toBe(0)
    expect(JSON.parse(stdout)).toEqual(['hello over tls', 'chunked over tls', 'got 1048576', 'hello over tls', 'chunked over tls', 'got 1048576'])
    // One connection per origin (127.0.0.1 and localhost), each kept for its three requests.
    expect(s.accepted()).toBe(2)
  }, 30_000)
})
