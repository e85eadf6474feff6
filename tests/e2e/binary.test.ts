// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The compiled binary alone — copied into an empty directory with no
 * node_modules and a bare environment — serves the UI (index and a deep link),
 * the API explorer with its embedded assets, and the API; and writes nothing
 * to stdout but one JSON object per line, one access line per request on
 * both listeners.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { isolatedBinary, startBinary, type Running } from '../helpers/binary.ts'

let run: Running

beforeAll(async () => {
  const { dir, bin } = isolatedBinary()
  run = await startBinary(bin, dir, ['quickstart', '--data-dir', './data', '--listen', '127.0.0.1:0', '--s3-listen', '127.0.0.1:0'])
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
  expect(html).not.toMatch(/https?:\/\//)
  const bundle = /src="(\/assets\/swagger-ui-[\d.]+\/swagger-ui-bundle\.js)"/.exec(html)?.[1]
  expect(bundle).toBeString()
  const js = await fetch(`${run.url}${bundle}`)
  expect(js.status).toBe(200)
  expect(js.headers.get('cache-control')).toContain('immutable')
  expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000)
  expect((await fetch(`${run.url}${bundle!.replace('swagger-ui-bundle.js', 'swagger-ui.css')}`)).status).toBe(200)
  const spec = (await (await fetch(`${run.url}/openapi/json`)).json()) as { paths: Record<string, unknown> }
  expect(Object.keys(spec.paths)).toContain('/api/me')
  const swagger = await fetch(`${run.url}/swagger`, { redirect: 'manual' })
  expect(swagger.status).toBe(200)
  expect(await swagger.text()).toBe(html)
})

test('quickstart printed a one-time admin password that signs in and must be changed', async () => {
  // The banner follows the listener's first answer by a moment.
  for (let i = 0; i < 100 && !/Password:/.test(run.stderr()); i++) await Bun.sleep(20)
  const password = /Password:\s+(\S+)/.exec(run.stderr())![1]!
  const res = await fetch(`${run.url}/auth/login/local`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  })
  expect(res.status).toBe(200)
  expect(await res.json()).toMatchObject({ status: 'ok', must_change_pw: true })
})

test('quickstart serves S3 too and prints its endpoint next to the password', async () => {
  for (let i = 0; i < 100 && !/S3 endpoint:/.test(run.stderr()); i++) await Bun.sleep(20)
  const endpoint = /S3 endpoint: (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stderr())![1]!
  expect(run.stderr().indexOf('S3 endpoint:')).toBeLessThan(run.stderr().indexOf('Password:'))
  expect(endpoint).toBe(`http://127.0.0.1:${/"listener":"s3-proxy","address":"127\.0\.0\.1:(\d+)"/.exec(run.stdout())![1]}`)
  // An unsigned request is an S3 refusal, not a connection error.
  const res = await fetch(`${endpoint}/`)
  expect(res.status).toBe(403)
  expect(await res.text()).toContain('<Code>MissingAuthenticationToken</Code>')
})

test('unknown API paths are JSON 404s, not the UI', async () => {
  const res = await fetch(`${run.url}/api/nope`)
  expect(res.status).toBe(404)
  expect(await res.json()).toMatchObject({ error: { code: 'not_found' } })
})

test('stops cleanly on SIGTERM', async () => {
  const { dir, bin } = isolatedBinary()
  const other = await startBinary(bin, dir, ['quickstart', '--data-dir', './d', '--listen', '127.0.0.1:0', '--no-s3'])
  other.proc.kill('SIGTERM')
  expect(await other.proc.exited).toBe(0)
  expect(other.stdout()).toContain('"msg":"shutting down"')
})

describe('stdout', () => {
  test('is one JSON object per line, with one access line per request on both listeners', async () => {
    const { dir, bin } = isolatedBinary()
    writeFileSync(
      join(dir, 'config.yaml'),
      [
        'server:',
        '  listen: 127.0.0.1:0',
        'db:',
        '  sqlite:',
        '    path: ./stowage.db',
        's3_proxy:',
        '  enabled: true',
        '  listen: 127.0.0.1:0',
        'backends:',
        '  - id: local',
        '    type: fs',
        '    root: ./objects',
        '',
      ].join('\n'),
    )
    const other = await startBinary(bin, dir, ['serve', '--config', 'config.yaml'])
    try {
      const proxy = /"listener":"s3-proxy","address":"([^"]+)"/.exec(other.stdout())![1]!
      // The first requests make Elysia compile every route's hooks, guarded ones included.
      const ids: string[] = []
      for (const path of ['/', '/healthz', '/api/me', '/api/backends', '/api/admin/users', '/api/auth/config', '/openapi/json']) {
        const id = `stdout-${ids.length}`
        ids.push(id)
        await fetch(`${other.url}${path}`, { headers: { 'x-request-id': id } })
      }
      const s3 = await fetch(`http://${proxy}/some-bucket/some-key`)
      expect(s3.status).toBe(403)
      const s3Id = s3.headers.get('x-amz-request-id')!
      await Bun.sleep(200)
      const lines = other
        .stdout()
        .split('\n')
        .filter((l) => l !== '')
      for (const line of lines)
        expect([
          line,
          (() => {
            try {
              return typeof JSON.parse(line)
            } catch {
              return 'not JSON'
            }
          })(),
        ]).toEqual([line, 'object'])
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
      for (const id of ids) expect(entries.filter((e) => e.msg === 'request' && e.request_id === id)).toHaveLength(1)
      expect(entries.filter((e) => e.msg === 'request' && e.request_id === s3Id)).toEqual([
        expect.objectContaining({ listener: 's3-proxy', method: 'GET', status: 403 }),
      ])
    } finally {
      other.proc.kill('SIGTERM')
      await other.proc.exited
    }
  })
})
