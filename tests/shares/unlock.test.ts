// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Mirrors the security contract at the top of src/shares/unlock.ts, point by
 * point: key derivation (survives restarts, dies with the master key), cookie
 * format and verification, attributes, password-only issuance, binding to one
 * share, no outliving the share, the download grant, and what cookies carry.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { createApp } from '../../src/app.ts'
import { ulid } from '../../src/lib/ids.ts'
import { silentLogger } from '../../src/lib/log.ts'
import { deriveKey } from '../../src/lib/seal.ts'
import { createShareCookies, GRANT_IDLE_MS, GRANT_MAX_MS } from '../../src/shares/unlock.ts'
import { errorCode, FAST_HASH } from '../helpers/app.ts'
import { drain, makeShare, shareEnv, Visitor, type Env } from './fixture.ts'

const MASTER = 'a'.repeat(64)
const OTHER_MASTER = 'b'.repeat(64)
const TTL = 30 * 60_000
const share = { id: '01HSHARE0000000000000000AA', code: 'abcdefghijklmnopqrst' }
const key = deriveKey(Buffer.from(MASTER, 'hex'), 'share-unlock')
const cookies = createShareCookies(key, TTL)
const value = (setCookie: string): string => setCookie.slice(setCookie.indexOf('=') + 1, setCookie.indexOf(';'))
const header = (setCookie: string): string => setCookie.slice(0, setCookie.indexOf(';'))

let e: Env
beforeAll(async () => {
  e = await shareEnv('fs', { app: { shares: { wrong_password_limit: 1 } } })
  await e.put('secret.txt', 'the secret bytes')
})
afterAll(() => e.close())

describe('1. the key is HKDF(master, "share-unlock"): it survives restarts and dies with the master key', () => {
  test('the derived key is not the master key, and other purposes give other keys', () => {
    const master = Buffer.from(MASTER, 'hex')
    expect(Buffer.from(key).equals(master)).toBe(false)
    expect(Buffer.from(key).equals(Buffer.from(deriveKey(master, 'other')))).toBe(false)
  })

  test('an unlock cookie still works after a restart with the same master key, and not with another', async () => {
    const first = await shareEnv('fs')
    await first.backend().putObject(first.bucket, 'f.txt', new Response('x').body!, { size: 1 })
    const config = { ...first.t.s.config, masterKey: MASTER }
    await first.t.s.close()
    const a = await createApp(config, { hashParams: FAST_HASH, defaultMetrics: false, logger: silentLogger })
    await a.users.insert({
      id: ulid(),
      username: 'restart',
      email: null,
      passwordHash: await a.passwords.hash('long enough password'),
      role: 'user',
      identitySource: 'local',
      mustChangePw: false,
      createdBy: null,
      now: Date.now(),
    })
    const login = await a.fetch(
      new Request('http://localhost/auth/login/local', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'restart', password: 'long enough password' }),
      }),
    )
    const userCookie = login.headers.getSetCookie().map(header).join('; ')
    const csrf = /stowage_csrf=([^;]+)/.exec(userCookie)![1]!
    const created = await a.fetch(
      new Request('http://localhost/api/shares', {
        method: 'POST',
        headers: { cookie: userCookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
        body: JSON.stringify({ backend_id: first.bid, bucket: first.bucket, key: 'f.txt', password: 'restart pass' }),
      }),
    )
    const { code } = (await created.json()) as { code: string }
    const unlocked = await a.fetch(
      new Request(`http://localhost/s/${code}/unlock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password: 'restart pass' }),
      }),
    )
    const cookie = header(unlocked.headers.getSetCookie()[0]!)
    await a.close()

    const again = await createApp(config, { hashParams: FAST_HASH, defaultMetrics: false, logger: silentLogger })
    expect((await again.fetch(new Request(`http://localhost/s/${code}/info`, { headers: { cookie } }))).status).toBe(200)
    await again.close()
    const rotated = await createApp({ ...config, masterKey: OTHER_MASTER }, { hashParams: FAST_HASH, defaultMetrics: false, logger: silentLogger })
    expect((await rotated.fetch(new Request(`http://localhost/s/${code}/info`, { headers: { cookie } }))).status).toBe(401)
    await rotated.close()
    for (const dir of [first.t.dir, ...config.backends.map((b) => (b as { root?: string }).root ?? '')]) if (dir) rmSync(dir, { recursive: true, force: true })
  })
})

