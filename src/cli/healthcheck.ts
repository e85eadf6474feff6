// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `stowage healthcheck`: exit 0 only when /readyz answers 200 in time, for the
 * image's HEALTHCHECK, compose `healthcheck:` and Kubernetes exec probes.
 * `stowage version` succeeds with the server down; this does not.
 */
import { parseListen } from '../config/load.ts'
import { parseDuration } from '../lib/duration.ts'
import { parseArgs, UsageError } from './args.ts'

const DEFAULT_TIMEOUT_MS = 500

/** `stowage healthcheck [--url URL] [--timeout DURATION]`; resolves to the exit status. */
export async function healthcheckCommand(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const { flags } = parseArgs(args, { url: 'string', timeout: 'string' })
  const url = readinessURL(flags.url as string | undefined, env)
  const timeout = flags.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(flags.timeout as string)
  if (!timeout) throw new UsageError(`--timeout must be a duration such as 500ms or 2s, got "${flags.timeout}"`)
  const r = await checkReadiness(url, timeout)
  if (!r.ok) {
    console.error(`stowage: not ready: ${r.reason}`)
    return 1
  }
  console.log(`ready (${Math.round(r.ms)} ms)`)
  return 0
}

/**
 * `--url` as given (a bare origin means its /readyz), else /readyz on loopback
 * at the port of $STOWAGE_LISTEN (what quickstart and the image listen on),
 * else 8080.
 */
export function readinessURL(flag: string | undefined, env: Record<string, string | undefined>): URL {
  if (flag !== undefined) {
    let url: URL
    try {
      url = new URL(flag)
    } catch {
      throw new UsageError(`--url must be an http(s) URL, got "${flag}"`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be an http(s) URL, got "${flag}"`)
    if (url.pathname === '/') url.pathname = '/readyz'
    return url
  }
  const listen = env.STOWAGE_LISTEN ? parseListen(env.STOWAGE_LISTEN) : undefined
  if (env.STOWAGE_LISTEN && !listen) throw new UsageError(`STOWAGE_LISTEN must be host:port or :port, got "${env.STOWAGE_LISTEN}"`)
  const host =
    !listen || listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host === '::' ? '[::1]' : listen.host.includes(':') ? `[${listen.host}]` : listen.host
  return new URL(`http://${host}:${listen?.port ?? 8080}/readyz`)
}

export type HealthResult = { ok: true; ms: number } | { ok: false; reason: string }

export async function checkReadiness(url: URL, timeoutMs: number): Promise<HealthResult> {
  const started = performance.now()
  let res: Response
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual', headers: { accept: 'application/json' } })
  } catch (err) {
    const name = (err as Error).name
    if (name === 'TimeoutError' || name === 'AbortError') return { ok: false, reason: `no answer from ${url} within ${timeoutMs} ms` }
    return { ok: false, reason: `cannot reach ${url} (${(err as { code?: string }).code ?? (err as Error).message})` }
  }
  if (res.status === 200) {
    await res.body?.cancel()
    return { ok: true, ms: performance.now() - started }
  }
  let detail = ''
  try {
    const body = (await res.json()) as { checks?: Record<string, { ok: boolean; reason?: string }> }
    const failed = Object.entries(body.checks ?? {}).filter(([, c]) => !c.ok)
    detail = failed.map(([name, c]) => `${name}${c.reason ? `: ${c.reason}` : ''}`).join('; ')
  } catch {
    // Not our /readyz (another program on the port): the status says enough.
  }
  return { ok: false, reason: `${url} answered ${res.status}${detail ? ` (${detail})` : ''}` }
}
