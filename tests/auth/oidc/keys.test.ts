// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * ID-token verification against a real provider's JWKS, including a key
 * rotation: the provider is replaced on the same address by one with a new
 * signing key, and tokens with the new `kid` verify after a JWKS refetch
 * while tokens from the retired key stop verifying.
 */
import { afterAll, expect, test } from 'bun:test'
import { createDiscovery } from '../../../src/auth/oidc/discovery.ts'
import { IdTokenError, verifyIdToken } from '../../../src/auth/oidc/id-token.ts'
import { silentLogger } from '../../../src/lib/log.ts'
import { createTestProvider, type TestProvider } from '../../helpers/oidc-provider.ts'

const running: TestProvider[] = []
afterAll(async () => {
  for (const p of running) await p.stop()
})

const clients = [{ client_id: 'stowage', redirect_uris: ['http://localhost/auth/callback'] }]

async function token(p: TestProvider, extra: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return p.sign({ iss: p.issuer, aud: 'stowage', sub: 'alice', nonce: 'n-1', iat: now, exp: now + 300, ...extra })
}

async function check(keys: Parameters<typeof verifyIdToken>[1]['keys'], issuer: string, jwt: string): Promise<string> {
  try {
    await verifyIdToken(jwt, { keys, issuer, clientId: 'stowage', nonce: 'n-1' })
    return 'ok'
  } catch (err) {
    return err instanceof IdTokenError ? err.check : String(err)
  }
}

test('verifies with the discovered JWKS and follows a key rotation', async () => {
  const before = await createTestProvider({ clients, kid: 'key-2025' })
  running.push(before)
  const discovery = createDiscovery({ issuer: before.issuer, logger: silentLogger, jwksCooldownMs: 0 })
  const provider = await discovery.ensure()
  expect(discovery.status()).toEqual({ available: true })
  const oldToken = await token(before)
  expect(await check(provider.jwks, before.issuer, oldToken)).toBe('ok')

  await before.stop()
  const after = await createTestProvider({ clients, kid: 'key-2026', port: before.port })
  running.push(after)
  expect(await check(provider.jwks, after.issuer, await token(after))).toBe('ok')
  expect(await check(provider.jwks, before.issuer, oldToken)).toBe('signature')
  discovery.close()
})

test('alg none and a missing sub are refused', async () => {
  const p = await createTestProvider({ clients })
  running.push(p)
  const discovery = createDiscovery({ issuer: p.issuer, logger: silentLogger })
  const { jwks } = await discovery.ensure()
  const now = Math.floor(Date.now() / 1000)
  const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: p.issuer, aud: 'stowage', sub: 'alice', nonce: 'n-1', iat: now, exp: now + 60 })}.`
  expect(await check(jwks, p.issuer, unsigned)).toBe('signature')
  expect(await check(jwks, p.issuer, await token(p, { sub: undefined }))).toBe('malformed')
  expect(await check(jwks, p.issuer, 'not-a-jwt')).toBe('malformed')
  discovery.close()
})
