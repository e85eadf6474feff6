// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Forwards an authorized request upstream and relays the answer: allowlisted
 * headers, the body in its verified form, re-signed with the backend's keys.
 * A client that goes away aborts the upstream call; a body that fails its
 * signature, digest or length check aborts it too (it is never ended
 * cleanly), and the client gets the body's S3 error.
 */
import type { IncomingMessage } from 'node:http'
import type { Logger } from '../lib/log.ts'
import { badGateway, S3Error, serviceUnavailable } from './errors.ts'
import { letBodyCome, type Exchange } from './exchange.ts'
import { forwardable, withoutAwsChunked } from './headers.ts'
import type { ProxyMetrics } from './metrics.ts'
import { bodySlabs, type Payload } from './payload.ts'
import { SigV4StreamError } from './sigv4/chunked.ts'
import { s3ErrorStatus } from './sigv4/verify.ts'
import { sendUpstream, type Upstream } from './upstream.ts'

export type ForwardSpec = {
  up: Upstream
  bucket: string
  key?: string
  query: string
  payload: Payload
  /** Replaces the inbound value (a re-encoded copy source). */
  copySource?: string
  /** Sent instead of `payload.body` (a body the proxy had to read first, e.g. DeleteObjects). */
  buffered?: Uint8Array
  /** A request of the proxy's own instead of the inbound one (POST Object re-issued as a PutObject). */
  replace?: { method: string; headers: Record<string, string>; body: ReadableStream<Uint8Array> | Uint8Array; length: number }
}

/** Request headers that pass the allowlist; checksum headers describing an aws-chunked trailer are left behind. */
export function outboundHeaders(req: IncomingMessage, decoded: boolean): Headers {
  const out = new Headers()
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    if (!forwardable(name)) continue
    if (decoded && (name.startsWith('x-amz-checksum-') || name === 'x-amz-sdk-checksum-algorithm')) continue
    const value = name === 'content-encoding' ? withoutAwsChunked(raw[i + 1]) : raw[i + 1]
    if (value !== undefined) out.append(name, value)
  }
  return out
}

/** Wraps the body so its failure is known (fetch reports it only as a generic error) and its bytes are counted. */
function watched(body: ReadableStream<Uint8Array>, x: Exchange, failed: (err: unknown) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller): Promise<void> {
        try {
          const r = await reader.read()
          if (r.done) controller.close()
          else {
            x.bytesIn += r.value.byteLength
            controller.enqueue(r.value)
          }
        } catch (err) {
          failed(err)
          controller.error(err)
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  )
}

export function bodyError(err: unknown): S3Error {
  if (err instanceof SigV4StreamError) return new S3Error(s3ErrorStatus(err.code), err.code, err.message, err.code === 'SignatureDoesNotMatch' ? 'bad-chunk-signature' : 'bad-body')
  return new S3Error(400, 'IncompleteBody', 'The request body terminated unexpectedly.', 'bad-body')
}

export async function forward(x: Exchange, f: ForwardSpec, metrics: ProxyMetrics, logger: Logger): Promise<Response> {
  const headers = f.replace ? new Headers(f.replace.headers) : outboundHeaders(x.req, f.payload.decoded)
  if (f.copySource !== undefined) headers.set('x-amz-copy-source', f.copySource)
  const method = f.replace?.method ?? x.req.method!
  let failure: unknown
  let body: ReadableStream<Uint8Array> | Uint8Array | undefined
  let pooled: Uint8Array | undefined
  if (f.replace) {
    body = f.replace.body
    headers.set('content-length', String(f.replace.length))
    x.bytesIn += f.replace.length
  } else if (f.buffered) {
    body = f.buffered
    headers.set('content-length', String(f.buffered.byteLength))
    x.bytesIn += f.buffered.byteLength
  } else if (f.payload.read) {
    letBodyCome(x)
    try {
      body = pooled = await f.payload.read()
    } catch (err) {
      x.bodyPending = true
      if (err instanceof S3Error) throw err
      throw x.abort.signal.aborted ? new S3Error(499, 'RequestAborted', 'The client closed the connection.', 'client-gone') : bodyError(err)
    }
    headers.set('content-length', String(body.byteLength))
    x.bytesIn += body.byteLength
  } else if (f.payload.raw) {
    const raw = f.payload.raw
    raw.once('error', (err) => {
      failure ??= err
      x.abort.abort()
    })
    raw.once('aborted', () => x.abort.abort())
    body = raw as unknown as ReadableStream<Uint8Array>
    headers.set('content-length', String(f.payload.length))
    x.bytesIn += f.payload.length
  } else if (f.payload.body) {
    body = watched(f.payload.body, x, (err) => {
      failure ??= err
      x.abort.abort()
    })
    headers.set('content-length', String(f.payload.length))
  } else if (method === 'PUT' || method === 'POST') headers.set('content-length', '0')
  letBodyCome(x)
  const started = performance.now()
  try {
    const response = await sendUpstream(f.up, { method, bucket: f.bucket, key: f.key, query: f.query, headers, payloadHash: f.payload.payloadHash, body, signal: x.abort.signal })
    x.upstreamMs = performance.now() - started
    // A success means the upstream read the whole body, so nothing reads the slab any more.
    if (pooled && response.status < 300) bodySlabs.give(pooled)
    metrics.upstream.observe({ operation: x.op }, x.upstreamMs / 1000)
    return response
  } catch (err) {
    if (failure !== undefined) {
      // The rest of the body may still be on the wire: answer and close rather than read it.
      x.bodyPending = true
      throw bodyError(failure)
    }
    if (x.abort.signal.aborted) throw new S3Error(499, 'RequestAborted', 'The client closed the connection.', 'client-gone')
    // A streamed body may be only partly read: close the connection after answering.
    if ((f.payload.body || f.payload.raw) && !f.buffered && !f.replace) x.bodyPending = true
    const code = (err as { code?: string }).code ?? ''
    logger.warn('upstream request failed', { request_id: x.id, backend: x.backendId, error: (err as Error).message, code })
    if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ConnectionRefused|FailedToOpenSocket|ConnectionClosed/i.test(code + ' ' + (err as Error).message)) throw serviceUnavailable()
    throw badGateway()
  }
}
