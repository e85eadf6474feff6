// SPDX-License-Identifier: AGPL-3.0-or-later
/** Every response carries X-Request-Id: the caller's when it is sane, a fresh one otherwise. */
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from 'bun:test'
import { createRequestContext } from '../../src/http/context.ts'
import { testApp, type TestApp } from '../helpers/app.ts'
import { servedApp, type Served } from './support.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let t: TestApp
let served: Served
beforeAll(async () => {
  t = await testApp()
  served = await servedApp()
})
afterAll(async () => {
  await t.close()
  await served.stop()
})

const GENERATED = /^[A-Za-z0-9_-]{12}$/

test('a response without an incoming id gets a fresh one, different per request', async () => {
  const a = (await t.call('GET', '/healthz')).headers.get('x-request-id')
  const b = (await t.call('GET', '/healthz')).headers.get('x-request-id')
  expect(a).toMatch(GENERATED)
  expect(b).toMatch(GENERATED)
  expect(a).not.toBe(b)
})

test('a sane incoming X-Request-Id is kept, on success and on error responses', async () => {
  for (const id of ['abc-123', 'trace.id:42_x', 'a'.repeat(128), '0f8e2c1a-5b6d-4e3f-9a8b-7c6d5e4f3a2b']) {
    expect((await t.call('GET', '/healthz', { headers: { 'x-request-id': id } })).headers.get('x-request-id')).toBe(id)
    expect((await t.call('GET', '/api/me', { headers: { 'x-request-id': id } })).headers.get('x-request-id')).toBe(id)
    expect((await t.call('POST', '/api/nope', { headers: { 'x-request-id': id } })).headers.get('x-request-id')).toBe(id)
  }
})

test('an insane incoming id is replaced, not echoed', async () => {
  for (const id of ['has space', 'a'.repeat(129), '<script>alert(1)</script>', 'x"y', 'naïve', 'a/b', '']) {
    const got = (await t.call('GET', '/healthz', { headers: { 'x-request-id': id } })).headers.get('x-request-id')
    expect(got).toMatch(GENERATED)
    expect(got).not.toBe(id)
  }
})

test('the id is the same one the audit log records', async () => {
  await t.login('nobody', 'wrong password', { 'x-request-id': 'login-attempt-7' })
  await t.s.audit.flush()
  const row = await t.s.db.get<{ request_id: string }>("SELECT request_id FROM audit_events WHERE action = 'auth.login' ORDER BY id DESC LIMIT 1")
  expect(row?.request_id).toBe('login-attempt-7')
})

test('on a real port too', async () => {
  const kept = await fetch(`${served.base}/healthz`, { headers: { 'x-request-id': 'real-port-1' } })
  expect(kept.headers.get('x-request-id')).toBe('real-port-1')
  const replaced = await fetch(`${served.base}/healthz`, { headers: { 'x-request-id': 'bad id' } })
  expect(replaced.headers.get('x-request-id')).toMatch(GENERATED)
})

test('the context gives each request its own meta, and the same meta when asked twice', () => {
  const ctx = createRequestContext([])
  const r1 = new Request('http://localhost/a', { headers: { 'x-request-id': 'one' } })
  const r2 = new Request('http://localhost/a')
  expect(ctx.meta(r1).id).toBe('one')
  expect(ctx.meta(r1)).toBe(ctx.meta(r1))
  expect(ctx.meta(r2).id).not.toBe(ctx.meta(r1).id)
})
