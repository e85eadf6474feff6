// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Errors are catalogued data rendered as one JSON envelope: validation failures
 * are 400 `bad_request` naming the failing fields, unknown API paths are JSON
 * 404s, and internal errors never leak messages or stack traces.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from 'bun:test'
import { Elysia, t as schema } from 'elysia'
import { AppError, ERROR_CATALOGUE, errorResponse, fail, type ErrorCode } from '../../src/http/errors.ts'
import { errorCode, testApp, type Client, type TestApp } from '../helpers/app.ts'
import { captureLogger } from './support.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

describe('the catalogue', () => {
  test('every code maps to its one status and a safe default message', async () => {
    for (const [code, [status, message]] of Object.entries(ERROR_CATALOGUE)) {
      expect(code).toMatch(/^[a-z][a-z0-9_]*$/)
      expect(status).toBeGreaterThanOrEqual(400)
      expect(status).toBeLessThan(600)
      const err = fail(code as ErrorCode)
      expect(err).toBeInstanceOf(AppError)
      expect(err.status).toBe(status)
      const res = errorResponse(err)
      expect(res.status).toBe(status)
      expect(res.headers.get('content-type')).toStartWith('application/json')
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(await res.json()).toEqual({ error: { code, message, detail: '' } })
    }
  })

  test('the statuses the API contract relies on', () => {
    const expected: Partial<Record<ErrorCode, number>> = {
      bad_request: 400,
      weak_password: 400,
      self_delete: 400,
      static_user: 400,
      unauthorized: 401,
      invalid_credentials: 401,
      password_mismatch: 401,
      forbidden: 403,
      csrf_invalid: 403,
      self_role_change: 403,
      password_change_required: 403,
      not_found: 404,
      username_taken: 409,
      email_taken: 409,
      last_admin: 409,
      too_large: 413,
      account_locked: 429,
      rate_limited: 429,
      internal: 500,
    }
    for (const [code, status] of Object.entries(expected)) expect([code, ERROR_CATALOGUE[code as ErrorCode][0] as number]).toEqual([code, status])
  })

  test('a custom message, detail and headers are carried', async () => {
    const res = errorResponse(fail('rate_limited', 'Slow down.', { limit: 3 }, { 'retry-after': '42' }))
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('42')
    expect(await res.json()).toEqual({ error: { code: 'rate_limited', message: 'Slow down.', detail: { limit: 3 } } })
  })
})

