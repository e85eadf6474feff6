// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A real app on a real store — an SQLite file in a temp dir, or a fresh
 * PostgreSQL database when STOWAGE_TEST_STORE=postgres (tests/helpers/store.ts)
 * — driven through its fetch handler (the same code path the listener uses).
 * argon2id runs with small parameters so a suite can create many users quickly.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, type AppOptions, type Stowage } from '../../src/app.ts'
import { buildConfig } from '../../src/config/load.ts'
import { silentLogger } from '../../src/lib/log.ts'
import type { Role } from '../../src/auth/roles.ts'
import { ulid } from '../../src/lib/ids.ts'
import { freshStore, type FreshStore } from './store.ts'

export const FAST_HASH = { memoryCost: 1024, timeCost: 1 }
export const PASSWORD = 'correct horse battery staple'

export type Client = { cookie: string; csrf: string; userId: string; username: string; role: Role }

export type CallOptions = { as?: Client; json?: unknown; body?: BodyInit; headers?: Record<string, string>; csrf?: string | false }

export type TestApp = {
  s: Stowage
  dir: string
  call(method: string, path: string, opts?: CallOptions): Promise<Response>
  /** Creates a user directly in the store and signs in over HTTP. */
  user(role: Role, opts?: { username?: string; password?: string; mustChangePw?: boolean }): Promise<Client>
  login(username: string, password: string, headers?: Record<string, string>): Promise<Response>
  close(): Promise<void>
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a }
  for (const [k, v] of Object.entries(b)) {
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object'
        ? deepMerge(out[k] as Record<string, unknown>, v as Record<string, unknown>)
        : v
  }
  return out
}

export function cookiesOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ')
}

export async function testApp(
  doc: Record<string, unknown> = {},
  opts: AppOptions & { env?: Record<string, string>; store?: FreshStore } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-test-'))
  const store = opts.store ?? (await freshStore(dir))
  // Suites about roles and storage run with the open policy of before grants; the grant suites
  // (tests/grants) set `access.default: none`, the shipped default, and grant what they test.
  const base = { db: store.doc, ratelimit: { login_per_ip: 1000 }, access: { default: 'read-write' } }
  const config = buildConfig(deepMerge(base, doc), { ...store.env, ...opts.env }, 'test')
  let s: Stowage
  try {
    s = await createApp(config, { hashParams: FAST_HASH, defaultMetrics: false, logger: silentLogger, ...opts })
  } catch (err) {
    await store.drop()
    throw err
  }
  let n = 0

  const call: TestApp['call'] = (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers }
    if (o.as) {
      headers.cookie = [o.as.cookie, headers.cookie].filter(Boolean).join('; ')
      if (o.csrf !== false && !['GET', 'HEAD'].includes(method)) headers['x-csrf-token'] ??= o.csrf ?? o.as.csrf
    }
    let body = o.body
    if (o.json !== undefined) {
      body = JSON.stringify(o.json)
      headers['content-type'] ??= 'application/json'
    }
    return s.fetch(new Request(`http://localhost${path}`, { method, headers, body }))
  }

  const login: TestApp['login'] = (username, password, headers = {}) =>
    s.fetch(
      new Request('http://localhost/auth/login/local', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ username, password }),
      }),
    )

  return {
    s,
    dir,
    call,
    login,
    async user(role, o = {}) {
      const username = o.username ?? `${role}${++n}`
      const password = o.password ?? PASSWORD
      const id = ulid()
      await s.users.insert({
        id,
        username,
        email: null,
        passwordHash: await s.passwords.hash(password),
        role,
        identitySource: 'local',
        mustChangePw: o.mustChangePw ?? false,
        createdBy: null,
        now: Date.now(),
      })
      const res = await login(username, password)
      if (res.status !== 200) throw new Error(`login as ${username} failed: ${res.status} ${await res.text()}`)
      const cookie = cookiesOf(res)
      return { cookie, csrf: /stowage_csrf=([^;]+)/.exec(cookie)![1]!, userId: id, username, role }
    },
    async close() {
      await s.close()
      if (!opts.store) await store.drop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res
    .clone()
    .json()
    .catch(() => ({}))) as { error?: { code?: string } }
  return body.error?.code
}

/** What the proxy would make of an access key now: its owner's state is read first, as before a signature check. */
export async function resolved(t: TestApp, accessKey: string, now: number): Promise<ReturnType<TestApp['s']['credentials']['resolve']>> {
  await t.s.credentials.warm(accessKey)
  return t.s.credentials.resolve(accessKey, now)
}
