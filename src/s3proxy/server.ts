// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The proxy's own listener: node:http handled directly (no Fetch Request in
 * between), because the proxy streams bodies whose exact Content-Length must
 * survive in both directions (Bun.serve drops it on streamed bodies and caps
 * request bodies at 128 MiB), needs the raw request target (Bun.serve
 * normalises `..`), and answers `Expect: 100-continue` only once a request
 * has been authorized, so a refused upload is never sent.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Listener } from '../http/listener.ts'
import type { Logger } from '../lib/log.ts'

export async function listenProxy(o: { host: string; port: number; handle(req: http.IncomingMessage, res: http.ServerResponse): void; logger: Logger }): Promise<Listener> {
  let inFlight = 0
  let drained: (() => void) | undefined
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    inFlight++
    res.on('close', () => {
      inFlight--
      if (inFlight === 0) drained?.()
    })
    o.handle(req, res)
  }
  const server = http.createServer({ keepAlive: true, requestTimeout: 0, headersTimeout: 15_000 }, onRequest)
  // Without this listener node:http would answer 100 Continue before the request is authorized.
  server.on('checkContinue', onRequest)
  server.keepAliveTimeout = 65_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port, o.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const addr = server.address() as AddressInfo
  o.logger.info('listening', { listener: 's3-proxy', address: `${addr.address}:${addr.port}` })
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
