// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The `stowage` command line, run as a real process (`bun src/main.ts …`) in a
 * temp directory with a clean environment.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pkg from '../../package.json' with { type: 'json' }

const ROOT = new URL('../../', import.meta.url).pathname
const BUN = process.execPath
const MAIN = join(ROOT, 'src/main.ts')
const dirs: string[] = []
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'stowage-cli-'))
  dirs.push(d)
  return d
}
const children: Array<ReturnType<typeof Bun.spawn>> = []
afterAll(() => {
  // A failed assertion must not leave a server running.
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const baseEnv = (): Record<string, string> => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1' })

type Run = { code: number; stdout: string; stderr: string }
async function run(args: string[], opts: { stdin?: string; env?: Record<string, string>; cwd?: string } = {}): Promise<Run> {
  const p = Bun.spawn([BUN, MAIN, ...args], {
    cwd: opts.cwd ?? tempDir(),
    env: { ...baseEnv(), ...opts.env },
    stdin: opts.stdin === undefined ? 'ignore' : new TextEncoder().encode(opts.stdin),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { code, stdout, stderr }
}

/** A long-running command: collects output as it comes and waits for a pattern. */
function start(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
  const p = Bun.spawn([BUN, MAIN, ...args], { cwd: opts.cwd ?? tempDir(), env: { ...baseEnv(), ...opts.env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  children.push(p)
  const out = { stdout: '', stderr: '' }
  const pump = async (s: ReadableStream<Uint8Array>, k: 'stdout' | 'stderr') => {
    const d = new TextDecoder()
    for await (const c of s as unknown as AsyncIterable<Uint8Array>) out[k] += d.decode(c, { stream: true })
  }
  const done = Promise.all([pump(p.stdout, 'stdout'), pump(p.stderr, 'stderr')])
  return {
    p,
    out,
    async waitFor(re: RegExp, k: 'stdout' | 'stderr', timeoutMs = 45_000): Promise<RegExpExecArray> {
      const end = Date.now() + timeoutMs
      for (;;) {
        const m = re.exec(out[k])
        if (m) return m
        if (p.exitCode !== null || Date.now() > end) throw new Error(`did not see ${re} (exit ${p.exitCode}):\n${out.stdout}\n${out.stderr}`)
        await Bun.sleep(20)
      }
    },
    async stop(): Promise<number> {
      p.kill('SIGTERM')
      const code = await p.exited
      await done
      return code
    },
  }
}

function writeConfig(dir: string, text: string): string {
  const file = join(dir, 'config.yaml')
  writeFileSync(file, text)
  return file
}

describe('help and usage', () => {
  test('version prints the package version', async () => {
    const r = await run(['version'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe(`stowage ${pkg.version} (bun ${Bun.version})`)
  }, 60_000)

  test('--help lists the commands; no command is a usage error', async () => {
    for (const r of await Promise.all([['--help'], ['-h'], ['help']].map((args) => run(args)))) {
      expect(r.code).toBe(0)
      for (const cmd of ['quickstart', 'serve', 'create-admin', 'hash-password', 'healthcheck', 'backup', 'restore', 'version']) expect(r.stdout).toContain(cmd)
    }
    const none = await run([])
    expect(none.code).toBe(2)
    expect(none.stdout).toContain('Usage: stowage <command>')
  }, 60_000)

  test('--help on each command', async () => {
    const cmds = ['serve', 'quickstart', 'create-admin', 'hash-password', 'healthcheck', 'backup', 'restore', 'version']
    const results = await Promise.all(cmds.map((cmd) => run([cmd, '--help'])))
    results.forEach((r, i) => {
      expect([cmds[i], r.code]).toEqual([cmds[i], 0])
      expect(r.stdout).toStartWith(`Usage: stowage ${cmds[i]}`)
      expect(r.stderr).toBe('')
    })
  }, 60_000)

  test('an unknown command exits 2 with a clear message', async () => {
    const r = await run(['frobnicate'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('unknown command "frobnicate"')
    expect(r.stderr).toContain('stowage --help')
  }, 60_000)

  test('an unknown option exits 2 naming it', async () => {
    const cases = [
      ['version', '--bogus'],
      ['serve', '--confg', 'x.yaml'],
      ['create-admin', '--user', 'x'],
    ]
    const results = await Promise.all(cases.map((args) => run(args)))
    results.forEach((r, i) => {
      expect([cases[i], r.code]).toEqual([cases[i], 2])
      expect(r.stderr).toContain(`unknown option ${cases[i]![1]}`)
    })
  }, 60_000)

  test('a bare argument exits 2 without being echoed', async () => {
    const r = await run(['hash-password', 'hunter2-on-the-command-line'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('unexpected argument')
    expect(r.stderr + r.stdout).not.toContain('hunter2')
    const s = await run(['serve', 'config.yaml'])
    expect(s.code).toBe(2)
  }, 60_000)
})

describe('hash-password', () => {
  test('reads the password from stdin and prints an argon2id hash that verifies', async () => {
    const r = await run(['hash-password'], { stdin: 'my break-glass secret\n' })
    expect(r.code).toBe(0)
    const hash = r.stdout.trim()
    expect(hash).toStartWith('$argon2id$')
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1)
    expect(await Bun.password.verify('my break-glass secret', hash)).toBe(true)
    expect(await Bun.password.verify('my break-glass secret\n', hash)).toBe(false)
    expect(r.stdout + r.stderr).not.toContain('my break-glass secret')
  }, 60_000)

  test('an empty stdin is refused', async () => {
    const r = await run(['hash-password'], { stdin: '' })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('empty password')
  }, 60_000)
})

describe('create-admin', () => {
  test('creates an admin with a random password printed once, then resets it', async () => {
    const dir = tempDir()
    // Info-level logs too: they must go to stderr, leaving stdout to the password alone.
    const config = writeConfig(dir, `db:\n  sqlite:\n    path: ${join(dir, 'data', 'stowage.db')}\nlog:\n  level: debug\n`)
    const first = await run(['create-admin', '--username', 'x', '--config', config])
    expect(first.code).toBe(0)
    expect(first.stderr).toContain('admin "x" created')
    expect(first.stderr).toContain('"msg":"database migrated"')
    expect(first.stdout.split('\n')).toHaveLength(2)
    const password = first.stdout.trim()
    expect(password).toMatch(/^[A-Za-z0-9]{24}$/)
    const db = () => new Database(join(dir, 'data', 'stowage.db'), { readonly: true })
    const read = () => {
      const d = db()
      try {
        return d
          .query<{ id: string; role: string; enabled: number; must_change_pw: number; password_hash: string; locked_until: number | null }, []>(
            "SELECT * FROM users WHERE username = 'x'",
          )
          .get()!
      } finally {
        d.close()
      }
    }
    const row = read()
    expect(row).toMatchObject({ role: 'admin', enabled: 1, must_change_pw: 1 })
    expect(row.password_hash).toStartWith('$argon2id$')
    expect(await Bun.password.verify(password, row.password_hash)).toBe(true)

    // Lock it out, disable and demote it, give it a session: the reset undoes all of that.
    const w = new Database(join(dir, 'data', 'stowage.db'))
    w.query("UPDATE users SET role = 'readonly', enabled = 0, locked_until = ?, failed_attempts = 9 WHERE id = ?").run(Date.now() + 3_600_000, row.id)
    w.query(
      "INSERT INTO sessions (id, user_id, identity_source, csrf_token, created_at, last_seen_at, expires_at) VALUES ('s1', ?, 'local', 'c', 0, 0, ?)",
    ).run(row.id, Date.now() + 3_600_000)
    w.close()
    const second = await run(['create-admin', '--username', 'x', '--config', config])
    expect(second.code).toBe(0)
    expect(second.stderr).toContain('admin "x" updated')
    const newPassword = second.stdout.trim()
    expect(newPassword).not.toBe(password)
    const after = read()
    expect(after).toMatchObject({ id: row.id, role: 'admin', enabled: 1, must_change_pw: 1, locked_until: null })
    expect(await Bun.password.verify(newPassword, after.password_hash)).toBe(true)
    expect(await Bun.password.verify(password, after.password_hash)).toBe(false)
    const d = db()
    expect(d.query('SELECT COUNT(*) AS n FROM sessions').get()).toEqual({ n: 0 })
    d.close()
  }, 60_000)

  test('--password-stdin applies the password policy', async () => {
    const dir = tempDir()
    const config = writeConfig(dir, `db:\n  sqlite:\n    path: ${join(dir, 'stowage.db')}\nlog:\n  level: error\n`)
    const weak = await run(['create-admin', '--username', 'y', '--config', config, '--password-stdin'], { stdin: 'short\n' })
    expect(weak.code).toBe(1)
    expect(weak.stderr).toContain('at least 12 characters')
    const ok = await run(['create-admin', '--username', 'y', '--config', config, '--password-stdin'], { stdin: 'a long enough passphrase\n' })
    expect(ok.code).toBe(0)
    expect(ok.stdout).toBe('')
  }, 60_000)

  test('--username is required and must be a valid name', async () => {
    for (const r of await Promise.all([['create-admin'], ['create-admin', '--username', 'bad name']].map((args) => run(args)))) {
      expect(r.code).toBe(2)
      expect(r.stderr).toContain('--username is required')
    }
  }, 60_000)
})

describe('serve', () => {
  test('a missing config file fails clearly', async () => {
    const r = await run(['serve', '--config', 'missing.yaml'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('config file not found: missing.yaml')
  }, 60_000)

  test('a config with unknown keys fails listing every problem', async () => {
    const dir = tempDir()
    const config = writeConfig(dir, 'server:\n  listen: ":8080"\n  tls: true\nauth:\n  session:\n    lifetme: 2h\nlog:\n  level: loud\n')
    const r = await run(['serve', '--config', config])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('invalid configuration')
    expect(r.stderr).toContain('server.tls: unknown key')
    expect(r.stderr).toContain('auth.session.lifetme: unknown key')
    expect(r.stderr).toContain('log.level')
  }, 60_000)

  test('a database newer than the binary is refused', async () => {
    const dir = tempDir()
    const path = join(dir, 'stowage.db')
    const db = new Database(path, { create: true })
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT')
    db.exec("INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 0)")
    db.close()
    const config = writeConfig(dir, `server:\n  listen: 127.0.0.1:0\ndb:\n  sqlite:\n    path: ${path}\n`)
    const r = await run(['serve', '--config', config])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('database schema version 999 is newer than this binary')
  }, 60_000)

  test('serves, logs JSON, and exits 0 on SIGTERM', async () => {
    const dir = tempDir()
    const config = writeConfig(dir, `server:\n  listen: 127.0.0.1:0\ndb:\n  sqlite:\n    path: ${join(dir, 'stowage.db')}\n`)
    const srv = start(['serve', '--config', config])
    const m = await srv.waitFor(/"msg":"listening","listener":"dashboard","address":"127\.0\.0\.1:(\d+)"/, 'stdout')
    const res = await fetch(`http://127.0.0.1:${m[1]}/healthz`)
    expect(await res.json()).toEqual({ status: 'ok' })
    expect(await srv.stop()).toBe(0)
    expect(srv.out.stdout).toContain('"msg":"shutting down"')
    for (const line of srv.out.stdout.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow()
    expect(statSync(join(dir, 'stowage.key')).mode & 0o777).toBe(0o600)
  }, 60_000)

  test('STOWAGE_* environment variables override the file', async () => {
    const dir = tempDir()
    const config = writeConfig(dir, `server:\n  listen: 127.0.0.1:1\ndb:\n  sqlite:\n    path: ${join(dir, 'stowage.db')}\n`)
    const srv = start(['serve', '--config', config], { env: { STOWAGE_LISTEN: '127.0.0.1:0', STOWAGE_LOG_FORMAT: 'text' } })
    const m = await srv.waitFor(/INFO  listening listener=dashboard address=127\.0\.0\.1:(\d+)/, 'stdout')
    // One request round-trip: by then the signal handlers are installed too.
    expect((await fetch(`http://127.0.0.1:${m[1]}/healthz`)).status).toBe(200)
    expect(await srv.stop()).toBe(0)
  }, 60_000)
})

describe('quickstart', () => {
  test('creates the data directory and an admin, serves on the real port, and a restart keeps the data', async () => {
    const data = join(tempDir(), 'data')
    const qs = start(['quickstart', '--data-dir', data, '--listen', '127.0.0.1:0', '--s3-listen', '127.0.0.1:0'])
    const banner = await qs.waitFor(
      /running at (http:\/\/127\.0\.0\.1:(\d+))\s+S3 endpoint: (http:\/\/127\.0\.0\.1:\d+)[\s\S]*Sign in as:\s+admin\s+Password:\s+(\S+)/,
      'stderr',
    )
    const [, base, port, s3, password] = banner
    expect(Number(port)).toBeGreaterThan(0)
    expect(s3).not.toBe(base)
    expect((await fetch(`${s3}/`)).status).toBe(403)
    const login = await fetch(`${base}/auth/login/local`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    })
    expect(login.status).toBe(200)
    expect(await login.json()).toEqual({ status: 'ok', source: 'local', must_change_pw: true })
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    const csrf = /stowage_csrf=([^;]+)/.exec(cookie)![1]!
    const changed = await fetch(`${base}/api/me/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
      body: JSON.stringify({ current_password: password, new_password: 'my own quickstart password' }),
    })
    expect(changed.status).toBe(200)
    const backends = (await (await fetch(`${base}/api/backends`, { headers: { cookie } })).json()) as { backends: Array<{ id: string }> }
    expect(backends.backends.map((b) => b.id)).toContain('local')
    expect(await qs.stop()).toBe(0)
    expect(existsSync(join(data, 'stowage.db'))).toBe(true)
    expect(existsSync(join(data, 'objects'))).toBe(true)
    expect(statSync(join(data, 'stowage.key')).mode & 0o777).toBe(0o600)

    // A second start finds the admin and prints no password.
    const again = start(['quickstart', '--data-dir', data, '--listen', '127.0.0.1:0', '--no-s3'])
    const m = await again.waitFor(/running at (http:\/\/127\.0\.0\.1:\d+) \(data in/, 'stderr')
    expect(again.out.stderr).not.toContain('Password:')
    expect(again.out.stderr).not.toContain('S3 endpoint')
    expect(again.out.stdout).not.toContain('"listener":"s3-proxy"')
    const relogin = await fetch(`${m[1]}/auth/login/local`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'my own quickstart password' }),
    })
    expect(relogin.status).toBe(200)
    expect(await again.stop()).toBe(0)

    // The printed recovery hint works.
    const hint = /Run: STOWAGE_SQLITE_PATH=(\S+) stowage create-admin --username admin/.exec(again.out.stderr)
    expect(hint?.[1]).toBe(join(data, 'stowage.db'))
    const reset = await run(['create-admin', '--username', 'admin'], { env: { STOWAGE_SQLITE_PATH: hint![1]! } })
    expect(reset.code).toBe(0)
    expect(reset.stderr).toContain('admin "admin" updated')
  }, 120_000)

  test('a bad --listen is a usage error', async () => {
    const r = await run(['quickstart', '--data-dir', tempDir(), '--listen', 'nonsense'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--listen must be host:port')
  }, 60_000)

  test('a bad --s3-listen, or --s3-listen with --no-s3, is a usage error; the two listeners must differ', async () => {
    const bad = await run(['quickstart', '--data-dir', tempDir(), '--s3-listen', 'nonsense'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--s3-listen must be host:port')
    const both = await run(['quickstart', '--data-dir', tempDir(), '--s3-listen', ':9000', '--no-s3'])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('exclude each other')
    const same = await run(['quickstart', '--data-dir', tempDir(), '--listen', '127.0.0.1:18555', '--s3-listen', '127.0.0.1:18555'])
    expect(same.code).toBe(1)
    expect(same.stderr).toContain('s3_proxy.listen: must differ from server.listen')
  }, 60_000)
})
