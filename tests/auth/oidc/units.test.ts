// SPDX-License-Identifier: AGPL-3.0-or-later
/** The pure parts of SSO: claim paths and role mapping, usernames, emails, `next`, the pending-attempt cookie, discovery parsing. */
import { describe, expect, test } from 'bun:test'
import { claimAt, claimValues, isFormOf, mapRole, usernameBase, verifiedEmail } from '../../../src/auth/oidc/claims.ts'
import { discoveryUrl, parseMetadata } from '../../../src/auth/oidc/discovery.ts'
import { createPendingCodec, findPending, type Pending } from '../../../src/auth/oidc/pending.ts'
import { externalBase, safeNextPath } from '../../../src/auth/oidc/urls.ts'

const MAPPING = { admin: ['admins'], user: ['staff'], readonly: ['viewers'] }

describe('claims', () => {
  const claims = { groups: ['staff'], realm_access: { roles: ['admins', 'offline_access'] }, 'https://example.com/roles': ['viewers'], n: { s: 'x' } }

  test('dotted paths reach nested claims; a claim named with dots is found whole first', () => {
    expect(claimAt(claims, 'groups')).toEqual(['staff'])
    expect(claimAt(claims, 'realm_access.roles')).toEqual(['admins', 'offline_access'])
    expect(claimAt(claims, 'https://example.com/roles')).toEqual(['viewers'])
    expect(claimAt(claims, 'n.s')).toBe('x')
    expect(claimAt(claims, 'realm_access.missing')).toBeUndefined()
    expect(claimAt(claims, 'groups.length')).toBeUndefined()
    expect(claimAt(claims, '__proto__.constructor')).toBeUndefined()
  })

  test('values: a string is one value; arrays keep strings and numbers', () => {
    expect(claimValues('admins')).toEqual(['admins'])
    expect(claimValues(['a', 2, { x: 1 }, null])).toEqual(['a', '2'])
    expect(claimValues({ a: 1 })).toEqual([])
    expect(claimValues(undefined)).toEqual([])
  })

  test('role mapping: first of admin, user, readonly; exact, case-sensitive; default or refusal', () => {
    expect(mapRole(['viewers', 'admins'], MAPPING, '')).toBe('admin')
    expect(mapRole(['viewers', 'staff'], MAPPING, '')).toBe('user')
    expect(mapRole(['viewers'], MAPPING, '')).toBe('readonly')
    expect(mapRole(['Admins'], MAPPING, '')).toBeNull()
    expect(mapRole([], MAPPING, '')).toBeNull()
    expect(mapRole(['other'], MAPPING, 'readonly')).toBe('readonly')
    expect(mapRole(['admins'], MAPPING, 'readonly')).toBe('admin')
  })

  test('usernames are valid Stowage usernames', () => {
    expect(usernameBase({ preferred_username: 'alice', email: 'a@x', sub: 's' })).toBe('alice')
    expect(usernameBase({ email: 'a@x.org', sub: 's' })).toBe('a@x.org')
    expect(usernameBase({ sub: '1234' })).toBe('1234')
    expect(usernameBase({ preferred_username: '..//', sub: 'abc' })).toBe('abc')
    expect(usernameBase({ sub: '///' })).toMatch(/^user-[0-9a-f]{12}$/)
    expect(usernameBase({ preferred_username: 'x'.repeat(100), sub: 's' })).toHaveLength(56)
    expect(isFormOf('heidi-2', 'heidi')).toBe(true)
    expect(isFormOf('Heidi', 'heidi')).toBe(true)
    expect(isFormOf('heidi-x', 'heidi')).toBe(false)
  })

  test('email only when well-formed and not marked unverified', () => {
    expect(verifiedEmail({ email: 'a@b.c' })).toBe('a@b.c')
    expect(verifiedEmail({ email: 'a@b.c', email_verified: true })).toBe('a@b.c')
    expect(verifiedEmail({ email: 'a@b.c', email_verified: false })).toBeNull()
    expect(verifiedEmail({ email: 'a@b.c', email_verified: 'false' })).toBeNull()
    expect(verifiedEmail({ email: 'not an email' })).toBeNull()
    expect(verifiedEmail({})).toBeNull()
  })
})

