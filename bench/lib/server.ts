// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Runs the compiled binary as its own process, so what /proc reports (RSS,
 * CPU) is the server's alone. The binary is copied into a fresh temp
 * directory first: a rebuild of dist/stowage during a run neither changes the
 * server under test nor fails on a busy executable. Logs go to a file there.
 *
 * @example
 * const srv = await startServer({ config: { backends: [...] }, env: { RGW_AK: ak, RGW_SK: sk }, admin: { username: 'bench', password } })
 * const session = await signIn(srv.url, 'bench', password)
 * await fetch(`${srv.url}/api/me`, { headers: session.headers() })
 * await srv.stop()
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { attachPerf, perfEnv } from './perf.ts'

export const DIST_BINARY = new URL('../../dist/stowage', import.meta.url).pathname

/** A benchmark measures the server, not its limiters: rate limits off, lockout effectively never. */
export const BENCH_CONFIG = {
  log: { level: 'info', format: 'json' },
  ratelimit: { api_per_minute: 0, login_per_ip: 0, share_per_minute: 0 },
  auth: { local: { lockout: { max_attempts: 1_000_000 } } },
}

export type ServerOptions = {
  /** Default dist/stowage (build it with `bun scripts/build.ts`). */
  binary?: string
  /** Merged over BENCH_CONFIG; the database and listen address are filled in. */
  config?: Record<string, unknown>
  /** The whole environment of the server (nothing is inherited), e.g. backend keys named by `*_env`. */
  env?: Record<string, string>
  /** Created with `create-admin --password-stdin` (production argon2id parameters) before the server starts. */
  admin?: { username: string; password: string }
  /** Listener names to wait for besides "dashboard" (e.g. the S3 proxy's). */
  listeners?: string[]
  /** Extra `serve` arguments. */
  args?: string[]
  /** Runs the sources instead of the compiled binary (the benchmarks' `--source`, `--profile` and `--perf` flags). */
  from?: FromSources
}

/**
 * `source`: the sources as they are; `profile`: under `bun --cpu-prof-md`,
 * its profile left in that directory; `perf`: sampled by Linux perf
 * (lib/perf.ts), the report written into that directory and printed at stop.
 */
export type FromSources = { source?: boolean; profile?: string; perf?: string }

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname

/** Whether `from` runs the sources rather than the compiled binary. */
export function runsSources(from: FromSources = {}): boolean {
  return Boolean(from.source || from.profile || from.perf)
}

function sourcesCommand(from: FromSources): string[] | undefined {
  if (from.perf) return [...perfEnv(from.perf), process.execPath, MAIN]
  if (from.profile) return [process.execPath, '--cpu-prof-md', `--cpu-prof-dir=${resolve(from.profile)}`, MAIN]
  return from.source ? [process.execPath, MAIN] : undefined
}

export type BenchServer = {
  /** Dashboard base URL, e.g. http://127.0.0.1:41234 */
  url: string
  /** Base URL of each listener by the name it logs. */
  listeners: Record<string, string>
  pid: number
  dir: string
  configPath: string
  /** Milliseconds from spawn to the first /healthz 200. */
  startMs: number
  log(): string
  stop(): Promise<void>
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a }
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k]
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
        ? merge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v
  }
  return out
}

/** Copies the binary into a new temp directory and returns both paths. */
export function stageBinary(binary = DIST_BINARY): { dir: string; bin: string } {
  if (!existsSync(binary)) throw new Error(`${binary} is missing: build it with \`node_modules/.bin/bun scripts/build.ts\``)
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-'))
  const bin = join(dir, 'stowage')
  copyFileSync(binary, bin)
  Bun.spawnSync(['chmod', '755', bin])
  return { dir, bin }
}

