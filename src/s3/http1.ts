// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * HTTP/1.1 connections to one upstream origin (pooled by pool.ts) over node:net (or
 * node:tls) connections, requests written as they are given, responses
 * parsed as they arrive.
 *
 * Why not fetch or node:http: relaying a 1 MiB GET cost 4–6.5 ms of CPU
 * through fetch's body stream and 2–3.4 ms through node:http, against
 * 1.8–2.9 ms here, and added 4–7 ms (fetch) or 4–6 ms (node:http) of latency
 * at one connection against 1.3–1.9 ms here (bench/README.md). Most of the
 * difference is memory: fetch and node:http hand each chunk over in a fresh
 * buffer (≈180–220 page faults per MiB through fetch on this VM), while every
 * connection here reads into one shared buffer (`onread`), and a consumer
 * copies only what it keeps. Small requests cost about what fetch costs.
 * It also sends the request target exactly as given, so keys with `.`/`..`
 * segments need no detour (the WHATWG URL parser would resolve them).
 *
 * What it does not do: redirects, decompression, cookies, proxies, HTTP/2,
 * pipelining. Request bodies have a Content-Length (S3 needs one). An https
 * upstream's certificate is checked against the system's CAs and those in
 * NODE_EXTRA_CA_CERTS (read at startup), the way for a private CA.
 */
import net from 'node:net'
import tls from 'node:tls'
import type { Readable } from 'node:stream'
import type { Pool } from './pool.ts'
import { contentLength, TransportError, transportError, type Exchange, type PoolOptions, type Sink, type WireRequest } from './wire.ts'
import { boundGarbage, isLongBody } from '../lib/garbage-bound.ts'

/** One read's worth; every connection reads into it, and nothing keeps a view of it past the read. */
const RECEIVE = Buffer.allocUnsafe(128 * 1024)
const MAX_HEAD = 64 * 1024
/**
 * A body up to this size goes out corked with its head, in one packet. A larger one is written
 * on its own: Bun copies what a corked socket is given, which cost a 1 MiB PUT 2.6–3.5 ms of CPU
 * against 1.4 ms uncorked.
 */
const CORK_MAX = 64 * 1024
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1')

const enum Phase {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
  Done,
}

export class Connection {
  readonly socket: net.Socket
  private connected = false
  private connectTimer: ReturnType<typeof setTimeout> | undefined
  /** Responses this connection has finished; a failure before any byte of the next may be a stale keep-alive. */
  served = 0
  /** When it went back to the pool. */
  idleSince = 0

  private sink: Sink | undefined
  private onFail: ((err: TransportError, retryable: boolean) => void) | undefined
  private phase = Phase.Done
  private headText = ''
  private remaining = 0
  private lineText = ''
  private keepAlive = true
  private bodyless = false
  private received = false
  private requestDone = false
  private stopBody: (() => void) | undefined
  private idleMs = 0

