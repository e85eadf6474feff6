// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The proxy's own listener: node:http handled directly (no Fetch Request in
 * between), because the proxy streams bodies whose exact Content-Length must
 * survive in both directions (Bun.serve drops it on streamed bodies and caps
 * request bodies at 128 MiB), needs the raw request target (Bun.serve
 * normalises `..`), and answers `Expect: 100-continue` only once a request
 * has been authorized, so a refused upload is never sent.
 */
import type http from 'node:http'
import { listenNode, type Listener } from '../http/node-server.ts'
import type { Logger } from '../lib/log.ts'

export function listenProxy(o: {
  host: string
  port: number
  handle(req: http.IncomingMessage, res: http.ServerResponse): void
  logger: Logger
}): Promise<Listener> {
  return listenNode({
    host: o.host,
    port: o.port,
    name: 's3-proxy',
    logger: o.logger,
    expectContinue: 'defer',
    onRequest: (req, res, done) => {
      res.on('close', done)
      o.handle(req, res)
    },
  })
}
