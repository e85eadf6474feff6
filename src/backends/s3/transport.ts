// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The http(s).request that minio calls, with what minio lacks: a connect
 * deadline, an idle deadline, a per-call AbortSignal, and a rescue for the
 * responses minio drops.
 */
import http from 'node:http'
import https from 'node:https'
import type { Socket } from 'node:net'
import type { Client } from 'minio'
import { NetworkTimeout, UpstreamError } from './errors.ts'
import { parseXml, textOf } from '../../s3/xml.ts'

/** Per-call state riding on the request options minio passes through. */
export const CALL = Symbol('stowage.s3.call')

export type CallContext = {
  signal?: AbortSignal
  /** Set when minio swallowed an error response (see RETRYABLE). */
  swallowed?: Promise<UpstreamError>
}

export type Timeouts = { connectMs: number; idleMs: number }

/**
 * minio's requestWithRetry turns these statuses into a bare Error and never
 * drains the response, which would pin the socket and lose the S3 error code.
 * Mirrors retryHttpCodes in minio/dist/main/internal/request.js.
 */
const RETRYABLE = new Set([408, 429, 499, 500, 502, 503, 504, 520])

const ERROR_BODY_LIMIT = 64 * 1024

/** Reads an S3 error document (bounded) and turns it into an UpstreamError. */
export async function readUpstreamError(res: http.IncomingMessage): Promise<UpstreamError> {
  let body = ''
  try {
    for await (const chunk of res) {
      if (body.length < ERROR_BODY_LIMIT) body += String(chunk)
    }
  } catch {
    // The status alone still classifies the failure.
  }
  return parseUpstreamError(res, body)
}

export function parseUpstreamError(res: http.IncomingMessage, body: string): UpstreamError {
  const status = res.statusCode ?? 0
  const requestId = headerValue(res, 'x-amz-request-id')
  const deleteMarker = headerValue(res, 'x-amz-delete-marker') === 'true'
  try {
    const doc = parseXml(body)
    if (doc.name === 'Error') return new UpstreamError(status, textOf(doc, 'Code') ?? statusCode(status), textOf(doc, 'Message') ?? '', textOf(doc, 'RequestId') ?? requestId, deleteMarker)
  } catch {
    // HEAD responses and proxies in front of S3 answer without an XML body.
  }
  return new UpstreamError(status, statusCode(status), body.slice(0, 200), requestId, deleteMarker)
}

function statusCode(status: number): string {
  return http.STATUS_CODES[status]?.replace(/\s+/g, '') ?? `HTTP${status}`
}

export function headerValue(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name]
  return Array.isArray(v) ? v[0] : v
}

type RequestOptions = http.RequestOptions & { [CALL]?: CallContext }
type Transport = NonNullable<ConstructorParameters<typeof Client>[0]['transport']>

export function createTransport(timeouts: Timeouts): Transport {
  function request(options: RequestOptions, callback?: (res: http.IncomingMessage) => void): http.ClientRequest {
    const call = options[CALL]
    const mod = options.protocol === 'https:' ? https : http
    const req = mod.request({ ...options, timeout: timeouts.idleMs, signal: call?.signal }, (res) => {
      if (call && RETRYABLE.has(res.statusCode ?? 0)) call.swallowed = readUpstreamError(res)
      callback?.(res)
    })
    // Bun never fires the socket timeout while a connect is pending, so a
    // blackholed endpoint would hang without this.
    req.on('socket', (socket: Socket) => {
      if (!socket.connecting) return
      const timer = setTimeout(() => req.destroy(new NetworkTimeout('connect', timeouts.connectMs)), timeouts.connectMs)
      socket.once('connect', () => clearTimeout(timer))
      req.once('close', () => clearTimeout(timer))
    })
    req.on('timeout', () => req.destroy(new NetworkTimeout('idle', timeouts.idleMs)))
    return req
  }
  return { request } as unknown as Transport
}