  constructor(
    private readonly pool: Pool,
    o: PoolOptions,
  ) {
    const onread = { buffer: RECEIVE, callback: (n: number) => this.onRead(n) }
    this.socket =
      o.protocol === 'https:'
        ? tls.connect({
            host: o.hostname,
            port: o.port,
            servername: net.isIP(o.hostname) ? undefined : o.hostname,
            ALPNProtocols: ['http/1.1'],
            onread,
          } as tls.ConnectionOptions)
        : net.connect({ host: o.hostname, port: o.port, onread } as net.NetConnectOpts)
    this.socket.setNoDelay(true)
    // Bun never fires the socket timeout while a connect is pending, so a blackholed endpoint needs its own timer.
    this.connectTimer = setTimeout(() => this.fail(new TransportError('unreachable', `no connection within ${o.connectMs} ms`), false), o.connectMs)
    this.socket.once(o.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      this.connected = true
      clearTimeout(this.connectTimer)
    })
    this.socket.on('timeout', () => {
      if (this.sink) this.fail(new TransportError('timeout', `no progress for ${this.idleMs} ms`), false)
      else this.socket.destroy()
    })
    this.socket.on('error', (err) => this.fail(transportError(err, this.connected), this.served > 0 && !this.received))
    this.socket.on('end', () => this.onEnd())
    this.socket.on('close', () => {
      clearTimeout(this.connectTimer)
      this.pool.forget(this)
      if (this.sink) this.fail(new TransportError('broken', 'the connection closed before the answer ended'), this.served > 0 && !this.received)
    })
  }

  /** Sends one request; the answer goes to `sink`, a failure to `onFail` (retryable when a reused connection failed before any byte came back). */
  start(req: WireRequest, sink: Sink, idleMs: number, onFail: (err: TransportError, retryable: boolean) => void): Exchange {
    this.sink = sink
    this.onFail = onFail
    this.phase = Phase.Head
    this.headText = ''
    this.keepAlive = true
    this.received = false
    this.requestDone = false
    this.stopBody = undefined
    this.bodyless = req.method === 'HEAD'
    this.idleMs = idleMs
    this.socket.setTimeout(idleMs)
    let head = `${req.method} ${req.path} HTTP/1.1\r\n`
    req.headers.forEach((value, name) => {
      head += `${name}: ${value}\r\n`
    })
    head += '\r\n'
    const body = req.body
    if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) {
      if (body === undefined || body.length <= CORK_MAX) {
        this.socket.cork()
        this.socket.write(head, 'latin1')
        if (body !== undefined && body.length > 0) this.socket.write(body)
        this.socket.uncork()
      } else {
        this.socket.write(head, 'latin1')
        this.socket.write(body)
      }
      this.requestDone = true
    } else {
      this.socket.write(head, 'latin1')
      this.sendBody(body, isLongBody(contentLength(req.headers.get('content-length') ?? '') ?? -1))
    }
    return {
      pause: () => {
        if (this.sink === sink) this.socket.pause()
      },
      resume: () => {
        if (this.sink === sink) this.socket.resume()
      },
      abort: (reason) => {
        if (this.sink !== sink) return
        this.sink = undefined
        this.stopBody?.()
        this.socket.destroy()
        sink.error(reason)
      },
    }
  }

  /** `long`: the body counts toward the garbage bound. */
  private sendBody(body: ReadableStream<Uint8Array> | Readable, long: boolean): void {
    const socket = this.socket
    const done = (): void => {
      this.requestDone = true
      this.stopBody = undefined
    }
    if (body instanceof ReadableStream) {
      const reader = body.getReader()
      let stopped = false
      this.stopBody = () => {
        stopped = true
        reader.cancel().catch(() => {})
      }
      const pump = async (): Promise<void> => {
        for (;;) {
          const r = await reader.read()
          if (stopped) return
          if (r.done) return done()
          if (long) boundGarbage(r.value.byteLength)
          if (!socket.write(r.value)) await new Promise<void>((resolve) => socket.once('drain', resolve))
        }
      }
      pump().catch((err: unknown) => {
        if (!stopped) this.fail(new TransportError('broken', 'the request body failed', { cause: err }), false)
      })
      return
    }
    const onData = (chunk: Buffer): void => {
      if (long) boundGarbage(chunk.byteLength)
      if (!socket.write(chunk)) body.pause()
    }
    const onDrain = (): void => void body.resume()
    const onEnd = (): void => {
      cleanup()
      done()
    }
    const onError = (err: Error): void => {
      cleanup()
      this.fail(new TransportError('broken', 'the request body failed', { cause: err }), false)
    }
    const cleanup = (): void => {
      body.off('data', onData)
      body.off('end', onEnd)
      body.off('error', onError)
      socket.off('drain', onDrain)
    }
    this.stopBody = () => {
      cleanup()
      body.pause()
    }
    body.on('data', onData)
    body.once('end', onEnd)
    body.once('error', onError)
    socket.on('drain', onDrain)
  }

  private fail(err: TransportError, retryable: boolean): void {
    const onFail = this.onFail
    const sink = this.sink
    this.sink = undefined
    this.onFail = undefined
    this.stopBody?.()
    this.socket.destroy()
    if (sink && onFail) onFail(err, retryable)
  }

  private onEnd(): void {
    if (this.phase === Phase.UntilClose && this.sink) {
      this.phase = Phase.Done
      this.keepAlive = false
      this.finish()
      return
    }
    if (this.sink) this.fail(new TransportError('broken', 'the upstream closed the connection before the answer ended'), this.served > 0 && !this.received)
    else {
      // The server closed an idle connection: out of the pool now, not when 'close' comes.
      this.pool.forget(this)
      this.socket.destroy()
    }
  }

  private onRead(n: number): boolean {
    if (!this.sink) {
      // Bytes nobody asked for (after an answer, or on an idle connection): the connection cannot be trusted.
      this.socket.destroy()
      return false
    }
    this.received = true
    const buf = RECEIVE
    let off = 0
    try {
      while (off < n && this.sink) {
        switch (this.phase) {
          case Phase.Head:
            off = this.readHead(buf, off, n)
            break
          case Phase.Length: {
            const take = Math.min(this.remaining, n - off)
            this.sink.data(buf.subarray(off, off + take))
            off += take
            this.remaining -= take
            if (this.remaining === 0) this.complete()
            break
          }
          case Phase.UntilClose:
            this.sink.data(buf.subarray(off, n))
            off = n
            break
          case Phase.ChunkSize:
          case Phase.ChunkEnd:
          case Phase.Trailers:
            off = this.readLine(buf, off, n)
            break
          case Phase.ChunkData: {
            const take = Math.min(this.remaining, n - off)
            this.sink.data(buf.subarray(off, off + take))
            off += take
            this.remaining -= take
            if (this.remaining === 0) this.phase = Phase.ChunkEnd
            break
          }
          case Phase.Done:
            throw new TransportError('broken', 'the upstream sent more than its answer')
        }
      }
    } catch (err) {
      this.fail(err instanceof TransportError ? err : new TransportError('broken', (err as Error).message, { cause: err }), false)
    }
    return true
  }

  private readHead(buf: Buffer, off: number, n: number): number {
    let text: string
    let consumed: number
    if (this.headText === '') {
      // The usual case, a head whole in one read: only its own bytes become a string, not the body after it.
      const end = buf.subarray(0, n).indexOf(HEAD_END, off)
      if (end - off > MAX_HEAD || (end < 0 && n - off > MAX_HEAD)) throw new TransportError('broken', 'the upstream sent an oversized response head')
      if (end < 0) {
        this.headText = buf.toString('latin1', off, n)
        return n
      }
      text = buf.toString('latin1', off, end)
      consumed = end + 4
    } else {
      const before = this.headText.length
      this.headText += buf.toString('latin1', off, Math.min(n, off + MAX_HEAD + 4))
      const end = this.headText.indexOf('\r\n\r\n', Math.max(0, before - 3))
      if (end > MAX_HEAD || (end < 0 && this.headText.length > MAX_HEAD)) throw new TransportError('broken', 'the upstream sent an oversized response head')
      if (end < 0) return n
      consumed = off + (end + 4 - before)
      text = this.headText.slice(0, end)
      this.headText = ''
    }
    const lineEnd = text.indexOf('\r\n')
    const statusLine = lineEnd < 0 ? text : text.slice(0, lineEnd)
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(statusLine)
    if (!m) throw new TransportError('broken', 'the upstream sent a malformed status line')
    const status = Number(m[2])
    const headers: Record<string, string> = {}
    if (lineEnd >= 0) {
      for (const line of text.slice(lineEnd + 2).split('\r\n')) {
        const colon = line.indexOf(':')
        if (colon <= 0) continue
        const name = line.slice(0, colon).trim().toLowerCase()
        const value = line.slice(colon + 1).trim()
        const prior = headers[name]
        headers[name] = prior === undefined ? value : `${prior}, ${value}`
      }
    }
    // 1xx answers (100 Continue) precede the real one.
    if (status < 200) return consumed
    const connection = headers.connection?.toLowerCase()
    this.keepAlive = m[1] === '1' ? connection !== 'close' : connection === 'keep-alive'
    const te = headers['transfer-encoding']
    if (this.bodyless || status === 204 || status === 304) this.phase = Phase.Done
    else if (te !== undefined && te.toLowerCase() !== 'identity') this.phase = Phase.ChunkSize
    else if (headers['content-length'] !== undefined) {
      const length = contentLength(headers['content-length'])
      if (length === undefined) throw new TransportError('broken', 'the upstream sent an invalid Content-Length')
      this.remaining = length
      this.phase = length === 0 ? Phase.Done : Phase.Length
    } else {
      this.keepAlive = false
      this.phase = Phase.UntilClose
    }
    this.sink!.head({ status, headers })
    if (this.phase === Phase.Done && this.sink) this.complete()
    return consumed
  }

  /** A chunk-size line, the CRLF after a chunk, or a trailer line. */
  private readLine(buf: Buffer, off: number, n: number): number {
    const nl = buf.subarray(0, n).indexOf(10, off)
    if (nl < 0) {
      this.lineText += buf.toString('latin1', off, n)
      if (this.lineText.length > 4096) throw new TransportError('broken', 'the upstream sent an oversized chunk line')
      return n
    }
    const line = (this.lineText + buf.toString('latin1', off, nl)).replace(/\r$/, '')
    this.lineText = ''
    if (this.phase === Phase.ChunkSize) {
      const size = parseInt(line.split(';', 1)[0]!.trim(), 16)
      if (!Number.isSafeInteger(size) || size < 0) throw new TransportError('broken', 'the upstream sent a malformed chunk size')
      if (size === 0) this.phase = Phase.Trailers
      else {
        this.remaining = size
        this.phase = Phase.ChunkData
      }
    } else if (this.phase === Phase.ChunkEnd) {
      if (line !== '') throw new TransportError('broken', 'the upstream sent a malformed chunk')
      this.phase = Phase.ChunkSize
    } else if (line === '') this.complete()
    return nl + 1
  }

  private complete(): void {
    this.phase = Phase.Done
    this.finish()
  }

  private finish(): void {
    const sink = this.sink!
    this.sink = undefined
    this.onFail = undefined
    this.served++
    const reusable = this.keepAlive && this.requestDone
    if (!this.requestDone) this.stopBody?.()
    if (reusable) this.pool.release(this)
    else this.socket.destroy()
    sink.end()
  }
}
