// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The S3 proxy as the app sees it: the request handler, its metrics, the
 * listener (started by `serve()` when `s3_proxy.enabled`), and the public
 * URLs shown with credentials.
 */
import type { Registry as PromRegistry } from 'prom-client'
import { parseListen } from '../config/load.ts'
import type { ProxyUrls } from '../credentials/urls.ts'
import { proxyUrls } from '../credentials/urls.ts'
import type { Listener } from '../http/node-server.ts'
import { createProxyMetrics } from './metrics.ts'
import { createS3Proxy, type ProxyDeps } from './proxy.ts'
import { listenProxy } from './server.ts'

export type ProxyService = ReturnType<typeof createProxyService>

export function createProxyService(d: Omit<ProxyDeps, 'metrics'> & { promRegistry: PromRegistry }) {
  const cfg = d.config.s3_proxy
  const metrics = createProxyMetrics(d.promRegistry, () => d.credentials.size())
  const proxy = createS3Proxy({ ...d, metrics })
  const configured = parseListen(cfg.listen)
  let bound: number | undefined

  return {
    enabled: cfg.enabled,
    handle: proxy.handle,
    metrics,
    /** The port clients reach the proxy on: the bound one once listening (so `:0` works), else the configured one. */
    port: (): number => bound ?? configured?.port ?? 8090,
    async listen(): Promise<Listener> {
      const addr = configured ?? { host: '0.0.0.0', port: 8090 }
      const listener = await listenProxy({ host: addr.host, port: addr.port, handle: proxy.handle, logger: d.logger })
      bound = listener.port
      return listener
    },
    /** Endpoint and bucket URLs for DTOs, as seen from a dashboard request. */
    urls(req: Request): ProxyUrls {
      return proxyUrls({
        publicHostname: cfg.public_hostname,
        publicScheme: cfg.public_scheme,
        requestHost: req.headers.get('host'),
        proxyPort: bound ?? configured?.port ?? 8090,
      })
    },
  }
}
