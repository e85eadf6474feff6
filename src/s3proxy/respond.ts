// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The one place that writes to the client: 100 Continue, every `S3Reply`
 * and every `S3Error` (rendered as S3 XML), on node:http.
 *
 * - Content-Length is exact: the body's own length, or for an empty body to
 *   HEAD the one the reply states (the object's size); a streamed body of
 *   unknown length (the storage gave none) goes out chunked, as it came.
 * - HEAD answers carry their headers and never a body.
 * - A body the client is still sending when the answer goes out is drained
 *   within bounds or the connection closed (see linger.ts).
 * - Each write says how many body bytes reached the socket, for metrics.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pump } from '../http/node-server.ts'
import type { S3Reply } from './call.ts'
import { errorXml, type S3Error } from './errors.ts'
import { expectsContinue, linger } from './linger.ts'

/** Where one answer goes: the exchange, its abort signal, and headers every answer carries (request id, CORS…). */
export type Wire = { req: IncomingMessage; res: ServerResponse; signal: AbortSignal; headers: Record<string, string> }

/** Responses whose 100 Continue has gone out. */
const continued = new WeakSet<ServerResponse>()

/** Lets a client waiting for 100 Continue send its body; called once the request is authorized. */
export function letBodyCome(w: Wire): void {
  if (!continued.has(w.res) && expectsContinue(w.req)) {
    w.res.writeContinue()
    continued.add(w.res)
  }
}

function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length']
  return (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined
}

/** What becomes of a request body still unread when the answer goes out. */
function bodyFate(w: Wire): 'none' | 'linger' | 'close' {
  const req = w.req
  if (!hasBody(req) || req.complete) return 'none'
  return req.destroyed || (expectsContinue(req) && !continued.has(w.res)) ? 'close' : 'linger'
}

/** Writes a reply; resolves with the body bytes written. A stream that fails midway cuts the connection. */
export async function sendReply(w: Wire, reply: S3Reply): Promise<number> {
  const { req, res } = w
  const fate = bodyFate(w)
  const headers: Record<string, string> = { ...reply.headers, ...w.headers }
  if (fate === 'close') headers.connection = 'close'
  const head = req.method === 'HEAD'
  const body = reply.body
  const noContent = reply.status === 204 || reply.status === 304
  if (body.kind === 'bytes') headers['content-length'] = String(body.bytes.byteLength)
  else if (body.kind === 'stream') {
    if (body.length === undefined) delete headers['content-length']
    else headers['content-length'] = String(body.length)
  } else if (noContent) delete headers['content-length']
  else if (!head || headers['content-length'] === undefined) headers['content-length'] = '0'
  let written = 0
  if (body.kind === 'stream' && !head && !noContent) {
    res.writeHead(reply.status, headers)
    written = await pump(body.stream, res, w.signal)
    if (w.signal.aborted) res.destroy()
    else res.end()
  } else {
    if (body.kind === 'stream') body.stream.cancel().catch(() => {})
    res.writeHead(reply.status, headers)
    if (body.kind === 'bytes' && !head && !noContent) {
      written = body.bytes.byteLength
      res.end(body.bytes)
    } else res.end()
  }
  if (fate === 'linger') linger(req)
  return written
}

/** Writes an S3 error document; after the answer has begun, the connection is cut instead. */
export async function sendError(w: Wire, err: S3Error, resource: string, requestId: string): Promise<number> {
  if (w.res.headersSent) {
    w.res.destroy()
    return 0
  }
  const xml = errorXml(err.code, err.message, resource, requestId, err.extras)
  return sendReply(w, { status: err.status, headers: { ...err.headers, 'content-type': 'application/xml' }, body: { kind: 'bytes', bytes: Buffer.from(xml) } })
}
