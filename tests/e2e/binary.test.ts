// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The compiled binary alone — copied into an empty directory with no
 * node_modules and a bare environment — serves the UI (index and a deep link),
 * the API explorer with its embedded assets, and the API.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { isolatedBinary, startBinary, type Running } from '../helpers/binary.ts'

let run: Running

beforeAll(async () => {
  const { dir, bin } = isolatedBinary()
  run = await startBinary(bin, dir, ['quickstart', '--data-dir', './data', '--listen', '127.0.0.1:0'])
})
afterAll(() => {
  run.proc.kill('SIGTERM')
})

test('answers /healthz and /readyz', async () => {
  expect((await fetch(`${run.url}/healthz`)).status).toBe(200)
  const ready = await fetch(`${run.url}/readyz`)
  expect(ready.status).toBe(200)
  expect(((await ready.json()) as { status: string }).status).toBe('ready')
})

test('serves the UI index and deep links with a strict CSP', async () => {
  for (const path of ['/', '/admin/users', '/b/local/photos/2024/']) {
    const res = await fetch(`${run.url}${path}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/html')
    expect(await res.text()).toContain('<script type="module"')
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
  }
})

test('serves hashed assets with a long cache and an exact length', async () => {
  const html = await (await fetch(`${run.url}/`)).text()
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!
  const res = await fetch(`${run.url}${asset}`, { headers: { 'accept-encoding': 'identity' } })
  expect(res.status).toBe(200)
  expect(res.headers.get('cache-control')).toContain('immutable')
  expect(Number(res.headers.get('content-length'))).toBe((await res.arrayBuffer()).byteLength)
})

test('serves the API explorer and its embedded bundle, offline', async () => {
  const page = await fetch(`${run.url}/openapi`)
  expect(page.status).toBe(200)
  const html = await page.text()
  expect(html).toContain('/openapi-ui/scalar.js')
  expect(html).not.toMatch(/https?:\/\//)
  const js = await fetch(`${run.url}/openapi-ui/scalar.js`)
  expect(js.status).toBe(200)
  expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000)
  const spec = (await (await fetch(`${run.url}/openapi/json`)).json()) as { paths: Record<string, unknown> }
  expect(Object.keys(spec.paths)).toContain('/api/me')
  expect((await fetch(`${run.url}/swagger`, { redirect: 'manual' })).headers.get('location')).toBe('/openapi')
})

test('quickstart printed a one-time admin password that signs in and must be changed', async () => {
  // The banner follows the listener's first answer by a moment.
  for (let i = 0; i < 100 && !/Password:/.test(run.stderr()); i++) await Bun.sleep(20)
  const password = /Password:\s+(\S+)/.exec(run.stderr())![1]!
  const res = await fetch(`${run.url}/auth/login/local`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) })
  expect(res.status).toBe(200)
  expect(await res.json()).toMatchObject({ status: 'ok', must_change_pw: true })
})

test('unknown API paths are JSON 404s, not the UI', async () => {
  const res = await fetch(`${run.url}/api/nope`)
  expect(res.status).toBe(404)
  expect(await res.json()).toMatchObject({ error: { code: 'not_found' } })
})

test('stops cleanly on SIGTERM', async () => {
  const { dir, bin } = isolatedBinary()
  const other = await startBinary(bin, dir, ['quickstart', '--data-dir', './d', '--listen', '127.0.0.1:0'])
  other.proc.kill('SIGTERM')
  expect(await other.proc.exited).toBe(0)
  expect(other.stdout()).toContain('"msg":"shutting down"')
})