describe('2. `<expiry>.<mac>`, checked in constant time; anything else counts as absent', () => {
  const set = cookies.unlock(share, { now: 1_000_000, secure: false })
  test('the value is the expiry and a MAC', () => {
    expect(value(set)).toMatch(new RegExp(`^${1_000_000 + TTL}\\.[A-Za-z0-9_-]{43}$`))
    expect(cookies.isUnlocked(header(set), share, 1_000_001)).toBe(true)
  })
  test('expired, tampered, truncated or garbage values are refused', () => {
    const v = value(set)
    const [exp, mac] = v.split('.') as [string, string]
    expect(cookies.isUnlocked(header(set), share, 1_000_000 + TTL)).toBe(false)
    for (const bad of [
      `${Number(exp) + 1}.${mac}`,
      `${exp}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`,
      `${exp}.${mac.slice(0, 20)}`,
      exp,
      `${v}.x`,
      '',
      '%',
      'a.b',
    ]) {
      expect(cookies.isUnlocked(`stowage_share_unlock=${bad}`, share, 1_000_001)).toBe(false)
    }
    expect(createShareCookies(deriveKey(Buffer.from(OTHER_MASTER, 'hex'), 'share-unlock'), TTL).isUnlocked(header(set), share, 1_000_001)).toBe(false)
  })
  test('over HTTP a tampered cookie is simply "password required"', async () => {
    const s = await makeShare(e, { key: 'secret.txt', password: 'pass phrase' })
    const res = await e.t.call('GET', `/s/${s.code}/info`, { headers: { cookie: `stowage_share_unlock=${Date.now() + 60_000}.${'A'.repeat(43)}` } })
    expect(res.status).toBe(401)
    expect(await errorCode(res)).toBe('password_required')
  })
})

