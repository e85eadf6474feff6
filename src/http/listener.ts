// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The HTTP listener: `node:http` under Bun rather than `Bun.serve`, because
 * Bun.serve drops a Content-Length set on a streamed body (oven-sh/bun#10507)
 * and caps bodies at 128 MiB. Here a streamed download keeps the upstream's
 * exact Content-Length, uploads of any size stream through, and a client
 * disconnect aborts the request's signal so handlers stop their upstream work.
 */
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Readable } from 'node:stream'
import type { RequestContext, RequestMeta } from './context.ts'
import type { Logger } from '../lib/log.ts'

export type FetchHandler = (req: Request) => Promise<Response>

export type ListenerHooks = {
  /** Called once per request after the response ended or the client went away. */
  onDone?(meta: RequestMeta, info: { method: string; status: number; durationMs: number; aborted: boolean; bytesOut: number }): void
}

export type Listener = {
  readonly port: number
  readonly host: string
  /** Stops accepting, waits up to `timeoutMs` for in-flight requests, then cuts what is left. */
  close(timeoutMs: number): Promise<void>
  inFlight(): number
}

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

export async function listen(opts: {
  host: string
  port: number
  handler: FetchHandler
  context: RequestContext
  logger: Logger
  hooks?: ListenerHooks
  name: string
}): Promise<Listener> {
  let inFlight = 0
  let drained: (() => void) | undefined
  const server = http.createServer({ keepAlive: true, requestTimeout: 0, headersTimeout: 15_000 }, (req, res) => {
    inFlight++
    serve(req, res, opts).finally(() => {
      inFlight--
      if (inFlight === 0) drained?.()
    })
  })
  server.keepAliveTimeout = 65_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const addr = server.address() as AddressInfo
  opts.logger.info('listening', { listener: opts.name, address: `${addr.address}:${addr.port}` })
  return {
    port: addr.port,
    host: addr.address,
    inFlight: () => inFlight,
    async close(timeoutMs) {
      const closed = new Promise<void>((r) => server.close(() => r()))
      server.closeIdleConnections()
      if (inFlight > 0) {
        await Promise.race([new Promise<void>((r) => (drained = r)), Bun.sleep(timeoutMs)])
      }
      server.closeAllConnections()
      await closed
    },
  }
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
  const headers = new Headers()
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!)
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
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"internal","message":"internal error","detail":""}}')
      else res.destroy()
    }
  } finally {
    finished = true
    opts.hooks?.onDone?.(meta, { method, status, durationMs: performance.now() - meta.start, aborted: abort.signal.aborted, bytesOut })
  }
}

/** Copies a web stream to the socket, waiting for 'drain' so memory stays flat for slow clients. */
async function pump(body: ReadableStream<Uint8Array>, res: http.ServerResponse, signal: AbortSignal): Promise<number> {
  const reader = body.getReader()
  let total = 0
  const onAbort = () => reader.cancel().catch(() => {})
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.byteLength
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done)
            res.off('close', done)
            resolve()
          }
          res.on('drain', done)
          res.on('close', done)
        })
        if (signal.aborted) break
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  return total
}

function safeHost(host: string | undefined): string {
  return host && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host) ? host : 'localhost'
}
