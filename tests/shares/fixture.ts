// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Share-link suites run on the object fixture (fs driver and real RGW), with
 * helpers for creating shares as a user and calling the public endpoints as
 * an anonymous browser that keeps its cookies.
 */
import { writeFileSync } from 'node:fs'
import type { AppOptions } from '../../src/app.ts'
import type { ShareDTO } from '../../src/shares/model.ts'
import { cookiesOf, type Client } from '../helpers/app.ts'
import { json, objectEnv, type Env, type Kind } from '../objects/fixture.ts'

export { KINDS, json, auditRows, type Env, type Kind } from '../objects/fixture.ts'
/** The server's own response schema, so the tests read what the API declares. */
export type { ShareDTO }

/** An app on `kind` with the share rate limit off unless a test turns it on. */
export function shareEnv(kind: Kind, o: { app?: Record<string, unknown>; opts?: AppOptions } = {}): Promise<Env> {
  const app = { ...o.app, ratelimit: { api_per_minute: 0, share_per_minute: 0, ...(o.app?.ratelimit as object | undefined) } }
  return objectEnv(kind, { app, ...(o.opts ? { opts: o.opts } : {}) })
}

/** Creates a share through the API; throws unless it is 201. */
export async function makeShare(e: Env, body: Record<string, unknown>, as: Client = e.user): Promise<ShareDTO> {
  const res = await e.t.call('POST', '/api/shares', { as, json: { backend_id: e.bid, bucket: e.bucket, ...body } })
  if (res.status !== 201) throw new Error(`share create failed: ${res.status} ${await res.text()}`)
  return json<ShareDTO>(res)
}

/** An anonymous browser: remembers cookies per share path, as a browser would. */
export class Visitor {
  private jar = new Map<string, string>()
  constructor(
    private readonly e: Env,
    readonly ip?: string,
  ) {}

  cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  has(name: string): boolean {
    return this.jar.has(name)
  }

  forget(name?: string): void {
    if (name) this.jar.delete(name)
    else this.jar.clear()
  }

  async call(method: string, path: string, o: { json?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...o.headers }
    const c = this.cookie()
    if (c) headers.cookie = c
    const res = await this.e.t.call(method, path, { ...(o.json !== undefined ? { json: o.json } : {}), headers })
    for (const pair of cookiesOf(res).split('; ').filter(Boolean)) {
      const i = pair.indexOf('=')
      this.jar.set(pair.slice(0, i), pair.slice(i + 1))
    }
    return res
  }

  info(code: string, query = ''): Promise<Response> {
    return this.call('GET', `/s/${code}/info${query}`)
  }

  unlock(code: string, password: string): Promise<Response> {
    return this.call('POST', `/s/${code}/unlock`, { json: { password } })
  }

  raw(code: string, query = '', headers: Record<string, string> = {}): Promise<Response> {
    return this.call('GET', `/s/${code}/raw${query}`, { headers })
  }
}

/** The share's row as stored (for counters the API does not show mid-test). */
export async function row(e: Env, id: string): Promise<{ download_count: number; revoked: number; expires_at: number | null }> {
  return (await e.t.s.db.get('SELECT download_count, revoked, expires_at FROM shares WHERE id = ?', [id])) as {
    download_count: number
    revoked: number
    expires_at: number | null
  }
}

export async function drain(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => {})
}

/** Entry names and contents of a zip, read back with Python's zipfile (which also checks every CRC). */
export function unzip(dir: string, bytes: Uint8Array): Record<string, string> {
  const file = `${dir}/z-${Math.random().toString(36).slice(2)}.zip`
  writeFileSync(file, bytes)
  const script =
    'import sys,json,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps({n: z.read(n).decode("latin1") for n in z.namelist()}))'
  const proc = Bun.spawnSync([Bun.which('python3', { PATH: '/usr/bin:/bin' }) ?? 'python3', '-c', script, file])
  if (proc.exitCode !== 0) throw new Error(`bad zip: ${proc.stderr.toString()}`)
  return JSON.parse(proc.stdout.toString()) as Record<string, string>
}
