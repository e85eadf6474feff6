// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Versioning, policy and lifecycle (backend capabilities: RGW has them all;
 * the fs driver keeps lifecycle rules itself and answers 501 for the rest)
 * and proxy-side CORS rules (every backend).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { errorCode, type Client } from '../helpers/app.ts'
import { s3Env } from '../helpers/s3.ts'
import { auditOf } from '../quotas/audit-rows.ts'
import { KINDS, storageApp, type StorageApp } from '../quotas/storage-fixture.ts'

// RGW shares the machine with other suites; a busy moment must not fail a test on Bun's 5 s default.
setDefaultTimeout(20_000)

const publicRead = (bucket: string): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'PublicRead', Effect: 'Allow', Principal: { AWS: ['*'] }, Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/*`] }],
  })

describe.each(KINDS)('bucket settings on %s', (kind) => {
  let app: StorageApp
  let admin: Client
  let b: string

  beforeAll(async () => {
    app = await storageApp(kind)
    admin = await app.t.user('admin')
    b = await app.bucket('settings')
  })
  afterAll(() => app.cleanup())

  const call = (method: string, path: string, json?: unknown) => app.t.call(method, path, { as: admin, json })

  if (kind === 'fs') {
    test.each([
      ['GET', 'policy', undefined],
      ['PUT', 'policy', { policy: '{}' }],
      ['DELETE', 'policy', undefined],
      ['PUT', 'lifecycle', { rules: [{ enabled: true, transition_days: 30, transition_storage_class: 'GLACIER' }] }],
    ])('%s %s is 501 not_supported', async (method, what, body) => {
      const res = await call(method, `${app.base(b)}/${what}`, body)
      expect(res.status).toBe(501)
      expect(await errorCode(res)).toBe('not_supported')
    })
  }
  test('lifecycle: set, read, replace with [] (audited), delete', async () => {
    const l = await app.bucket('set-lc')
    expect(await (await call('GET', `${app.base(l)}/lifecycle`)).json()).toEqual({ rules: [] })
    const rules = [
      { id: 'expire-logs', prefix: 'logs/', enabled: true, expiration_days: 30 },
      { id: 'cleanup', enabled: false, abort_incomplete_days: 7 },
    ]
    const put = await call('PUT', `${app.base(l)}/lifecycle`, { rules })
    expect(put.status).toBe(200)
    const got = ((await (await call('GET', `${app.base(l)}/lifecycle`)).json()) as { rules: Array<Record<string, unknown>> }).rules
    expect(got).toHaveLength(2)
    expect(got.find((r) => r.id === 'expire-logs')).toMatchObject({ prefix: 'logs/', enabled: true, expiration_days: 30 })
    expect(got.find((r) => r.id === 'cleanup')).toMatchObject({ enabled: false, abort_incomplete_days: 7 })
    expect(await (await call('PUT', `${app.base(l)}/lifecycle`, { rules: [] })).json()).toEqual({ rules: [] })
    expect(await (await call('GET', `${app.base(l)}/lifecycle`)).json()).toEqual({ rules: [] })
    await call('PUT', `${app.base(l)}/lifecycle`, { rules })
    expect((await call('DELETE', `${app.base(l)}/lifecycle`)).status).toBe(204)
    expect(await (await call('GET', `${app.base(l)}/lifecycle`)).json()).toEqual({ rules: [] })
    expect((await auditOf(app.t, l)).map((e) => e.action)).toEqual([
      'bucket.lifecycle.set',
      'bucket.lifecycle.delete',
      'bucket.lifecycle.set',
      'bucket.lifecycle.delete',
    ])
  })

  test('versioning: read, enable, suspend (audited)', async () => {
    const v = await app.bucket('set-ver')
    expect(await (await call('GET', `${app.base(v)}/versioning`)).json()).toEqual({ enabled: false })
    expect(await (await call('PUT', `${app.base(v)}/versioning`, { enabled: true })).json()).toEqual({ enabled: true })
    expect(await (await call('GET', `${app.base(v)}/versioning`)).json()).toEqual({ enabled: true })
    expect(await (await call('PUT', `${app.base(v)}/versioning`, { enabled: false })).json()).toEqual({ enabled: false })
    expect(await (await call('GET', `${app.base(v)}/versioning`)).json()).toEqual({ enabled: false })
    expect((await auditOf(app.t, v, 'bucket.versioning.set')).map((e) => e.detail)).toEqual([{ enabled: true }, { enabled: false }])
  })

  if (kind !== 'fs') {
    test('policy: set, read, delete (audited)', async () => {
      const p = await app.bucket('set-pol')
      expect(await (await call('GET', `${app.base(p)}/policy`)).json()).toEqual({ policy: '' })
      expect((await call('PUT', `${app.base(p)}/policy`, { policy: publicRead(p) })).status).toBe(204)
      const stored = JSON.parse(((await (await call('GET', `${app.base(p)}/policy`)).json()) as { policy: string }).policy)
      expect(stored.Statement[0].Action).toEqual(expect.arrayContaining(['s3:GetObject']))
      expect((await call('DELETE', `${app.base(p)}/policy`)).status).toBe(204)
      expect(await (await call('GET', `${app.base(p)}/policy`)).json()).toEqual({ policy: '' })
      expect((await auditOf(app.t, p)).map((e) => e.action)).toEqual(['bucket.policy.set', 'bucket.policy.delete'])
    })

    test('policy: one the backend refuses is 400 invalid_policy with our own message', async () => {
      const p = await app.bucket('set-polbad')
      const policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:NoSuchAction'], Resource: ['arn:aws:s3:::another-bucket/*'] }],
      })
      const res = await call('PUT', `${app.base(p)}/policy`, { policy })
      expect(res.status).toBe(400)
      const body = (await res.json()) as { error: { code: string; message: string } }
      expect(body.error.code).toBe('invalid_policy')
      expect(body.error.message).toBe('The backend refused this policy; check its principals, actions and resources.')
    })

    test('policy that is not a JSON object is 400 invalid_policy before the backend is asked', async () => {
      for (const policy of ['not json', '[1,2]', '"str"', '']) {
        const res = await call('PUT', `${app.base(b)}/policy`, { policy })
        expect(res.status).toBe(400)
        expect(await errorCode(res)).toBe('invalid_policy')
      }
    })
  }

  test('invalid lifecycle rules are 400 invalid_lifecycle', async () => {
    const bad = [
      [{ enabled: true }],
      [{ enabled: true, expiration_days: 0 }],
      [{ enabled: true, transition_days: 30 }],
      [{ enabled: true, transition_days: 30, transition_storage_class: 'glacier' }],
      [
        { id: 'x', enabled: true, expiration_days: 1 },
        { id: 'x', enabled: true, expiration_days: 2 },
      ],
      [{ enabled: true, expiration_days: 1, prefix: 'a/../b' }],
    ]
    for (const rules of bad) {
      const res = await call('PUT', `${app.base(b)}/lifecycle`, { rules })
      expect(res.status).toBe(400)
      expect(await errorCode(res)).toBe('invalid_lifecycle')
    }
  })

  test('settings of a missing bucket are 404', async () => {
    // On fs, policies are 501 whatever the bucket (above).
    for (const what of kind === 'fs' ? ['versioning', 'lifecycle'] : ['versioning', 'policy', 'lifecycle'])
      expect((await call('GET', `${app.base('no-such-bucket-set')}/${what}`)).status).toBe(404)
  })

  describe('CORS (stored by Stowage, on every backend)', () => {
    test('set, read normalised, serve to the proxy, remove with [] (audited)', async () => {
      const c = await app.bucket('set-cors')
      expect(await (await call('GET', `${app.base(c)}/cors`)).json()).toEqual({ rules: [] })
      const rules = [
        {
          allowed_origins: ['https://app.example.com', 'https://*.Example.org'],
          allowed_methods: ['get', 'PUT', 'GET'],
          allowed_headers: ['Content-Type', 'x-amz-*'],
          expose_headers: ['ETag'],
          max_age_seconds: 600,
        },
        { allowed_origins: ['*'], allowed_methods: ['HEAD'] },
      ]
      expect((await call('PUT', `${app.base(c)}/cors`, { rules })).status).toBe(204)
      const expected = [
        {
          allowed_origins: ['https://app.example.com', 'https://*.example.org'],
          allowed_methods: ['GET', 'PUT'],
          allowed_headers: ['content-type', 'x-amz-*'],
          expose_headers: ['etag'],
          max_age_seconds: 600,
        },
        { allowed_origins: ['*'], allowed_methods: ['HEAD'] },
      ]
      expect(await (await call('GET', `${app.base(c)}/cors`)).json()).toEqual({ rules: expected })
      expect(app.t.s.cors.corsRules(app.bid, c)).toEqual(expected)
      expect(app.t.s.cors.corsRules(app.bid, 'other-bucket')).toEqual([])

      expect((await call('PUT', `${app.base(c)}/cors`, { rules: [] })).status).toBe(204)
      expect(app.t.s.cors.corsRules(app.bid, c)).toEqual([])
      expect(await app.t.s.db.get('SELECT COUNT(*) AS n FROM bucket_cors WHERE bucket = ?', [c])).toEqual({ n: 0 })
      expect((await auditOf(app.t, c, 'bucket.cors.set')).map((e) => e.detail)).toEqual([{ rules: 2 }, { rules: 0 }])
    })

    test('on an S3 backend the rules reach the backend itself; removing them removes them there', async () => {
      if (!app.t.s.registry.get(app.bid).capabilities.backend_cors) return
      const c = await app.bucket('backend-cors')
      const preflight = (origin: string): Promise<Response> =>
        fetch(`${s3Env().endpoint}/${c}/some-key`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'PUT' } })
      expect((await preflight('https://app.example.com')).status).toBe(403)
      const rules = [{ allowed_origins: ['https://app.example.com'], allowed_methods: ['GET', 'PUT'], expose_headers: ['ETag'], max_age_seconds: 600 }]
      expect((await call('PUT', `${app.base(c)}/cors`, { rules })).status).toBe(204)
      const allowed = await preflight('https://app.example.com')
      expect(allowed.status).toBe(200)
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
      expect((await preflight('https://other.example.com')).status).toBe(403)
      expect((await call('PUT', `${app.base(c)}/cors`, { rules: [] })).status).toBe(204)
      expect((await preflight('https://app.example.com')).status).toBe(403)
    })

    test('invalid rules are 400 invalid_cors', async () => {
      const ok = { allowed_origins: ['https://a.example'], allowed_methods: ['GET'] }
      const bad = [
        [{ ...ok, allowed_origins: [] }],
        [{ ...ok, allowed_origins: ['https://a.example/path'] }],
        [{ ...ok, allowed_origins: ['https://*.*.example'] }],
        [{ ...ok, allowed_origins: ['a.example'] }],
        [{ ...ok, allowed_origins: ['https://a.example:70000'] }],
        [{ ...ok, allowed_methods: [] }],
        [{ ...ok, allowed_methods: ['PATCH'] }],
        [{ ...ok, allowed_headers: ['bad header'] }],
        [{ ...ok, expose_headers: ['x:y'] }],
        [{ ...ok, max_age_seconds: -1 }],
        [{ ...ok, max_age_seconds: 86_401 }],
        Array.from({ length: 101 }, () => ok),
      ]
      for (const rules of bad) {
        const res = await call('PUT', `${app.base(b)}/cors`, { rules })
        expect(res.status).toBe(400)
        expect(await errorCode(res)).toBe('invalid_cors')
      }
    })

    test('rules for a missing bucket are 404; a deleted bucket loses its rules', async () => {
      expect((await call('PUT', `${app.base('no-such-bucket-cors')}/cors`, { rules: [{ allowed_origins: ['*'], allowed_methods: ['GET'] }] })).status).toBe(404)
      const c = await app.bucket('set-cors2')
      await call('PUT', `${app.base(c)}/cors`, { rules: [{ allowed_origins: ['*'], allowed_methods: ['GET'] }] })
      await app.t.s.accounting.forget(app.bid, c)
      expect(app.t.s.cors.corsRules(app.bid, c)).toEqual([])
      expect(await (await call('GET', `${app.base(c)}/cors`)).json()).toEqual({ rules: [] })
    })

    test('rules survive a restart (loaded from the store)', async () => {
      const c = await app.bucket('set-cors3')
      await call('PUT', `${app.base(c)}/cors`, { rules: [{ allowed_origins: ['*'], allowed_methods: ['GET'] }] })
      const { createCorsService } = await import('../../src/bucket-settings/cors.ts')
      const { createChanges } = await import('../../src/db/changes.ts')
      const fresh = await createCorsService({
        db: app.t.s.db,
        changes: createChanges(app.t.s.db, 'restarted'),
        registry: app.t.s.registry,
        audit: app.t.s.audit,
        logger: app.t.s.logger,
        now: Date.now,
      })
      expect(fresh.corsRules(app.bid, c)).toEqual([{ allowed_origins: ['*'], allowed_methods: ['GET'] }])
      await fresh.close()
    })
  })
})