describe('3. attributes: HttpOnly, SameSite=Lax, Path=/s/<code>, Max-Age=unlock_ttl, Secure behind https', () => {
  test('over http', async () => {
    const s = await makeShare(e, { key: 'secret.txt', password: 'pass phrase' })
    const set = (await new Visitor(e).unlock(s.code, 'pass phrase')).headers.getSetCookie()[0]!
    const attrs = set.split('; ').slice(1)
    expect(attrs).toEqual(expect.arrayContaining([`Path=/s/${s.code}`, `Max-Age=${TTL / 1000}`, 'HttpOnly', 'SameSite=Lax']))
    expect(attrs).not.toContain('Secure')
  })
  test('over https, directly or through a trusted proxy', async () => {
    const s = await makeShare(e, { key: 'secret.txt', password: 'pass phrase' })
    const res = await e.t.s.fetch(
      new Request(`https://localhost/s/${s.code}/unlock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password: 'pass phrase' }),
      }),
    )
    expect(res.headers.getSetCookie()[0]!.split('; ')).toContain('Secure')
    const proxied = await shareEnv('fs', { app: { server: { trusted_proxies: ['127.0.0.1'] } } })
    await proxied.put('p.txt', 'p')
    const p = await makeShare(proxied, { key: 'p.txt', password: 'pass phrase' })
    const viaProxy = await proxied.t.call('POST', `/s/${p.code}/unlock`, { json: { password: 'pass phrase' }, headers: { 'x-forwarded-proto': 'https' } })
    expect(viaProxy.headers.getSetCookie()[0]!.split('; ')).toContain('Secure')
    await proxied.close()
  })
})

describe('4. only the right password issues it; too many wrong ones are 429 before any verify', () => {
  test('wrong passwords set no cookie; past the limit even the right one is refused', async () => {
    const s = await makeShare(e, { key: 'secret.txt', password: 'pass phrase' })
    const v = new Visitor(e)
    const wrong = await v.unlock(s.code, 'not the phrase')
    expect(wrong.status).toBe(401)
    expect(wrong.headers.getSetCookie()).toEqual([])
    const limited = await v.unlock(s.code, 'pass phrase')
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(limited.headers.getSetCookie()).toEqual([])
  })
})

describe('5. a cookie for one share never opens another', () => {
  test('the MAC binds the share id and the code', () => {
    const set = header(cookies.unlock(share, { now: 1, secure: false }))
    expect(cookies.isUnlocked(set, { ...share, id: '01HSHARE0000000000000000BB' }, 2)).toBe(false)
    expect(cookies.isUnlocked(set, { ...share, code: 'bcdefghijklmnopqrstu' }, 2)).toBe(false)
  })
  test('over HTTP', async () => {
    const a = await makeShare(e, { key: 'secret.txt', password: 'pass phrase' })
    const b = await makeShare(e, { key: 'secret.txt', password: 'pass phrase' })
    const v = new Visitor(e)
    expect((await v.unlock(a.code, 'pass phrase')).status).toBe(200)
    expect((await e.t.call('GET', `/s/${b.code}/info`, { headers: { cookie: v.cookie() } })).status).toBe(401)
  })
})

describe('6. cookies never outlive the share', () => {
  test('revoked and expired shares are 410 whatever the cookies say', async () => {
    const s = await makeShare(e, { key: 'secret.txt', password: 'pass phrase' })
    const v = new Visitor(e)
    await v.unlock(s.code, 'pass phrase')
    await drain(await v.raw(s.code))
    expect(v.has('stowage_share_grant')).toBe(true)
    await e.t.s.db.run('UPDATE shares SET expires_at = ? WHERE id = ?', [Date.now() - 1, s.id])
    expect(await errorCode(await v.info(s.code))).toBe('expired')
    expect(await errorCode(await v.raw(s.code))).toBe('expired')
    await e.t.s.db.run('UPDATE shares SET expires_at = NULL WHERE id = ?', [s.id])
    expect((await e.t.call('DELETE', `/api/shares/${s.id}`, { as: e.user })).status).toBe(204)
    expect(await errorCode(await v.info(s.code))).toBe('revoked')
    expect(await errorCode(await v.raw(s.code))).toBe('revoked')
  })
})

describe('7. the download grant', () => {
  test('`<issued>.<expiry>.<mac>`: 30 minutes after its last use, at most 24 hours after the counted request', () => {
    const t0 = 5_000_000
    const set = cookies.grant(share, { issued: t0, now: t0, secure: false })
    expect(value(set)).toMatch(new RegExp(`^${t0}\\.${t0 + GRANT_IDLE_MS}\\.[A-Za-z0-9_-]{43}$`))
    expect(set).toContain(`Max-Age=${GRANT_IDLE_MS / 1000}`)
    expect(cookies.grantIssued(header(set), share, t0 + GRANT_IDLE_MS - 1)).toBe(t0)
    expect(cookies.grantIssued(header(set), share, t0 + GRANT_IDLE_MS)).toBeNull()
    const late = t0 + GRANT_MAX_MS - 60_000
    const renewed = cookies.grant(share, { issued: t0, now: late, secure: false })
    expect(cookies.grantIssued(header(renewed), share, t0 + GRANT_MAX_MS - 1)).toBe(t0)
    expect(cookies.grantIssued(header(renewed), share, t0 + GRANT_MAX_MS)).toBeNull()
    expect(
      cookies.grantIssued(header(cookies.unlock(share, { now: t0, secure: false })).replace('stowage_share_unlock', 'stowage_share_grant'), share, t0 + 1),
    ).toBeNull()
    expect(cookies.isUnlocked(header(set).replace('stowage_share_grant', 'stowage_share_unlock'), share, t0 + 1)).toBe(false)
  })

  test('set on a counted download only; it stands in for the unlock on raw, not on info', async () => {
    const s = await makeShare(e, { key: 'secret.txt', password: 'pass phrase', max_downloads: 2 })
    const v = new Visitor(e)
    const locked = await v.raw(s.code)
    expect(locked.headers.getSetCookie()).toEqual([])
    await v.unlock(s.code, 'pass phrase')
    const counted = await v.raw(s.code)
    const grant = counted.headers.getSetCookie().find((c) => c.startsWith('stowage_share_grant='))!
    expect(grant.split('; ')).toEqual(expect.arrayContaining([`Path=/s/${s.code}`, 'HttpOnly', 'SameSite=Lax']))
    await drain(counted)
    v.forget('stowage_share_unlock')
    const more = await v.raw(s.code, '', { range: 'bytes=4-9' })
    expect(more.status).toBe(206)
    expect(await more.text()).toBe('secret')
    expect(await errorCode(await v.info(s.code))).toBe('password_required')
    const refused = await new Visitor(e).raw(s.code)
    expect(refused.status).toBe(401)
    expect(refused.headers.getSetCookie()).toEqual([])
  })
})

describe('8. cookies carry neither the password, its hash, nor where the bytes live', () => {
  test('values are numbers and a MAC only', async () => {
    const s = await makeShare(e, { key: 'secret.txt', password: 'pass phrase' })
    const v = new Visitor(e)
    const unlock = (await v.unlock(s.code, 'pass phrase')).headers.getSetCookie()
    const counted = await v.raw(s.code)
    const grant = counted.headers.getSetCookie()
    await drain(counted)
    const hash = ((await e.t.s.db.get('SELECT password_hash FROM shares WHERE id = ?', [s.id])) as { password_hash: string }).password_hash
    for (const c of [...unlock, ...grant]) {
      expect(value(c)).toMatch(/^(\d+\.){1,2}[A-Za-z0-9_-]{43}$/)
      for (const secret of ['pass phrase', hash, e.bucket, e.bid, 'secret.txt']) expect(c).not.toContain(secret)
    }
  })
})
