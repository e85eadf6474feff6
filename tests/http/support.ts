// SPDX-License-Identifier: AGPL-3.0-or-later
/** Shared by the HTTP, auth and health tests: a log capture and an app on a real port. */
import { rmSync } from 'node:fs'
import { createLogger, type Logger } from '../../src/lib/log.ts'
import { serve, type Running } from '../../src/server.ts'
import { testApp, type TestApp } from '../helpers/app.ts'
import type { AppOptions } from '../../src/app.ts'

export type Captured = { logger: Logger; lines: string[]; entries(): Array<Record<string, unknown>> }

/** A JSON logger at debug level that keeps every line. */
export function captureLogger(): Captured {
  const lines: string[] = []
  const logger = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) })
  return { logger, lines, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) }
}

export type Served = { t: TestApp; running: Running; base: string; port: number; stop(): Promise<void> }

/** A test app listening on 127.0.0.1 with an ephemeral port (same handler as `stowage serve`). */
export async function servedApp(doc: Record<string, unknown> = {}, opts: AppOptions & { env?: Record<string, string> } = {}): Promise<Served> {
  const t = await testApp(doc, opts)
  const running = await serve(t.s, { listen: '127.0.0.1:0' })
  const port = running.dashboard.port
  let stopped = false
  return {
    t,
    running,
    port,
    base: `http://127.0.0.1:${port}`,
    async stop() {
      if (stopped) return
      stopped = true
      // stop() already closed the app; only the temp directory is left.
      await running.stop()
      rmSync(t.dir, { recursive: true, force: true })
    },
  }
}

/** The access log is written after the response is sent, so tests wait for it. */
export { until } from '../helpers/until.ts'
