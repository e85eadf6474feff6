// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Callbacks Stowage must refuse. Real provider throughout for discovery, the
 * authorize step, the token endpoint and the JWKS. Where a correct provider
 * would never mint the token under test (wrong audience, expired, signed by
 * another key), the provider's real token response has its ID token swapped
 * by the test double in tests/helpers/oidc-provider.ts (`tamper`).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { generateKeyPair } from 'jose'
import type { TestApp } from '../../helpers/app.ts'
import type { TestProvider } from '../../helpers/oidc-provider.ts'
import { begin, discovered, finish, lastLoginEvent, loginError, me, provider, signIn, stowage } from './fixture.ts'

let p: TestProvider
let t: TestApp
const ALICE = { preferred_username: 'alice', groups: ['staff'] }

beforeAll(async () => {
  p = await provider()
  p.accounts.set('alice', ALICE)
  t = await stowage(p)
  await discovered(t)
})
afterEach(() => {
  p.tamper = null
})
afterAll(async () => {
  await t.close()
  await p.stop()
})

function noSession(res: Response): void {
  expect(res.headers.getSetCookie().some((c) => c.startsWith('stowage_session='))).toBe(false)
}

describe('state', () => {
  test('a callback without the pending cookie is refused (bad_state) before any code exchange', async () => {
    const a = await begin(t)
    const back = await p.signIn(a.location.toString(), 'alice')
    const res = await finish(t, back, '')
    expect(loginError(res)).toBe('oidc_failed')
    noSession(res)
    expect(await lastLoginEvent(t)).toMatchObject({ status: 'denied', detail: { source: 'oidc', reason: 'bad_state' } })
  })

  test('a state that is not ours is refused (login CSRF)', async () => {
    const mine = await begin(t)
    const theirs = await begin(t)
    const back = await p.signIn(theirs.location.toString(), 'alice')
    const res = await finish(t, back, mine.pending)
    expect(loginError(res)).toBe('oidc_failed')
    expect((await lastLoginEvent(t)).detail.reason).toBe('bad_state')
  })

  test('two attempts in flight (two tabs) both complete', async () => {
    const one = await begin(t)
    const two = await begin(t, '/two', one.pending)
    expect(two.pending).toContain('stowage_oidc=')
    const backOne = await p.signIn(one.location.toString(), 'alice')
    const res = await finish(t, backOne, two.pending)
    expect(res.headers.get('location')).toBe('/')
    const left = res.headers
      .getSetCookie()
      .find((c) => c.startsWith('stowage_oidc='))!
      .split(';')[0]!
    const backTwo = await p.signIn(two.location.toString(), 'alice')
    const res2 = await finish(t, backTwo, left)
    expect(res2.headers.get('location')).toBe('/two')
  })

  test('a replayed callback is refused: the attempt is used up and the provider rejects the code again', async () => {
    const a = await begin(t)
    const back = await p.signIn(a.location.toString(), 'alice')
    const first = await finish(t, back, a.pending)
    expect(first.headers.get('location')).toBe('/')
    // Same URL, same (old) cookie: the state matches, the code was already redeemed.
    const again = await finish(t, back, a.pending)
    expect(loginError(again)).toBe('oidc_failed')
    noSession(again)
    expect(await lastLoginEvent(t)).toMatchObject({ status: 'error', detail: { reason: 'token_exchange_failed', error: 'invalid_grant' } })
  })

  test('an `iss` in the response that is not our issuer is refused (mix-up)', async () => {
    const a = await begin(t)
    const back = await p.signIn(a.location.toString(), 'alice')
    back.searchParams.set('iss', 'https://other.example')
    expect(loginError(await finish(t, back, a.pending))).toBe('oidc_failed')
    expect((await lastLoginEvent(t)).detail.reason).toBe('bad_issuer')
  })

  test('an error from the provider (user cancelled) is reported; unknown extra parameters are ignored', async () => {
    const a = await begin(t)
    const abort = new URL(
      `http://localhost/auth/callback?error=access_denied&error_description=cancelled&session_state=kc-123&state=${a.location.searchParams.get('state')}`,
    )
    expect(loginError(await finish(t, abort, a.pending))).toBe('oidc_failed')
    expect((await lastLoginEvent(t)).detail).toMatchObject({ reason: 'provider_error', error: 'access_denied' })
  })
})