function listenersIn(log: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of log.matchAll(/"msg":"listening","listener":"([^"]+)","address":"([^"]+)"/g)) {
    const addr = m[2]!
    const host = addr.slice(0, addr.lastIndexOf(':'))
    const port = addr.slice(addr.lastIndexOf(':') + 1)
    out[m[1]!] = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${port}`
  }
  return out
}

/** Writes `dir`/config.yaml: BENCH_CONFIG, then `config`, with the database and master key in `dir`. Returns its path. */
export function writeBenchConfig(dir: string, config: Record<string, unknown> = {}, listen = '127.0.0.1:0'): string {
  const path = join(dir, 'config.yaml')
  const doc = merge(merge(BENCH_CONFIG, config), {
    server: { listen, secret_key_file: join(dir, 'stowage.key') },
    db: { sqlite: { path: join(dir, 'stowage.db') } },
  })
  // JSON is YAML.
  writeFileSync(path, JSON.stringify(doc, null, 2))
  return path
}

/** Writes the config, creates the admin if asked, starts `stowage serve` and waits for /healthz 200. */
export async function startServer(o: ServerOptions = {}): Promise<BenchServer> {
  const fromSources = sourcesCommand(o.from ?? {})
  const staged = fromSources ? { dir: mkdtempSync(join(tmpdir(), 'stowage-bench-')), bin: '' } : stageBinary(o.binary)
  const { dir } = staged
  const cmd = fromSources ?? [staged.bin]
  const configPath = writeBenchConfig(dir, o.config)
  // STOWAGE_* from the bench's own environment reach the server, so a run can vary its config.
  const passed = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('STOWAGE_') && e[1] !== undefined))
  const env = { PATH: '/usr/bin:/bin', HOME: dir, ...passed, ...o.env }
  if (o.admin) {
    const r = Bun.spawnSync([...cmd, 'create-admin', '--username', o.admin.username, '--password-stdin', '--config', configPath], {
      cwd: dir,
      env,
      stdin: Buffer.from(`${o.admin.password}\n`),
      stdout: 'pipe',
      stderr: 'pipe',
    })
    if (r.exitCode !== 0) {
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`create-admin failed (${r.exitCode}): ${r.stderr.toString()}${r.stdout.toString()}`)
    }
  }
  const logPath = join(dir, 'server.log')
  const log = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '')
  const started = performance.now()
  const proc = Bun.spawn([...cmd, 'serve', '--config', configPath, ...(o.args ?? [])], {
    cwd: dir,
    env,
    stdin: 'ignore',
    stdout: Bun.file(logPath),
    stderr: Bun.file(join(dir, 'server.err')),
  })
  const want = ['dashboard', ...(o.listeners ?? [])]
  const deadline = Date.now() + 30_000
  let listeners: Record<string, string> = {}
  while (Date.now() < deadline && proc.exitCode === null) {
    listeners = listenersIn(log())
    if (want.every((n) => listeners[n])) {
      const ok = await fetch(`${listeners.dashboard}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      )
      if (ok) break
    }
    await Bun.sleep(10)
  }
  const startMs = performance.now() - started
  const sampler = o.from?.perf && proc.exitCode === null ? attachPerf(proc.pid, o.from.perf) : undefined
  const stop = async (): Promise<void> => {
    if (sampler) console.log(await sampler.stop())
    if (proc.exitCode === null) {
      proc.kill('SIGTERM')
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(15_000).then(() => false)])
      if (!exited) proc.kill('SIGKILL')
    }
    rmSync(dir, { recursive: true, force: true })
  }
  if (!want.every((n) => listeners[n]) || proc.exitCode !== null) {
    const err = existsSync(join(dir, 'server.err')) ? readFileSync(join(dir, 'server.err'), 'utf8') : ''
    const text = `stowage did not become healthy.\nlog:\n${log().slice(-4000)}\nstderr:\n${err.slice(-4000)}`
    await stop()
    throw new Error(text)
  }
  return { url: listeners.dashboard!, listeners, pid: proc.pid, dir, configPath, startMs, log, stop }
}

export type Session = {
  cookie: string
  csrf: string
  /** Request headers for the dashboard API; mutations also carry the CSRF token. */
  headers(opts?: { mutation?: boolean; extra?: Record<string, string> }): Record<string, string>
}

/** Signs in with POST /auth/login/local and returns the session's cookie and CSRF token. */
export async function signIn(url: string, username: string, password: string): Promise<Session> {
  const res = await fetch(`${url}/auth/login/local`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`)
  await res.arrayBuffer()
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ')
  const csrf = /stowage_csrf=([^;]+)/.exec(cookie)?.[1]
  if (!csrf) throw new Error('sign-in set no stowage_csrf cookie')
  return {
    cookie,
    csrf,
    headers(opts = {}) {
      return { cookie, ...(opts.mutation ? { 'x-csrf-token': csrf } : {}), ...opts.extra }
    },
  }
}

/** Mints a virtual S3 key as the signed-in admin (`POST /api/admin/s3-credentials`). */
export async function mintKey(
  srv: BenchServer,
  session: Session,
  body: { backend_id: string; buckets: string[]; description: string },
): Promise<{ access_key: string; secret_key: string }> {
  const res = await fetch(`${srv.url}/api/admin/s3-credentials`, {
    method: 'POST',
    headers: session.headers({ mutation: true, extra: { 'content-type': 'application/json' } }),
    body: JSON.stringify(body),
  })
  if (res.status !== 201) throw new Error(`minting a credential failed: ${res.status} ${await res.text()}`)
  return (await res.json()) as { access_key: string; secret_key: string }
}

/** The config of a server in front of RGW (keys from RGW_AK / RGW_SK) with the S3 listener on an ephemeral port. */
export function rgwFronted(rgw: {
  endpoint: string
  region: string
  accessKey: string
  secretKey: string
}): Pick<ServerOptions, 'config' | 'env' | 'listeners'> {
  return {
    config: {
      backends: [
        {
          id: 'rgw',
          name: 'RGW',
          type: 's3',
          endpoint: rgw.endpoint,
          region: rgw.region,
          access_key_env: 'RGW_AK',
          secret_key_env: 'RGW_SK',
          path_style: true,
        },
      ],
      s3_proxy: { enabled: true, listen: '127.0.0.1:0' },
      quotas: { scan_interval: '0' },
    },
    env: { RGW_AK: rgw.accessKey, RGW_SK: rgw.secretKey },
    listeners: ['s3-proxy'],
  }
}
