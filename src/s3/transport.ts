// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The transport of every outbound S3 request: keep-alive HTTP/1.1 pools
 * (http1.ts) with a connect budget, an idle budget and the caller's abort
 * signal, answering with an `Answer` whose body is taken in the form its
 * consumer needs.
 *
 * Deadlines: a connect that has not completed within `connectMs`, or no byte
 * moving either way for `idleMs`, fails the request with a TransportError
 * (`unreachable`, `timeout`). A long upload or download that keeps moving
 * never times out; one whose consumer stops reading does, after `idleMs`.
 */
import type { Writable } from 'node:stream'
import { contentLength, TransportError, type Exchange, type ResponseHead, type WireRequest } from './wire.ts'
import { Pool } from './pool.ts'
import { boundGarbage, isLongBody } from '../lib/garbage-bound.ts'
import { pipeable, takePipe } from '../lib/pipeable.ts'

export type Timeouts = { idleMs: number; connectMs?: number }

export type Outbound = WireRequest & {
  /** `http(s)://host[:port]` to connect to. */
  origin: string
  signal?: AbortSignal
}

/** Bodies up to this size are read to be dropped: that keeps the connection, which costs less than a new one. */
const DISCARD_READ = 64 * 1024
/** How far `stream` reads ahead of its consumer. */
const READ_AHEAD = 64 * 1024

/** `owned`: the chunk is the listener's to keep; otherwise a view of the shared receive buffer, valid only during the call. */
type Listener = { data(chunk: Uint8Array, owned: boolean): void; end(): void; error(err: unknown): void }

function copy(chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk)
}

/**
 * An upstream's answer. Its body is taken once, in one of four ways: as a web stream
 * (`stream`), whole (`bytes`, `text`), written to a node response (`pipe`), or not at
 * all (`discard`). Until then the connection is paused; what had arrived with the head is kept.
 */
export class Answer {
  readonly status: number
  readonly headers: Record<string, string>
  private early: Uint8Array[] = []
  private ended = false
  private failure: { error: unknown } | undefined
  private listener: Listener | undefined
  private taken = false
  private readonly long: boolean

  constructor(
    head: ResponseHead,
    private readonly exchange: Exchange,
    private readonly settled: () => void,
  ) {
    this.status = head.status
    this.headers = head.headers
    this.long = isLongBody(this.contentLength)
  }

  /** The declared body length, or -1 (none, or a chunked body, whose Content-Length does not count). */
  get contentLength(): number {
    const v = this.headers['content-length']
    const te = this.headers['transfer-encoding']
    return v === undefined || (te !== undefined && te.toLowerCase() !== 'identity') ? -1 : (contentLength(v) ?? -1)
  }

  /** @internal The exchange's body events. */
  push(chunk: Uint8Array): void {
    if (this.long) boundGarbage(chunk.byteLength)
    if (this.listener) this.listener.data(chunk, false)
    else this.early.push(copy(chunk))
  }

  /** @internal */
  finish(): void {
    this.ended = true
    this.settled()
    this.listener?.end()
  }

  /** @internal */
  fail(error: unknown): void {
    if (this.ended || this.failure) return
    this.failure = { error }
    this.settled()
    this.listener?.error(error)
  }

  private take(listener: Listener): void {
    if (this.taken) throw new Error('the body of this answer was already taken')
    this.taken = true
    const early = this.early
    this.early = []
    for (const chunk of early) listener.data(chunk, true)
    if (this.failure) return listener.error(this.failure.error)
    if (this.ended) return listener.end()
    this.listener = listener
    this.exchange.resume()
  }

