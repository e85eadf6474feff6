// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `stowage healthcheck` with the compiled binary: 0 only for a 200 from
 * /readyz, within its timeout; 1 with the reason otherwise. A real server for
 * "ready" and "gone"; small listeners for what a real Stowage does not do on
 * demand (answer 503, accept and never answer).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import net from 'node:net'
import { isolatedBinary, startBinary, type Running } from '../helpers/binary.ts'

let bin: string
let dir: string
let server: Running
const port = (url: string) => new URL(url).port

beforeAll(async () => {
  ;({ bin, dir } = isolatedBinary())
  server = await startBinary(bin, dir, ['quickstart', '--data-dir', './data', '--listen', '127.0.0.1:0', '--no-s3'])
})
afterAll(() => {
  if (server.proc.exitCode === null) server.proc.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

async function healthcheck(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = performance.now()
  const p = Bun.spawn([bin, 'healthcheck', ...args], { cwd: dir, env: { PATH: '/usr/bin:/bin', ...env }, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { code, stdout, stderr, ms: performance.now() - started }
}

test('exits 0 when /readyz answers 200, by --url, by a bare origin, or by the port of STOWAGE_LISTEN', async () => {
  for (const r of [
    await healthcheck(['--url', `${server.url}/readyz`]),
    await healthcheck(['--url', server.url]),
    await healthcheck([], { STOWAGE_LISTEN: `:${port(server.url)}` }),
    await healthcheck([], { STOWAGE_LISTEN: `127.0.0.1:${port(server.url)}` }),
  ]) {
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^ready \(\d+ ms\)\n$/)
  }
}, 60_000)

test('exits 1 naming the failed checks when /readyz is 503', async () => {
  const notReady = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () =>
      Response.json({ status: 'not_ready', checks: { database: { ok: false, reason: 'disk I/O error' }, migrations: { ok: true } } }, { status: 503 }),
  })
  try {
    const r = await healthcheck(['--url', `http://127.0.0.1:${notReady.port}`])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`stowage: not ready: http://127.0.0.1:${notReady.port}/readyz answered 503 (database: disk I/O error)\n`)
    expect(r.stdout).toBe('')
  } finally {
    notReady.stop(true)
  }
}, 60_000)

test('gives up after --timeout (default 500 ms) on a server that accepts and never answers', async () => {
  const silent = net.createServer(() => {})
  await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res))
  const url = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`
  try {
    const quick = await healthcheck(['--url', url])
    expect(quick.code).toBe(1)
    expect(quick.stderr).toContain(`no answer from ${url}/readyz within 500 ms`)
    // The wall time includes the binary's start-up (slow on a loaded machine); the point is that it does not hang.
    expect(quick.ms).toBeGreaterThan(500)
    expect(quick.ms).toBeLessThan(5000)
    const short = await healthcheck(['--url', url, '--timeout', '150ms'])
    expect(short.code).toBe(1)
    expect(short.stderr).toContain('within 150 ms')
  } finally {
    silent.close()
  }
}, 60_000)

test('exits 1 once the server is gone, where `version` would still succeed', async () => {
  const url = server.url
  server.proc.kill('SIGTERM')
  expect(await server.proc.exited).toBe(0)
  const r = await healthcheck(['--url', url])
  expect(r.code).toBe(1)
  expect(r.stderr).toContain(`stowage: not ready: cannot reach ${url}/readyz`)
  const version = Bun.spawnSync([bin, 'version'])
  expect(version.exitCode).toBe(0)
}, 60_000)

test('misuse exits 2', async () => {
  const cases: Array<[string[], Record<string, string>, string]> = [
    [['--url', 'not a url'], {}, '--url must be an http(s) URL'],
    [['--url', 'ftp://127.0.0.1/'], {}, '--url must be an http(s) URL'],
    [['--timeout', 'soon'], {}, '--timeout must be a duration'],
    [['--timeout', '0'], {}, '--timeout must be a duration'],
    [[], { STOWAGE_LISTEN: 'nonsense' }, 'STOWAGE_LISTEN must be host:port'],
  ]
  for (const [args, env, message] of cases) {
    const r = await healthcheck(args, env)
    expect([args, r.code]).toEqual([args, 2])
    expect(r.stderr).toContain(message)
  }
}, 60_000)