describe('ID token', () => {
  test('nonce mismatch: the provider signs what it was asked, but it is not the nonce of this attempt', async () => {
    const a = await begin(t)
    const swapped = new URL(a.location)
    swapped.searchParams.set('nonce', 'a-nonce-stowage-never-issued')
    const back = await p.signIn(swapped.toString(), 'alice')
    const res = await finish(t, back, a.pending)
    expect(loginError(res)).toBe('oidc_failed')
    noSession(res)
    expect(await lastLoginEvent(t)).toMatchObject({ status: 'denied', detail: { reason: 'invalid_id_token', check: 'nonce' } })
  })

  const tampered: Array<[string, () => Promise<TestProvider['tamper']>, string]> = [
    ['wrong audience', async () => ({ claims: (c) => ({ ...c, aud: 'some-other-client' }) }), 'audience'],
    ['several audiences without azp', async () => ({ claims: (c) => ({ ...c, aud: ['stowage', 'other'] }) }), 'azp'],
    ['azp naming another client', async () => ({ claims: (c) => ({ ...c, azp: 'other' }) }), 'azp'],
    ['expired (beyond the 60 s tolerance)', async () => ({ claims: (c) => ({ ...c, exp: c.iat! - 61 }) }), 'expired'],
    ['issued too long ago', async () => ({ claims: (c) => ({ ...c, iat: c.iat! - 3600 }) }), 'issued_at'],
    ['issued in the future', async () => ({ claims: (c) => ({ ...c, iat: c.iat! + 600, exp: c.exp! + 600 }) }), 'issued_at'],
    ['another issuer', async () => ({ claims: (c) => ({ ...c, iss: 'https://evil.example' }) }), 'issuer'],
    ['signed by another key, same kid', async () => ({ key: (await generateKeyPair('RS256')).privateKey }), 'signature'],
    ['signed by another key, unknown kid', async () => ({ key: (await generateKeyPair('RS256')).privateKey, kid: 'rotated-away' }), 'signature'],
  ]

  test.each(tampered)('%s is refused', async (_name, make, check) => {
    p.tamper = await make()
    const res = await signIn(t, p, 'alice')
    expect(loginError(res)).toBe('oidc_failed')
    noSession(res)
    expect(await lastLoginEvent(t)).toMatchObject({ status: 'denied', detail: { reason: 'invalid_id_token', check } })
  })

  test('several audiences with azp = our client id are accepted', async () => {
    p.tamper = { claims: (c) => ({ ...c, aud: ['stowage', 'other'], azp: 'stowage' }) }
    const res = await signIn(t, p, 'alice')
    expect((await me(t, res)).username).toBe('alice')
  })

  test('a re-signed but otherwise untouched token passes (the double itself is sound)', async () => {
    p.tamper = { claims: (c) => c }
    expect((await me(t, await signIn(t, p, 'alice'))).username).toBe('alice')
  })
})

describe('per-IP limit on failures', () => {
  test('failed callbacks are bounded; successful sign-ins do not count', async () => {
    const limited = await stowage(p, {}, { ratelimit: { login_per_ip: 3 } })
    try {
      await discovered(limited)
      for (let i = 0; i < 6; i++) expect((await signIn(limited, p, 'alice')).headers.get('location')).toBe('/')
      const held = await begin(limited)
      const back = await p.signIn(held.location.toString(), 'alice')
      for (let i = 0; i < 3; i++) expect(loginError(await finish(limited, new URL('http://localhost/auth/callback?code=x&state=y'), ''))).toBe('oidc_failed')
      const refused = await finish(limited, back, held.pending)
      expect(loginError(refused)).toBe('rate_limited')
      noSession(refused)
      expect(await lastLoginEvent(limited)).toMatchObject({ status: 'denied', detail: { reason: 'rate_limited' } })
      expect(loginError(await limited.call('GET', '/auth/login/oidc'))).toBe('rate_limited')
    } finally {
      await limited.close()
    }
  })
})