describe('through the HTTP surface', () => {
  let t: TestApp
  let admin: Client
  const log = captureLogger()

  beforeAll(async () => {
    t = await testApp({}, { logger: log.logger })
    t.s.app.use(
      new Elysia()
        .get('/api/test/boom', () => {
          throw new Error('SQLITE_CORRUPT at /var/lib/stowage/secret-path.db')
        })
        .get('/api/test/bad-response', () => ({ internal_field: 'db-row-secret' }) as unknown as { shape: string }, {
          response: { 200: schema.Object({ shape: schema.String() }) },
        })
        .get('/api/test/typed', () => {
          const x = null as unknown as { y: string }
          return x.y
        }),
    )
    admin = await t.user('admin')
  })
  afterAll(() => t.close())

  test('a validation failure is 400 bad_request listing every failing field', async () => {
    const res = await t.call('POST', '/api/admin/users', { as: admin, json: { username: 'bad name!', role: 'root' } })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; detail: Array<{ path: string; message: string }> } }
    expect(body.error.code).toBe('bad_request')
    const paths = body.error.detail.map((d) => d.path)
    expect(paths).toEqual(expect.arrayContaining(['/username', '/password', '/role']))
    for (const d of body.error.detail) expect(typeof d.message).toBe('string')
  })

  test('query validation failures say so and do not blame the body', async () => {
    const res = await t.call('GET', '/api/admin/users?role=root', { as: admin })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; message: string; detail: Array<{ path: string; message: string }> } }
    expect(body.error.code).toBe('bad_request')
    expect(body.error.message).toContain('query')
    expect(body.error.detail.map((d) => d.path)).toContain('/role')
    // Out-of-range numbers name the field too (see paging.test.ts).
    const range = await t.call('GET', '/api/admin/users?limit=0', { as: admin })
    expect(range.status).toBe(400)
    const rb = (await range.json()) as { error: { code: string; message: string; detail: Array<{ path: string; message: string }> } }
    expect(rb.error.code).toBe('bad_request')
    expect(rb.error.message).not.toContain('body')
    expect(rb.error.detail[0]).toEqual({ path: '/limit', message: 'Expected an integer from 1 to 500' })
  })

  test('malformed JSON is 400 bad_request, a foreign media type 415', async () => {
    const bad = await t.call('POST', '/api/admin/users', { as: admin, body: '{"username":', headers: { 'content-type': 'application/json' } })
    expect(bad.status).toBe(400)
    expect(await errorCode(bad)).toBe('bad_request')
    const xml = await t.call('POST', '/api/admin/users', { as: admin, body: '<user/>', headers: { 'content-type': 'application/xml' } })
    expect(xml.status).toBe(415)
    expect(await errorCode(xml)).toBe('unsupported_media_type')
  })

  test('an empty body with a JSON content type is "no body", not a parse error', async () => {
    const res = await t.call('POST', '/auth/logout', { body: '', headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(200)
    const missing = await t.call('POST', '/api/admin/users', { as: admin, body: '', headers: { 'content-type': 'application/json' } })
    expect(missing.status).toBe(400)
    expect(await errorCode(missing)).toBe('bad_request')
  })

  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
    test(`unknown /api paths are JSON 404s (${method})`, async () => {
      for (const path of ['/api/nope', '/api/admin/nope/deeper', '/api']) {
        const res = await t.call(method, path, { as: admin, json: method === 'GET' || method === 'DELETE' ? undefined : {} })
        expect([path, res.status]).toEqual([path, 404])
        expect(res.headers.get('content-type')).toStartWith('application/json')
        expect(await errorCode(res)).toBe('not_found')
      }
    })
  }

  test('unknown /api paths are 404 for anonymous callers too (not 401, not the SPA)', async () => {
    const res = await t.call('GET', '/api/does-not-exist')
    expect(res.status).toBe(404)
    expect(await errorCode(res)).toBe('not_found')
  })

  test('a thrown internal error is a bare 500 internal; the message and stack stay in the log', async () => {
    const res = await t.call('GET', '/api/test/boom', { headers: { 'x-request-id': 'boom-1' } })
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({ error: { code: 'internal', message: ERROR_CATALOGUE.internal[1], detail: '' } })
    expect(text).not.toContain('SQLITE')
    expect(text).not.toContain('secret-path')
    expect(text).not.toContain('at ')
    const entry = log.entries().find((e) => e.msg === 'unhandled error' && e.request_id === 'boom-1')
    expect(entry?.error).toContain('SQLITE_CORRUPT')
    expect(entry?.stack).toBeDefined()
  })

  test('a TypeError inside a handler does not leak either', async () => {
    const res = await t.call('GET', '/api/test/typed')
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(await errorCode(new Response(text))).toBe('internal')
    expect(text).not.toMatch(/null|property|TypeError/)
  })

  test('a response that fails its own schema is a 500, never a 400 echoing internal fields', async () => {
    const res = await t.call('GET', '/api/test/bad-response')
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(await errorCode(new Response(text))).toBe('internal')
    expect(text).not.toContain('internal_field')
    expect(text).not.toContain('db-row-secret')
    expect(text).not.toContain('shape')
  })

  test('a malformed cookie is ignored, not a server error', async () => {
    for (const cookie of ['stowage_session=%E0%A4%A', 'stowage_session=%zz; stowage_csrf=%', 'garbage', '=;;=']) {
      const me = await t.call('GET', '/api/me', { headers: { cookie } })
      expect([cookie, me.status]).toEqual([cookie, 401])
      const health = await t.call('GET', '/healthz', { headers: { cookie } })
      expect([cookie, health.status]).toEqual([cookie, 200])
    }
  })
})
