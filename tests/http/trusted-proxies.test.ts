// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `server.trusted_proxies`: X-Forwarded-For / X-Forwarded-Proto are ignored
 * from untrusted peers and believed from trusted ones, where the client is the
 * right-most hop that is not itself a trusted proxy.
 */
import { afterEach, describe, expect, test, setDefaultTimeout } from 'bun:test'
import { createRequestContext } from '../../src/http/context.ts'
import { errorCode } from '../helpers/app.ts'
import { captureLogger, servedApp, until, type Served } from './support.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

const req = (headers: Record<string, string> = {}) => new Request('http://localhost/x', { headers })

describe('the request context', () => {
  const ctx = createRequestContext(['10.0.0.0/8', '192.168.1.1'])

  test('an untrusted peer: forwarded headers are ignored', () => {
    const m = ctx.attach(req({ 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https' }), { ip: '203.0.113.9', tls: false })
    expect(m.ip).toBe('203.0.113.9')
    expect(m.secure).toBe(false)
  })

  test('a trusted peer: the right-most untrusted hop is the client', () => {
    const m = ctx.attach(req({ 'x-forwarded-for': '6.6.6.6, 1.2.3.4, 10.0.0.7' }), { ip: '10.0.0.5', tls: false })
    expect(m.ip).toBe('1.2.3.4')
  })

  test('a client cannot hide behind a spoofed left-most entry', () => {
    const m = ctx.attach(req({ 'x-forwarded-for': '10.9.9.9, 8.8.8.8' }), { ip: '192.168.1.1', tls: false })
    expect(m.ip).toBe('8.8.8.8')
  })

  test('several X-Forwarded-For headers are read as one list', () => {
    const h = new Headers()
    h.append('x-forwarded-for', '7.7.7.7')
    h.append('x-forwarded-for', '5.5.5.5, 10.1.1.1')
    const m = ctx.attach(new Request('http://localhost/x', { headers: h }), { ip: '10.0.0.5', tls: false })
    expect(m.ip).toBe('5.5.5.5')
  })

  test('all hops trusted: the left-most one is the client; no header: the peer', () => {
    expect(ctx.attach(req({ 'x-forwarded-for': '10.1.1.1, 10.2.2.2' }), { ip: '10.0.0.5', tls: false }).ip).toBe('10.1.1.1')
    expect(ctx.attach(req(), { ip: '10.0.0.5', tls: false }).ip).toBe('10.0.0.5')
  })

  test('X-Forwarded-Proto from a trusted peer decides https, both ways', () => {
    expect(ctx.attach(req({ 'x-forwarded-proto': 'https' }), { ip: '10.0.0.5', tls: false }).secure).toBe(true)
    expect(ctx.attach(req({ 'x-forwarded-proto': 'HTTPS, http' }), { ip: '10.0.0.5', tls: false }).secure).toBe(true)
    expect(ctx.attach(req({ 'x-forwarded-proto': 'http' }), { ip: '10.0.0.5', tls: true }).secure).toBe(false)
    expect(ctx.attach(req(), { ip: '10.0.0.5', tls: true }).secure).toBe(true)
  })

  test('IPv4-mapped peers are normalised and matched', () => {
    const m = ctx.attach(req({ 'x-forwarded-for': '1.2.3.4' }), { ip: '::ffff:10.0.0.5', tls: false })
    expect(m.ip).toBe('1.2.3.4')
    expect(createRequestContext([]).attach(req(), { ip: '::ffff:127.0.0.1', tls: false }).ip).toBe('127.0.0.1')
  })

  test('the default (empty list) trusts nobody, not even loopback', () => {
    const m = createRequestContext([]).attach(req({ 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https' }), { ip: '127.0.0.1', tls: false })
    expect(m).toMatchObject({ ip: '127.0.0.1', secure: false })
  })
})

describe('on a real port', () => {
  let served: Served | undefined
  afterEach(async () => {
    await served?.stop()
    served = undefined
  })

  let n = 0
  // A fresh username each time, so the per-account lockout never kicks in here.
  const attempt = (s: Served, xff: string) =>
    fetch(`${s.base}/auth/login/local`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': xff },
      body: JSON.stringify({ username: `nobody${++n}`, password: 'wrong password' }),
    })

  test('untrusted peer: rotating X-Forwarded-For does not escape the per-IP login limit', async () => {
    const log = captureLogger()
    served = await servedApp({ ratelimit: { login_per_ip: 3 } }, { logger: log.logger })
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await attempt(served, `198.51.100.${i}`)).status)
    expect(statuses).toEqual([401, 401, 401, 429, 429])
    expect(await errorCode(await attempt(served, '192.0.2.1'))).toBe('rate_limited')
    await until(() => log.entries().filter((e) => e.msg === 'request').length >= 6)
    const ips = new Set(
      log
        .entries()
        .filter((e) => e.msg === 'request')
        .map((e) => e.ip),
    )
    expect([...ips]).toEqual(['127.0.0.1'])
  })

  test('trusted peer: the forwarded client IP is used for limits, logs and audit', async () => {
    const log = captureLogger()
    served = await servedApp({ ratelimit: { login_per_ip: 3 }, server: { trusted_proxies: ['127.0.0.1', '::1'] } }, { logger: log.logger })
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await attempt(served, `spoof, 198.51.100.${i}`)).status)
    expect(statuses).toEqual([401, 401, 401, 401, 401])
    const same: number[] = []
    for (let i = 0; i < 4; i++) same.push((await attempt(served, '203.0.113.50')).status)
    expect(same).toEqual([401, 401, 401, 429])
    const limited = await attempt(served, '203.0.113.50')
    expect(await errorCode(limited)).toBe('rate_limited')
    await until(() => log.entries().filter((e) => e.msg === 'request').length >= 10)
    const ips = log
      .entries()
      .filter((e) => e.msg === 'request')
      .map((e) => e.ip)
    expect(ips).toContain('198.51.100.0')
    expect(ips).toContain('203.0.113.50')
    expect(ips).not.toContain('spoof')
    await served.t.s.audit.flush()
    const auditIps = (await served.t.s.db.all<{ ip: string }>("SELECT DISTINCT ip FROM audit_events WHERE action = 'auth.login'")).map((r) => r.ip)
    expect(auditIps).toContain('198.51.100.4')
    expect(auditIps).not.toContain('127.0.0.1')
  })
})
