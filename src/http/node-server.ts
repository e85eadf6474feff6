// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What both listeners (dashboard and S3 proxy) share on top of `node:http`:
 * listening with the same timeouts, a graceful close that waits for requests
 * in flight, and copying a streamed response to the socket with backpressure.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from '../lib/log.ts'
import { takePipe } from '../lib/pipeable.ts'

export type Listener = {
  readonly port: number
  readonly host: string
  /** Stops accepting, waits up to `timeoutMs` for in-flight requests, then cuts what is left. */
  close(timeoutMs: number): Promise<void>
  inFlight(): number
}

export async function listenNode(o: {
  host: string
  port: number
  /** Names the listener in the log. */
  name: string
  logger: Logger
  /** Handles one request; calls `done()` once, when the request no longer holds up a graceful close. */
  onRequest(req: http.IncomingMessage, res: http.ServerResponse, done: () => void): void
  /**
   * `defer`: requests with `Expect: 100-continue` go to onRequest too, which then decides whether
   * to let the body come; without it node:http answers 100 Continue before anything is checked.
   */
  expectContinue: 'auto' | 'defer'
}): Promise<Listener> {
  let inFlight = 0
  let drained: (() => void) | undefined
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    inFlight++
    o.onRequest(req, res, () => {
      inFlight--
      if (inFlight === 0) drained?.()
    })
  }
  const server = http.createServer({ keepAlive: true, requestTimeout: 0, headersTimeout: 15_000 }, onRequest)
  if (o.expectContinue === 'defer') server.on('checkContinue', onRequest)
  server.keepAliveTimeout = 65_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port, o.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const addr = server.address() as AddressInfo
  o.logger.info('listening', { listener: o.name, address: `${addr.address}:${addr.port}` })
  return {
    port: addr.port,
    host: addr.address,
    inFlight: () => inFlight,
    async close(timeoutMs) {
      const closed = new Promise<void>((r) => server.close(() => r()))
      server.closeIdleConnections()
      if (inFlight > 0) await Promise.race([new Promise<void>((r) => (drained = r)), Bun.sleep(timeoutMs)])
      server.closeAllConnections()
      await closed
    },
  }
}

/**
 * Copies a body to the socket, waiting for 'drain' so memory stays flat for slow clients: by its
 * source's own pipe when it has one (lib/pipeable.ts), else read as a web stream.
 */
export async function pump(body: ReadableStream<Uint8Array>, res: http.ServerResponse, signal: AbortSignal): Promise<number> {
  const pipe = takePipe(body)
  if (pipe) return pipe(res, signal)
  const reader = body.getReader()
  let total = 0
  const onAbort = (): void => void reader.cancel().catch(() => {})
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.byteLength
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = (): void => {
            res.off('drain', go)
            res.off('close', go)
            resolve()
          }
          res.on('drain', go)
          res.on('close', go)
        })
        if (signal.aborted) break
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  return total
}

/** A request's headers as a fetch Headers, repeated names kept. */
export function headersOf(req: http.IncomingMessage): Headers {
  const h = new Headers()
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!)
  return h
}
