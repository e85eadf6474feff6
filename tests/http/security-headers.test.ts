// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Security headers on every kind of response: API JSON, API errors, the SPA
 * and 404s. HSTS only when the client used https — directly or as told by a
 * trusted proxy's X-Forwarded-Proto.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from 'bun:test'
import { embedded } from '../../src/generated/embedded.js'
import { testApp, type Client, type TestApp } from '../helpers/app.ts'
import { servedApp, type Served } from './support.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let t: TestApp
let admin: Client
beforeAll(async () => {
  t = await testApp()
  admin = await t.user('admin')
})
afterAll(() => t.close())

function expectBaseHeaders(res: Response, what: string): void {
  const h = res.headers
  const csp = h.get('content-security-policy') ?? ''
  const scriptSrc =
    csp
      .split(';')
      .map((s) => s.trim())
      .find((s) => s.startsWith('script-src')) ?? ''
  expect([what, scriptSrc]).toEqual([what, "script-src 'self'"])
  expect(scriptSrc).not.toContain('unsafe-inline')
  expect(scriptSrc).not.toContain('unsafe-eval')
  expect(csp).toContain("frame-ancestors 'none'")
  expect(csp).toContain("object-src 'none'")
  expect(csp).toContain("base-uri 'self'")
  expect([what, h.get('x-frame-options')]).toEqual([what, 'DENY'])
  expect([what, h.get('x-content-type-options')]).toEqual([what, 'nosniff'])
  expect([what, h.get('referrer-policy')]).toEqual([what, 'same-origin'])
  expect(h.get('permissions-policy')).toContain('camera=()')
}

describe('over plain http', () => {
  test('API responses, API errors and 404s carry the headers, without HSTS', async () => {
    const cases: Array<[string, Promise<Response>]> = [
      ['GET /api/me (200)', t.call('GET', '/api/me', { as: admin })],
      ['GET /api/admin/users (200)', t.call('GET', '/api/admin/users', { as: admin })],
      ['GET /api/me anonymous (401)', t.call('GET', '/api/me')],
      ['GET /api/nope (404)', t.call('GET', '/api/nope')],
      ['POST /api/nope (404)', t.call('POST', '/api/nope')],
      ['POST cross-site (403)', t.call('POST', '/auth/login/local', { json: {}, headers: { origin: 'https://evil.example' } })],
      ['GET /healthz', t.call('GET', '/healthz')],
      ['GET /metrics', t.call('GET', '/metrics')],
    ]
    for (const [what, p] of cases) {
      const res = await p
      expectBaseHeaders(res, what)
      expect([what, res.headers.get('strict-transport-security')]).toEqual([what, null])
    }
  })

  test('the SPA shell and its deep links carry the headers (needs the built UI)', async () => {
    expect(embedded['/index.html']).toBeDefined()
    for (const path of ['/', '/admin/users', '/b/local/some-bucket']) {
      const res = await t.call('GET', path)
      expect([path, res.status]).toEqual([path, 200])
      expect(res.headers.get('content-type')).toStartWith('text/html')
      expectBaseHeaders(res, path)
      const html = await res.text()
      // No inline scripts: script-src 'self' would block them.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i)
    }
  })
})

describe('HSTS', () => {
  test('sent when a trusted proxy says the client used https', async () => {
    const trusted = await testApp({ server: { trusted_proxies: ['127.0.0.1'] } })
    try {
      const https = await trusted.call('GET', '/healthz', { headers: { 'x-forwarded-proto': 'https' } })
      expect(https.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains')
      const err = await trusted.call('GET', '/api/nope', { headers: { 'x-forwarded-proto': 'https' } })
      expect(err.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains')
      const http = await trusted.call('GET', '/healthz', { headers: { 'x-forwarded-proto': 'http' } })
      expect(http.headers.get('strict-transport-security')).toBeNull()
      const none = await trusted.call('GET', '/healthz')
      expect(none.headers.get('strict-transport-security')).toBeNull()
    } finally {
      await trusted.close()
    }
  })

  test('not sent when an untrusted peer claims https', async () => {
    const res = await t.call('GET', '/healthz', { headers: { 'x-forwarded-proto': 'https' } })
    expect(res.headers.get('strict-transport-security')).toBeNull()
    const other = await testApp({ server: { trusted_proxies: ['10.0.0.0/8'] } })
    try {
      expect((await other.call('GET', '/healthz', { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security')).toBeNull()
    } finally {
      await other.close()
    }
  })

  test('on a real port: trusted loopback proxy with X-Forwarded-Proto https', async () => {
    let served: Served | undefined
    let untrusted: Served | undefined
    try {
      served = await servedApp({ server: { trusted_proxies: ['127.0.0.1', '::1'] } })
      const res = await fetch(`${served.base}/healthz`, { headers: { 'x-forwarded-proto': 'https' } })
      expect(res.headers.get('strict-transport-security')).toContain('max-age=31536000')
      expectBaseHeaders(res, 'real port')
      untrusted = await servedApp()
      const res2 = await fetch(`${untrusted.base}/healthz`, { headers: { 'x-forwarded-proto': 'https' } })
      expect(res2.headers.get('strict-transport-security')).toBeNull()
    } finally {
      await served?.stop()
      await untrusted?.stop()
    }
  })
})
