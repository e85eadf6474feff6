// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The HTTP listener: `node:http` under Bun rather than `Bun.serve`, because
 * Bun.serve drops a Content-Length set on a streamed body (oven-sh/bun#10507)
 * and caps bodies at 128 MiB. Here a streamed download keeps the upstream's
 * exact Content-Length, uploads of any size stream through, and a client
 * disconnect aborts the request's signal so handlers stop their upstream work.
 */
import type http from 'node:http'
import type { Socket } from 'node:net'
import { Readable } from 'node:stream'
import type { RequestContext, RequestMeta } from './context.ts'
import { headersOf, listenNode, pump, type Listener } from './node-server.ts'
import type { Logger } from '../lib/log.ts'

export type FetchHandler = (req: Request) => Promise<Response>

export type ListenerHooks = {
  /** Called once per request after the response ended or the client went away. */
  onDone?(meta: RequestMeta, info: { method: string; status: number; durationMs: number; aborted: boolean; bytesOut: number }): void
}

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

export function listen(opts: {
  host: string
  port: number
  handler: FetchHandler
  context: RequestContext
  logger: Logger
  hooks?: ListenerHooks
  name: string
}): Promise<Listener> {
  return listenNode({
    host: opts.host,
    port: opts.port,
    name: opts.name,
    logger: opts.logger,
    expectContinue: 'auto',
    onRequest: (req, res, done) => void serve(req, res, opts).finally(done),
  })
}

async function serve(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  opts: { handler: FetchHandler; context: RequestContext; logger: Logger; hooks?: ListenerHooks },
): Promise<void> {
  const method = req.method ?? 'GET'
  const abort = new AbortController()
  let finished = false
  res.on('close', () => {
    if (!finished) abort.abort()
  })
  const socket = req.socket as Socket & { encrypted?: boolean }
  const host = safeHost(req.headers.host)
  const headers = headersOf(req)
  const hasBody = !BODYLESS.has(method) && (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0)
  let request: Request
  try {
    request = new Request(`${socket.encrypted ? 'https' : 'http'}://${host}${req.url ?? '/'}`, {
      method,
      headers,
      body: hasBody ? (Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>) : undefined,
      signal: abort.signal,
      // @ts-expect-error duplex is required by the fetch spec for streamed request bodies
      duplex: 'half',
    })
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end('bad request')
    return
  }
  const meta = opts.context.attach(request, { ip: socket.remoteAddress ?? '', tls: Boolean(socket.encrypted) })
  let status = 500
  let bytesOut = 0
  try {
    const response = await opts.handler(request)
    status = response.status
    const out: Record<string, string | string[]> = {}
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') out[name] = value
    })
    const cookies = response.headers.getSetCookie()
    if (cookies.length) out['set-cookie'] = cookies
    // A body the handler never read (an early 4xx) would sit in front of the next request on a kept-alive connection.
    if (hasBody && !req.complete) out.connection = 'close'
    res.writeHead(status, out)
    if (method === 'HEAD' || !response.body || status === 204 || status === 304) {
      response.body?.cancel().catch(() => {})
      res.end()
    } else {
      bytesOut = await pump(response.body, res, abort.signal)
      res.end()
    }
    finished = true
  } catch (err) {
    if (!abort.signal.aborted) {
      opts.logger.error('response failed', { request_id: meta.id, error: (err as Error).message })
      if (!res.headersSent)
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"internal","message":"internal error","detail":""}}')
      else res.destroy()
    }
  } finally {
    finished = true
    opts.hooks?.onDone?.(meta, { method, status, durationMs: performance.now() - meta.start, aborted: abort.signal.aborted, bytesOut })
  }
}

function safeHost(host: string | undefined): string {
  return host && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host) ? host : 'localhost'
}
