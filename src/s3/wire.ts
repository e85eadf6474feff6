// SPDX-License-Identifier: AGPL-3.0-or-later
/** What an outbound HTTP/1.1 request and its answer are, and how one fails: shared by the connection, the pool and the transport. */
import type { Readable } from 'node:stream'

export type ResponseHead = { status: number; headers: Record<string, string> }

/** Where a response goes. `data`'s chunk is a view of the shared receive buffer: valid only during the call. */
export type Sink = {
  head(h: ResponseHead): void
  data(chunk: Uint8Array): void
  end(): void
  error(err: unknown): void
}

export type WireRequest = {
  method: string
  /** The request target, already encoded: sent as is. */
  path: string
  /** Lower-case names; byte-string values. A body needs `content-length`. */
  headers: Headers
  body?: Uint8Array | string | ReadableStream<Uint8Array> | Readable
}

/**
 * A request that produced no usable HTTP answer. `unreachable`: no connection (nothing listens,
 * the name does not resolve, the connect timed out); `timeout`: no progress within the idle
 * budget; `broken`: the connection or the request body failed midway; `oversized`: a body
 * read whole was larger than its reader allows.
 */
export class TransportError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'timeout' | 'broken' | 'oversized',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'TransportError'
  }
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ConnectionRefused', 'FailedToOpenSocket'])

export function transportError(err: unknown, connected: boolean): TransportError {
  if (err instanceof TransportError) return err
  const code = (err as { code?: string })?.code ?? ''
  return new TransportError(!connected && UNREACHABLE_CODES.has(code) ? 'unreachable' : 'broken', (err as Error)?.message ?? 'connection failed', {
    cause: err,
  })
}

export type PoolOptions = {
  protocol: 'http:' | 'https:'
  hostname: string
  port: number
  /** A connect that has not completed after this fails with kind `unreachable`. */
  connectMs: number
  /** Seconds an idle connection stays pooled; below common server keep-alive limits (RGW beast: 65 s). */
  keepAliveMs: number
  maxIdle: number
}

/** One request on one connection; `pause`/`resume` hold the response back, `abort` ends it. */
export type Exchange = { pause(): void; resume(): void; abort(reason: unknown): void }

/**
 * A Content-Length value: digits only (no sign, exponent or hex that Number() would take), up to
 * 2^53 - 1 (far above 4 GiB); repeats of one value, which RFC 9112 lets a recipient accept, count once.
 */
export function contentLength(value: string): number | undefined {
  const first =
    value.indexOf(',') < 0
      ? value
      : value
          .split(',')
          .map((v) => v.trim())
          .reduce((a, b) => (a === b ? a : ''))
  if (!/^\d{1,16}$/.test(first)) return undefined
  const n = Number(first)
  return Number.isSafeInteger(n) ? n : undefined
}