  /**
   * The body as a web stream of copies, read as the consumer pulls, at most READ_AHEAD bytes
   * ahead; cancelling it closes the connection. Nothing is taken before the first read, so
   * whoever sends the stream on may still `pipe` it instead (lib/pipeable.ts).
   */
  stream(): ReadableStream<Uint8Array> {
    let open = true
    let reading = false
    const exchange = this.exchange
    let controller!: ReadableStreamDefaultController<Uint8Array>
    const listener: Listener = {
      data(chunk, owned) {
        if (!open) return
        controller.enqueue(owned ? chunk : copy(chunk))
        if (-(controller.desiredSize ?? 0) >= READ_AHEAD) exchange.pause()
      },
      end() {
        if (open) controller.close()
        open = false
      },
      error(err) {
        if (open) controller.error(err)
        open = false
      },
    }
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c
        },
        // With no high-water mark, a pull comes only when a read waits on an empty queue.
        pull: () => {
          if (reading) return exchange.resume()
          reading = true
          takePipe(stream)
          this.take(listener)
        },
        cancel: (reason) => {
          open = false
          this.taken = true
          exchange.abort(reason ?? new TransportError('broken', 'the body was cancelled'))
        },
      },
      { highWaterMark: 0, size: (chunk?: Uint8Array) => chunk?.byteLength ?? 0 },
    )
    return pipeable(stream, (out, signal) => this.pipe(out, signal))
  }

  /** The whole body; more than `limit` bytes fails (kind `oversized`) and closes the connection. */
  bytes(limit: number): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const declared = this.contentLength
      if (declared > limit) {
        const err = new TransportError('oversized', `the upstream sent ${declared} bytes, more than the ${limit} expected`)
        this.exchange.abort(err)
        reject(err)
        return
      }
      const parts: Uint8Array[] = []
      let size = 0
      this.take({
        data: (chunk, owned) => {
          size += chunk.byteLength
          if (size > limit) return this.exchange.abort(new TransportError('oversized', `the upstream sent more than the ${limit} bytes expected`))
          parts.push(owned ? chunk : copy(chunk))
        },
        end: () => resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts)),
        error: reject,
      })
    })
  }

  async text(limit: number): Promise<string> {
    return Buffer.from(await this.bytes(limit)).toString('utf8')
  }

  /**
   * Writes the body to `out` (a node:http response) as it arrives, with backpressure, and
   * without a web stream in between (its promise per chunk and queue cost more CPU than the
   * copy). Each chunk is written as a copy: the view of the shared receive buffer is reused by
   * the next read, and Bun's node:http `write` may still hold a chunk it could not send at once
   * (8 MiB downloads at once came out mixed; tests/s3/http1.test.ts). Resolves with the bytes
   * written, also when `signal` aborts or `out` closes first (the connection upstream is then
   * cut); an upstream failure midway rejects.
   */
  pipe(out: Writable, signal?: AbortSignal): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let written = 0
      let settled = false
      const exchange = this.exchange
      const stop = (): void => {
        if (settled) return
        finish()
        exchange.abort(new TransportError('broken', 'the body was no longer wanted'))
        resolve(written)
      }
      const onDrain = (): void => exchange.resume()
      const finish = (): void => {
        settled = true
        signal?.removeEventListener('abort', stop)
        out.off('close', stop)
        out.off('drain', onDrain)
      }
      if (signal?.aborted || out.destroyed) {
        if (this.taken) throw new Error('the body of this answer was already taken')
        settled = true
        this.taken = true
        exchange.abort(new TransportError('broken', 'the body was no longer wanted'))
        return resolve(0)
      }
      signal?.addEventListener('abort', stop, { once: true })
      out.once('close', stop)
      out.on('drain', onDrain)
      this.take({
        data(chunk, owned) {
          if (settled) return
          written += chunk.byteLength
          if (!out.write(owned ? chunk : copy(chunk))) exchange.pause()
        },
        end() {
          if (settled) return
          finish()
          resolve(written)
        },
        error(err) {
          if (settled) return
          finish()
          // The transport's own abort listener may report the consumer's abort first.
          if (signal?.aborted || out.destroyed) resolve(written)
          else reject(err)
        },
      })
    })
  }

  /** Drops the body: read when small (the connection is kept), else the connection is closed. */
  async discard(): Promise<void> {
    if (this.taken) return
    if (this.ended || this.failure) {
      this.taken = true
      return
    }
    const declared = this.contentLength
    if (declared < 0 || declared > DISCARD_READ) {
      this.taken = true
      this.exchange.abort(new TransportError('broken', 'body not wanted'))
      return
    }
    await this.bytes(DISCARD_READ).catch(() => {})
  }
}

export type Transport = {
  send(o: Outbound): Promise<Answer>
  /** Closes the idle connections; requests in flight finish. */
  close(): void
}

export function createTransport(timeouts: Timeouts): Transport {
  const pools = new Map<string, Pool>()

  function poolFor(origin: string): Pool {
    let pool = pools.get(origin)
    if (!pool) {
      const url = new URL(origin)
      pool = new Pool({
        protocol: url.protocol === 'https:' ? 'https:' : 'http:',
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
        connectMs: Math.min(timeouts.connectMs ?? 5_000, timeouts.idleMs),
        keepAliveMs: 30_000,
        maxIdle: 64,
      })
      pools.set(origin, pool)
    }
    return pool
  }

  function send(o: Outbound): Promise<Answer> {
    const signal = o.signal
    signal?.throwIfAborted()
    return new Promise<Answer>((resolve, reject) => {
      let answer: Answer | undefined
      const onAbort = (): void => exchange.abort(signal!.reason)
      const settled = (): void => signal?.removeEventListener('abort', onAbort)
      const exchange = poolFor(o.origin).request(
        o,
        {
          head(h) {
            answer = new Answer(h, exchange, settled)
            // Held until the consumer chooses how to take the body.
            exchange.pause()
            resolve(answer)
          },
          data: (chunk) => answer!.push(chunk),
          end: () => answer!.finish(),
          error(err) {
            if (answer) answer.fail(signal?.aborted ? signal.reason : err)
            else {
              settled()
              reject(signal?.aborted ? signal.reason : err)
            }
          },
        },
        timeouts.idleMs,
      )
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  return {
    send,
    close() {
      for (const pool of pools.values()) pool.close()
      pools.clear()
    },
  }
}
