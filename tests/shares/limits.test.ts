// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Abuse limits on the public endpoints: `ratelimit.share_per_minute` per
 * client IP counts info, unlock and raw requests that start a download, but
 * never a grant-holder's continuation; `shares.wrong_password_limit` wrong
 * passwords per share per IP answer 429 with Retry-After. Client IPs come
 * from X-Forwarded-For through a trusted proxy, as in production behind one.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { errorCode } from '../helpers/app.ts'
import { auditRows, drain, makeShare, shareEnv, Visitor, type Env } from './fixture.ts'

let e: Env
beforeAll(async () => {
  e = await shareEnv('fs', { app: { ratelimit: { share_per_minute: 3 }, shares: { wrong_password_limit: 2 }, server: { trusted_proxies: ['127.0.0.1'] } } })
  await e.put('clip.bin', new Uint8Array(10_000))
})
afterAll(() => e.close())

const from = (ip: string) => ({ 'x-forwarded-for': ip })

test('info, unlock and download starts count per IP; the fourth in a minute is 429 with Retry-After', async () => {
  const s = await makeShare(e, { key: 'clip.bin' })
  const v = new Visitor(e)
  for (let i = 0; i < 3; i++) expect((await v.call('GET', `/s/${s.code}/info`, { headers: from('10.0.0.1') })).status).toBe(200)
  const over = await v.call('GET', `/s/${s.code}/info`, { headers: from('10.0.0.1') })
  expect(over.status).toBe(429)
  expect(await errorCode(over)).toBe('rate_limited')
  expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0)
  expect((await v.call('GET', `/s/${s.code}/raw`, { headers: from('10.0.0.1') })).status).toBe(429)
  expect((await v.call('POST', `/s/${s.code}/unlock`, { json: { password: 'x' }, headers: from('10.0.0.1') })).status).toBe(429)
  // Guessing codes is throttled the same way.
  expect((await v.call('GET', `/s/${'b'.repeat(20)}/info`, { headers: from('10.0.0.1') })).status).toBe(429)
  expect((await new Visitor(e).call('GET', `/s/${s.code}/info`, { headers: from('10.0.0.2') })).status).toBe(200)
})

test('a viewer streaming with a grant is never throttled: continuations do not count', async () => {
  const s = await makeShare(e, { key: 'clip.bin' })
  const v = new Visitor(e)
  const ip = from('10.0.0.3')
  expect((await v.call('GET', `/s/${s.code}/info`, { headers: ip })).status).toBe(200)
  const start = await v.call('GET', `/s/${s.code}/raw`, { headers: { ...ip, range: 'bytes=0-' } })
  expect(start.status).toBe(206)
  await drain(start)
  await e.t.s.audit.flush()
  expect(await e.t.s.db.get("SELECT ip FROM audit_events WHERE action = 'share.download' AND status = 'ok' ORDER BY id DESC LIMIT 1")).toEqual({
    ip: '10.0.0.3',
  })
  for (let i = 0; i < 25; i++) {
    const res = await v.call('GET', `/s/${s.code}/raw`, { headers: { ...ip, range: `bytes=${i * 100}-` } })
    expect(res.status).toBe(206)
    await drain(res)
  }
  expect((await v.call('GET', `/s/${s.code}/info`, { headers: ip })).status).toBe(200)
  // Two counted requests so far (info, start) plus this info: the next one without a grant is over.
  expect((await new Visitor(e).call('GET', `/s/${s.code}/raw`, { headers: ip })).status).toBe(429)
})

test('wrong passwords: after the limit, unlocking that share from that IP is 429 — even with the right password', async () => {
  const s = await makeShare(e, { key: 'clip.bin', password: 'right horse' })
  const v = new Visitor(e)
  const ip = from('10.0.0.4')
  for (let i = 0; i < 2; i++) expect((await v.call('POST', `/s/${s.code}/unlock`, { json: { password: 'wrong horse' }, headers: ip })).status).toBe(401)
  const blocked = await v.call('POST', `/s/${s.code}/unlock`, { json: { password: 'right horse' }, headers: from('10.0.0.4') })
  expect(blocked.status).toBe(429)
  expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
  expect((await auditRows(e.t, 'share.unlock'))[0]).toMatchObject({ status: 'denied', detail: { share_id: s.id, reason: 'rate_limited' } })
  // Every refusal names the client's address (here through the trusted proxy).
  const ips = await e.t.s.db.all<{ ip: string; status: string }>(
    "SELECT ip, status FROM audit_events WHERE action = 'share.unlock' AND detail LIKE '%' || ? || '%'",
    [s.id],
  )
  expect(ips).toEqual([
    { ip: '10.0.0.4', status: 'denied' },
    { ip: '10.0.0.4', status: 'denied' },
    { ip: '10.0.0.4', status: 'denied' },
  ])
  // Another IP, or another share from this IP, is unaffected.
  expect((await new Visitor(e).call('POST', `/s/${s.code}/unlock`, { json: { password: 'right horse' }, headers: from('10.0.0.5') })).status).toBe(200)
  const other = await makeShare(e, { key: 'clip.bin', password: 'other horse' })
  expect((await new Visitor(e).call('POST', `/s/${other.code}/unlock`, { json: { password: 'other horse' }, headers: from('10.0.0.6') })).status).toBe(200)
})
