// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `stowage serve` as a real process (`bun src/main.ts`) on a real port, with
 * a data directory that outlives it: tests kill it (SIGKILL included),
 * restart it on the same database and check what survived. An admin is
 * created with `create-admin` before the first start; an `fs` backend
 * `local` is always there.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cookiesOf } from './app.ts'
import type { S3Env } from './s3.ts'

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname

export const ADMIN_PASSWORD = 'correct horse battery staple'

export type Session = { cookie: string; csrf: string }

export type ServerProcess = {
  readonly url: string
  /** The S3 proxy's address, when started with `rgw`. */
  readonly proxyUrl: string
  readonly dir: string
  /** Root of the `fs` backend `local`. */
  readonly objects: string
  /** Everything the current process printed. */
  output(): string
  start(): Promise<void>
  kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>
  signIn(username?: string, password?: string): Promise<Session>
  call(
    session: Session | undefined,
    method: string,
    path: string,
    init?: { json?: unknown; body?: BodyInit; headers?: Record<string, string> },
  ): Promise<Response>
  /** Kills the process (if running) and removes the data directory. */
  dispose(): Promise<void>
}

/**
 * With `rgw`, also an `s3` backend `rgw` on that server and the S3 proxy on an ephemeral port.
 * With `replica`, the process is one replica of a fleet: its store is that PostgreSQL
 * database, its `local` backend that directory and its master key that key, only the
 * first replica (`admin: true`) creates the admin, and public share links are not rate
 * limited (tests spread many downloads from one address over the replicas); its `env`
 * is added to the process's environment.
 */
export async function serverProcess(
  o: { rgw?: S3Env; replica?: { postgresUrl: string; objects: string; secretKey: string; admin: boolean; env?: Record<string, string> } } = {},
): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-proc-'))
  const objects = o.replica?.objects ?? join(dir, 'objects')
  mkdirSync(objects, { recursive: true })
  const store = o.replica ? `  driver: postgres\n  postgres:\n    url_env: STOWAGE_POSTGRES_URL\n    pool_size: 4\n` : ''
  const config = join(dir, 'config.yaml')
  const rgw = o.rgw
    ? `  - id: rgw\n    type: s3\n    endpoint: ${o.rgw.endpoint}\n    region: ${o.rgw.region}\n    path_style: true\n    access_key_env: RGW_AK\n    secret_key_env: RGW_SK\ns3_proxy:\n  enabled: true\n  listen: "127.0.0.1:0"\n`
    : ''
  writeFileSync(
    config,
    `server:\n  listen: "127.0.0.1:0"\ndb:\n${store}  sqlite:\n    path: ${join(dir, 'stowage.db')}\nratelimit:\n  api_per_minute: 0\n  login_per_ip: 1000\n${o.replica ? '  share_per_minute: 0\n' : ''}log:\n  level: info\nbackends:\n  - id: local\n    type: fs\n    root: ${objects}\n${rgw}`,
  )
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    NO_COLOR: '1',
    ...(o.rgw ? { RGW_AK: o.rgw.accessKey, RGW_SK: o.rgw.secretKey } : {}),
    ...(o.replica ? { STOWAGE_POSTGRES_URL: o.replica.postgresUrl, STOWAGE_SECRET_KEY: o.replica.secretKey, ...o.replica.env } : {}),
  }
  if (o.replica?.admin !== false) await createAdmin(config, env)
  const wantsProxy = o.rgw !== undefined || /^(true|1|yes|on)$/i.test(o.replica?.env?.STOWAGE_S3_PROXY__ENABLED ?? '')

  let proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'> | undefined
  let out = ''
  let url = ''
  let proxyUrl = ''

  const start = async (): Promise<void> => {
    out = ''
    proc = Bun.spawn([process.execPath, MAIN, 'serve', '--config', config], { env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
    for (const s of [proc.stdout, proc.stderr]) {
      void (async () => {
        const d = new TextDecoder()
        for await (const c of s as unknown as AsyncIterable<Uint8Array>) out += d.decode(c, { stream: true })
      })()
    }
    const deadline = Date.now() + 45_000
    while (Date.now() < deadline) {
      const m = /"msg":"listening","listener":"dashboard","address":"([^"]+)"/.exec(out)
      const proxy = /"msg":"listening","listener":"s3-proxy","address":"([^"]+)"/.exec(out)
      if (
        m &&
        (proxy || !wantsProxy) &&
        (await fetch(`http://${m[1]}/healthz`)
          .then((r) => r.ok)
          .catch(() => false))
      ) {
        url = `http://${m[1]}`
        proxyUrl = proxy ? `http://${proxy[1]}` : ''
        return
      }
      if (proc.exitCode !== null) break
      await Bun.sleep(25)
    }
    proc.kill('SIGKILL')
    throw new Error(`stowage serve did not start:\n${out}`)
  }

  const kill = async (signal: 'SIGKILL' | 'SIGTERM'): Promise<void> => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill(signal)
    await proc.exited
  }

  const call: ServerProcess['call'] = (session, method, path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers }
    if (session) {
      headers.cookie = session.cookie
      if (method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = session.csrf
    }
    let body = init.body
    if (init.json !== undefined) {
      body = JSON.stringify(init.json)
      headers['content-type'] ??= 'application/json'
    }
    return fetch(`${url}${path}`, { method, headers, body })
  }

  return {
    get url() {
      return url
    },
    get proxyUrl() {
      return proxyUrl
    },
    dir,
    objects,
    output: () => out,
    start,
    kill,
    call,
    async signIn(username = 'admin', password = ADMIN_PASSWORD) {
      const res = await call(undefined, 'POST', '/auth/login/local', { json: { username, password } })
      if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`)
      const cookie = cookiesOf(res)
      return { cookie, csrf: /stowage_csrf=([^;]+)/.exec(cookie)![1]! }
    },
    async dispose() {
      await kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function createAdmin(config: string, env: Record<string, string>): Promise<void> {
  const admin = Bun.spawn([process.execPath, MAIN, 'create-admin', '--username', 'admin', '--password-stdin', '--config', config], {
    env,
    stdin: new TextEncoder().encode(ADMIN_PASSWORD + '\n'),
    stdout: 'ignore',
    stderr: 'pipe',
  })
  if ((await admin.exited) !== 0) throw new Error(`create-admin failed: ${await new Response(admin.stderr).text()}`)
}
