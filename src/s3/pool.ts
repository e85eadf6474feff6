// SPDX-License-Identifier: AGPL-3.0-or-later
/** The keep-alive pool of HTTP/1.1 connections to one upstream origin, and when a request may be sent twice. */
import { Connection } from './http1.ts'
import type { Exchange, PoolOptions, Sink, WireRequest } from './wire.ts'

/** Methods RFC 9110 calls idempotent: sending one twice has the effect of sending it once. */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])
/** How long a connection stays safe from a server's idle close, for requests that cannot be retried (servers allow seconds). */
const FRESH_MS = 1_000

/** The connections to one origin. */
export class Pool {
  private readonly idle: Connection[] = []
  private closed = false

  constructor(private readonly o: PoolOptions) {}

  /**
   * Sends `req`; answers go to `sink`.
   *
   * A pooled connection the server closed while it sat idle fails before any byte comes back,
   * and the request may or may not have reached the server. One that is safe to send twice (an
   * idempotent method, a body that can be sent again) is then retried once on a new
   * connection. Any other (a POST, a streamed body) is never retried; it goes on a connection
   * that was in use moments ago, which no server closes as idle, or on a new one.
   */
  request(req: WireRequest, sink: Sink, idleMs: number): Exchange {
    const replayable = IDEMPOTENT.has(req.method) && (req.body === undefined || typeof req.body === 'string' || req.body instanceof Uint8Array)
    let current: Exchange
    let retried = false
    const attempt = (conn: Connection): void => {
      current = conn.start(req, sink, idleMs, (err, retryable) => {
        if (retryable && replayable && !retried && !this.closed) {
          retried = true
          attempt(new Connection(this, this.o))
        } else sink.error(err)
      })
    }
    attempt(this.pooled(replayable ? Infinity : FRESH_MS) ?? new Connection(this, this.o))
    return {
      pause: () => current.pause(),
      resume: () => current.resume(),
      abort: (reason) => current.abort(reason),
    }
  }

  /** The connection that went idle last, if it has been idle at most `maxIdleMs`. */
  private pooled(maxIdleMs: number): Connection | undefined {
    for (;;) {
      const conn = this.idle.at(-1)
      if (!conn) return undefined
      if (conn.socket.destroyed || !conn.socket.writable) {
        this.idle.pop()
        continue
      }
      if (performance.now() - conn.idleSince > maxIdleMs) return undefined
      return this.idle.pop()
    }
  }

  /** A connection whose answer ended cleanly. */
  release(conn: Connection): void {
    if (this.closed || this.idle.length >= this.o.maxIdle) {
      conn.socket.destroy()
      return
    }
    conn.socket.resume()
    conn.socket.setTimeout(this.o.keepAliveMs)
    conn.idleSince = performance.now()
    this.idle.push(conn)
  }

  forget(conn: Connection): void {
    const i = this.idle.indexOf(conn)
    if (i >= 0) this.idle.splice(i, 1)
  }

  /** Closes the idle connections; requests in flight finish. */
  close(): void {
    this.closed = true
    for (const c of this.idle.splice(0)) c.socket.destroy()
  }
}
