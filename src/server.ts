// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Runs a built app on real sockets: the dashboard listener (and, when enabled,
 * the S3 proxy listener) around the request pipeline (http/pipeline.ts), and a graceful
 * shutdown on SIGTERM/SIGINT that drains in-flight requests.
 */
import type { Stowage } from './app.ts'
import { parseListen } from './config/load.ts'
import { listen } from './http/listener.ts'
import type { Listener } from './http/node-server.ts'

export type Running = { dashboard: Listener; /** The S3 proxy listener, when `s3_proxy.enabled`. */ proxy?: Listener; extra: Listener[]; stop(): Promise<void> }

export async function serve(s: Stowage, opts: { listen?: string; extra?: (s: Stowage) => Promise<Listener[]> } = {}): Promise<Running> {
  const addr = parseListen(opts.listen ?? s.config.server.listen)!
  const dashboard = await listen({
    name: 'dashboard',
    host: addr.host,
    port: addr.port,
    handler: s.fetch,
    context: s.context,
    logger: s.logger,
    hooks: s.pipeline,
  })
  const proxy = s.config.s3_proxy.enabled ? await s.s3proxy.listen() : undefined
  const extra = opts.extra ? await opts.extra(s) : []
  let stopping: Promise<void> | undefined
  return {
    dashboard,
    ...(proxy ? { proxy } : {}),
    extra,
    stop() {
      stopping ??= (async () => {
        const timeout = s.config.server.shutdown_timeout
        await Promise.all([dashboard.close(timeout), ...(proxy ? [proxy.close(timeout)] : []), ...extra.map((l) => l.close(timeout))])
        await s.close()
      })()
      return stopping
    },
  }
}

/** Stops on the first SIGTERM/SIGINT; a second signal exits at once. */
export function stopOnSignals(running: Running, logger: Stowage['logger']): void {
  let signalled = false
  const onSignal = (sig: string) => {
    if (signalled) process.exit(1)
    signalled = true
    logger.info('shutting down', { signal: sig, in_flight: running.dashboard.inFlight() })
    running.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error('shutdown failed', { error: (err as Error).message })
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  process.on('SIGINT', () => onSignal('SIGINT'))
}
