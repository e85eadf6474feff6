// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * One proxied request from arrival to the end of its response: what was
 * learned along the way (operation, credential, backend) for audit and
 * metrics, and the helpers that write the response to node:http.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ResolvedCredential } from '../credentials/service.ts'
import type { Access } from './classify.ts'
import { errorXml, type S3Error } from './errors.ts'
import type { AuthMode } from './metrics.ts'
import { expectsContinue, linger } from './linger.ts'
import type { Inbound } from './request.ts'

export type Exchange = {
  id: string
  req: IncomingMessage
  res: ServerResponse
  start: number
  now: number
  ip: string
  inb?: Inbound
  /** Operation label (allowlist name, `CORSPreflight` or `unknown`). */
  op: string
  access?: Access
  authMode: AuthMode
  cred?: ResolvedCredential
  /** Access key the client claimed, when authentication failed. */
  claimedKey?: string
  backendId?: string
  bucket?: string
  key?: string
  status: number
  /** `ok`, or a bounded reason for a refusal or failure. */
  reason: string
  bytesIn: number
  bytesOut: number
  upstreamMs?: number
  /** CORS headers for the actual response, when a bucket rule matched. */
  cors?: Record<string, string>
  /** The request has a body the proxy has not (completely) read; an answer then lingers or closes (see linger.ts). */
  bodyPending: boolean
  /** 100 Continue was sent. */
  continued: boolean
  abort: AbortController
}

const SAFE: Record<string, string> = { 'x-content-type-options': 'nosniff' }

/** What happens to an unread body once the answer is out: nothing, drained (linger.ts), or the connection closed. */
function bodyFate(x: Exchange): 'none' | 'linger' | 'close' {
  if (!x.bodyPending) return 'none'
  return (expectsContinue(x.req) && !x.continued) || x.req.destroyed ? 'close' : 'linger'
}

/** The pipeline is about to read the body: a client waiting for 100 Continue gets it now. */
export function letBodyCome(x: Exchange): void {
  if (x.bodyPending && expectsContinue(x.req) && !x.continued) {
    x.res.writeContinue()
    x.continued = true
  }
  x.bodyPending = false
}

export function baseHeaders(x: Exchange): Record<string, string> {
  const h: Record<string, string> = { 'x-amz-request-id': x.id, ...SAFE, ...x.cors }
  if (bodyFate(x) === 'close') h.connection = 'close'
  return h
}

export function sendBody(x: Exchange, status: number, body: string | Uint8Array, headers: Record<string, string>): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  x.status = status
  x.res.writeHead(status, { ...baseHeaders(x), ...headers, 'content-length': String(bytes.length) })
  if (x.req.method === 'HEAD') x.res.end()
  else {
    x.bytesOut += bytes.length
    x.res.end(bytes)
  }
  if (bodyFate(x) === 'linger') linger(x.req)
}

export function sendError(x: Exchange, err: S3Error): void {
  if (x.res.headersSent) {
    x.res.destroy()
    return
  }
  x.reason = err.reason
  const xml = errorXml(err.code, err.message, x.inb?.resource ?? '/', x.id)
  sendBody(x, err.status, xml, { 'content-type': 'application/xml', ...err.headers })
}

/** Access key named in a request's Authorization header or presigned query, for audit rows of refused requests. */
export function claimedAccessKey(authorization: string | undefined, rawQuery: string): string | undefined {
  const m = (authorization && /Credential=([^/,\s]{1,128})\//.exec(authorization)) || /(?:^|&)X-Amz-Credential=([^%/&]{1,128})(?:%2F|\/)/.exec(rawQuery)
  return m ? m[1] : undefined
}

/** The client's address: X-Forwarded-For is believed only from trusted proxies, walked from the right. */
export function clientIp(req: IncomingMessage, trusted: (ip: string) => boolean): string {
  let ip = req.socket.remoteAddress ?? ''
  if (trusted(ip)) {
    const hops = String(req.headers['x-forwarded-for'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    for (let i = hops.length - 1; i >= 0; i--) {
      ip = hops[i]!
      if (!trusted(ip)) break
    }
  }
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip
}