describe('next and our base URL', () => {
  test.each([
    ['/x?y=1#z', '/x?y=1#z'],
    [undefined, '/'],
    ['', '/'],
    ['x', '/'],
    ['//evil', '/'],
    ['/\\evil', '/'],
    ['/a\\b', '/'],
    ['/a\tb', '/'],
    ['https://evil/', '/'],
    ['/login?next=/x', '/'],
    ['/' + 'a'.repeat(500), '/'],
    ['/../../etc', '/etc'],
  ])('%p → %p', (raw, expected) => {
    expect(safeNextPath(raw)).toBe(expected)
  })

  test('public_url wins; otherwise the request’s Host and scheme', () => {
    const req = new Request('http://internal:8080/auth/login/oidc', { headers: { host: 'stowage.home.arpa' } })
    expect(externalBase('https://files.example.com/', req, false)).toBe('https://files.example.com')
    expect(externalBase('', req, true)).toBe('https://stowage.home.arpa')
    expect(externalBase('', req, false)).toBe('http://stowage.home.arpa')
  })
})

describe('pending-attempt cookie', () => {
  const attempt = (state: string, exp = Date.now() + 60_000): Pending => ({
    state,
    verifier: 'v'.repeat(43),
    nonce: 'n',
    next: '/',
    redirectUri: 'http://localhost/auth/callback',
    exp,
  })
  const valueOf = (setCookie: string): string => /^stowage_oidc=([^;]*)/.exec(setCookie)![1]!

  test('round-trips, signed; edits and other keys are refused', () => {
    const codec = createPendingCodec()
    const v = valueOf(codec.cookie([attempt('s1')], false))
    expect(codec.read(v).map((p) => p.state)).toEqual(['s1'])
    const [payload, sig] = v.split('.')
    const forged = Buffer.from(JSON.stringify([{ ...attempt('s1'), next: 'https://evil/' }])).toString('base64url')
    expect(codec.read(`${forged}.${sig}`)).toEqual([])
    expect(codec.read(`${payload}.${sig!.slice(1)}x`)).toEqual([])
    expect(createPendingCodec().read(v)).toEqual([])
    expect(codec.read('garbage')).toEqual([])
  })

  test('keeps the last three live attempts and drops expired ones', () => {
    const codec = createPendingCodec()
    const v = valueOf(codec.cookie([attempt('a'), attempt('b'), attempt('c'), attempt('d'), attempt('old', Date.now() - 1)], true))
    const list = codec.read(v)
    expect(list.map((p) => p.state)).toEqual(['c', 'd'])
    expect(findPending(list, 'd')?.state).toBe('d')
    expect(findPending(list, 'a')).toBeUndefined()
  })

  test('an empty list clears the cookie', () => {
    expect(createPendingCodec().cookie([], true)).toBe('stowage_oidc=; Max-Age=0; Path=/auth; HttpOnly; SameSite=Lax; Secure')
  })
})

describe('discovery document', () => {
  const doc = {
    issuer: 'https://id.example/realms/x',
    authorization_endpoint: 'https://id.example/a',
    token_endpoint: 'https://id.example/t',
    jwks_uri: 'https://id.example/k',
  }

  test('the well-known URL drops a trailing slash of the issuer first', () => {
    expect(discoveryUrl('https://id.example/application/o/stowage/')).toBe('https://id.example/application/o/stowage/.well-known/openid-configuration')
    expect(discoveryUrl('https://accounts.google.com')).toBe('https://accounts.google.com/.well-known/openid-configuration')
  })

  test('accepts a valid document', () => {
    expect(parseMetadata({ ...doc, end_session_endpoint: 'https://id.example/logout' }, doc.issuer)).toMatchObject({
      token_endpoint: 'https://id.example/t',
      end_session_endpoint: 'https://id.example/logout',
    })
  })

  test.each([
    [{ ...doc, issuer: 'https://id.example/realms/x/' }, /issuer mismatch/],
    [{ ...doc, issuer: 'https://evil.example/realms/x' }, /issuer mismatch/],
    [{ ...doc, token_endpoint: undefined }, /token_endpoint/],
    [{ ...doc, jwks_uri: 'file:///etc/passwd' }, /jwks_uri/],
    [{ ...doc, code_challenge_methods_supported: ['plain'] }, /S256/],
    [{ ...doc, response_types_supported: ['id_token'] }, /authorization-code/],
    [[], /not a JSON object/],
  ])('refuses %#', (bad, message) => {
    expect(() => parseMetadata(bad, doc.issuer)).toThrow(message)
  })
})
