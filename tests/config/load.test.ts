// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The config pipeline: config.yaml → STOWAGE_* env overrides → `*_env` secret
 * indirection → validation (every problem at once, by key) → a frozen, typed
 * object with durations in milliseconds.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildConfig, ConfigError, envNameFor, loadConfigFile, parseListen } from '../../src/config/load.ts'

const dir = mkdtempSync(join(tmpdir(), 'stowage-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
function yamlFile(text: string): string {
  const p = join(dir, `c${++n}.yaml`)
  writeFileSync(p, text)
  return p
}

/** The problems a document produces (fails the test if it loads). */
function problems(doc: unknown, env: Record<string, string> = {}): string[] {
  try {
    buildConfig(doc, env, 'test')
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected the config to be refused')
}

describe('defaults and types', () => {
  test('an empty document gives the documented defaults, durations in ms', () => {
    const c = buildConfig({}, {})
    expect(c.server.listen).toBe(':8080')
    expect(c.server.trusted_proxies).toEqual([])
    expect(c.server.shutdown_timeout).toBe(10_000)
    expect(c.auth.modes).toEqual(['local'])
    expect(c.auth.session.lifetime).toBe(8 * 3_600_000)
    expect(c.auth.session.idle_timeout).toBe(3_600_000)
    expect(c.auth.local.password.min_length).toBe(12)
    expect(c.auth.local.lockout).toEqual({ max_attempts: 5, window: 900_000 })
    expect(c.ratelimit).toEqual({ api_per_minute: 600, login_per_ip: 10, login_window: 900_000, share_per_minute: 10 })
    expect(c.db.sqlite.path).toBe('./stowage.db')
    expect(c.secrets).toEqual({})
    expect(c.masterKey).toBeUndefined()
  })

  test('the result is deeply frozen', () => {
    const c = buildConfig({ backends: [{ id: 'nas', type: 'fs', root: '/srv' }] }, {})
    expect(Object.isFrozen(c)).toBe(true)
    expect(Object.isFrozen(c.auth.session)).toBe(true)
    expect(Object.isFrozen(c.auth.modes)).toBe(true)
    expect(Object.isFrozen(c.backends[0])).toBe(true)
    expect(() => {
      ;(c.server as { listen: string }).listen = ':1'
    }).toThrow(TypeError)
    expect(() => (c.auth.modes as string[]).push('oidc')).toThrow(TypeError)
    expect(c.server.listen).toBe(':8080')
  })

  test('the input document is not modified', () => {
    const doc = { server: { listen: ':9000' } }
    buildConfig(doc, { STOWAGE_LISTEN: ':7000' })
    expect(doc).toEqual({ server: { listen: ':9000' } })
    expect(Object.isFrozen(doc)).toBe(false)
  })

  test('durations are converted everywhere they appear', () => {
    const c = buildConfig(
      { auth: { session: { lifetime: '1h30m', idle_timeout: '90s' } }, server: { shutdown_timeout: '500ms' }, audit: { retention: '7d' } },
      {},
    )
    expect(c.auth.session.lifetime).toBe(5_400_000)
    expect(c.auth.session.idle_timeout).toBe(90_000)
    expect(c.server.shutdown_timeout).toBe(500)
    expect(c.audit.retention).toBe(604_800_000)
  })

  test('parseListen accepts host:port and :port only', () => {
    expect(parseListen(':8080')).toEqual({ host: '0.0.0.0', port: 8080 })
    expect(parseListen('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 })
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 })
    for (const bad of ['8080', 'host', ':70000', 'a b:80', '']) expect(parseListen(bad)).toBeUndefined()
  })
})

describe('the file', () => {
  test('YAML values override defaults', async () => {
    const c = await loadConfigFile(yamlFile('server:\n  listen: "127.0.0.1:9999"\nauth:\n  session:\n    lifetime: 2h\nlog:\n  level: debug\n'), {})
    expect(c.server.listen).toBe('127.0.0.1:9999')
    expect(c.auth.session.lifetime).toBe(7_200_000)
    expect(c.log.level).toBe('debug')
    expect(c.source).toContain('.yaml')
  })

  test('a missing file is a clear error', async () => {
    const err = await loadConfigFile(join(dir, 'missing.yaml'), {}).catch((e) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect(err.message).toContain('config file not found')
    expect(err.message).toContain('missing.yaml')
  })

  test('invalid YAML is a clear error naming the file', async () => {
    const p = yamlFile('server: [unclosed\n')
    const err = await loadConfigFile(p, {}).catch((e) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect(err.message).toContain(p)
    expect(err.message).toContain('not valid YAML')
  })

  test('an empty file means defaults; a non-mapping top level is refused', async () => {
    expect((await loadConfigFile(yamlFile(''), {})).server.listen).toBe(':8080')
    const err = await loadConfigFile(yamlFile('- a\n- b\n'), {}).catch((e) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect(err.message).toContain('mapping')
  })
})

describe('unknown keys are errors', () => {
  test('at the top level, in nested sections and inside backends[] entries', () => {
    const p = problems({
      sever: { listen: ':1' },
      auth: { session: { lifetime: '1h', lifetme: '2h' }, local: { password: { min_lenght: 3 } } },
      backends: [
        { id: 'a', type: 'fs', root: '/a' },
        { id: 'b', type: 'fs', root: '/b', rooot: '/c' },
      ],
    })
    expect(p).toContain('sever: unknown key')
    expect(p).toContain('auth.session.lifetme: unknown key')
    expect(p).toContain('auth.local.password.min_lenght: unknown key')
    expect(p).toContain('backends[1].rooot: unknown key')
    expect(p.some((x) => x.startsWith('backends[0]'))).toBe(false)
  })

  test('in a YAML file, naming the key', async () => {
    const err = await loadConfigFile(yamlFile('server:\n  listen: ":8080"\n  tls: true\n'), {}).catch((e) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect(err.problems).toEqual(['server.tls: unknown key'])
  })
})

describe('validation reports every problem at once, by key', () => {
  test('type, enum, range, duration and semantic problems together', () => {
    const p = problems({
      server: { listen: 'nope', trusted_proxies: ['10.0.0.0/8', 'not-a-cidr'], shutdown_timeout: 'soon' },
      log: { level: 'loud' },
      auth: { modes: [], local: { password: { min_length: 3 } }, session: { idle_timeout: 5 } },
      ratelimit: { api_per_minute: -1 },
    })
    const keys = p.map((x) => x.split(':')[0])
    for (const k of [
      'server.shutdown_timeout',
      'log.level',
      'auth.modes',
      'auth.local.password.min_length',
      'auth.session.idle_timeout',
      'ratelimit.api_per_minute',
    ]) {
      expect(keys).toContain(k)
    }
    expect(p.find((x) => x.startsWith('log.level'))).toContain('"loud"')
    expect(p.find((x) => x.startsWith('server.shutdown_timeout'))).toContain('not a duration')
  })

  test('semantic problems are all reported once the types are right', () => {
    const p = problems({
      server: { listen: 'nope', public_url: 'https://x.example/path', trusted_proxies: ['10.0.0.0/8', 'bogus'] },
      auth: { modes: ['local', 'local', 'oidc', 'static'] },
      backends: [
        { id: 'a', type: 'fs' },
        { id: 'a', type: 's3', endpoint: 'ftp://x' },
      ],
      s3_proxy: { enabled: true, listen: ':8080', public_hostname: 'https://proxy.example' },
    })
    const keys = p.map((x) => x.split(':')[0])
    expect(keys).toEqual(
      expect.arrayContaining([
        'server.listen',
        'server.public_url',
        'server.trusted_proxies[1]',
        'auth.modes',
        'auth.oidc.issuer',
        'auth.oidc.client_id',
        'auth.static.username',
        'auth.static.password_hash_env',
        'backends[0].root',
        'backends[1].id',
        'backends[1].endpoint',
        'backends[1].access_key_env',
        'backends[1].secret_key_env',
        's3_proxy.public_hostname',
      ]),
    )
  })

  test('the proxy listener must differ from the dashboard listener', () => {
    expect(problems({ server: { listen: ':8080' }, s3_proxy: { enabled: true, listen: '127.0.0.1:8080' } })).toEqual([
      's3_proxy.listen: must differ from server.listen',
    ])
  })

  test('a missing secret is reported together with the other problems', () => {
    const p = problems(
      { server: { listen: 'nope' }, backends: [{ id: 'm', type: 's3', endpoint: 'http://127.0.0.1:9000', access_key_env: 'M_AK', secret_key_env: 'M_SK' }] },
      { M_AK: 'ak' },
    )
    expect(p).toContain('backends[0].secret_key_env: environment variable M_SK is not set')
    expect(p.some((x) => x.startsWith('server.listen'))).toBe(true)
    expect(p.some((x) => x.includes('M_AK'))).toBe(false)
  })

  test('a CIDR with an extra suffix is not silently truncated', () => {
    expect(problems({ server: { trusted_proxies: ['10.0.0.0/8/9'] } })).toEqual(['server.trusted_proxies[0]: not an IP or CIDR: "10.0.0.0/8/9"'])
  })

  test('backends need an id of the documented shape and a known type', () => {
    const p = problems({ backends: [{ id: 'Bad Id', type: 'fs', root: '/x' }, { type: 'ftp' }] })
    expect(p.some((x) => x.startsWith('backends.0.id') || x.startsWith('backends[0].id'))).toBe(true)
    expect(p.some((x) => /^backends(\.1|\[1\])\.id/.test(x))).toBe(true)
    expect(p.some((x) => /^backends(\.1|\[1\])\.type/.test(x))).toBe(true)
  })
})

describe('STOWAGE_* environment overrides', () => {
  test('env wins over the file, with coercion by type', async () => {
    const env = {
      STOWAGE_LISTEN: '127.0.0.1:7000',
      STOWAGE_AUTH__SESSION__LIFETIME: '12h',
      STOWAGE_AUTH__LOCAL__PASSWORD__MIN_LENGTH: '16',
      STOWAGE_AUTH__LOCAL__PASSWORD__PREVENT_REUSE: 'false',
      STOWAGE_SERVER__TRUSTED_PROXIES: '10.0.0.0/8, 192.168.0.1',
      STOWAGE_S3_PROXY__GLOBAL_RPS: '2.5',
      STOWAGE_LOG_LEVEL: 'warn',
    }
    const c = await loadConfigFile(yamlFile('server:\n  listen: ":8080"\nauth:\n  session:\n    lifetime: 1h\n'), env)
    expect(c.server.listen).toBe('127.0.0.1:7000')
    expect(c.auth.session.lifetime).toBe(12 * 3_600_000)
    expect(c.auth.local.password.min_length).toBe(16)
    expect(c.auth.local.password.prevent_reuse).toBe(false)
    expect(c.server.trusted_proxies).toEqual(['10.0.0.0/8', '192.168.0.1'])
    expect(c.s3_proxy.global_rps).toBe(2.5)
    expect(c.log.level).toBe('warn')
  })

  test('the long name of every scalar key is STOWAGE_ + key with __', () => {
    expect(envNameFor('auth.session.idle_timeout')).toBe('STOWAGE_AUTH__SESSION__IDLE_TIMEOUT')
    expect(buildConfig({}, { STOWAGE_SERVER__LISTEN: ':1234' }).server.listen).toBe(':1234')
  })

  test('coercion errors name the key and the variable', () => {
    const p = problems(
      {},
      {
        STOWAGE_AUTH__LOCAL__PASSWORD__PREVENT_REUSE: 'maybe',
        STOWAGE_RATELIMIT__API_PER_MINUTE: 'lots',
        STOWAGE_AUTH__SESSION__IDLE_TIMEOUT: 'forever',
        STOWAGE_AUTH__LOCAL__LOCKOUT__MAX_ATTEMPTS: '2.5',
      },
    )
    expect(p).toContain('auth.local.password.prevent_reuse: STOWAGE_AUTH__LOCAL__PASSWORD__PREVENT_REUSE="maybe" is not a valid boolean')
    expect(p).toContain('ratelimit.api_per_minute: STOWAGE_RATELIMIT__API_PER_MINUTE="lots" is not a valid integer')
    expect(p.find((x) => x.startsWith('auth.session.idle_timeout'))).toContain('not a duration')
    expect(p.some((x) => x.startsWith('auth.local.lockout.max_attempts'))).toBe(true)
  })

  test('a STOWAGE_ name with __ that names no key is an error; unrelated variables are ignored', () => {
    expect(problems({}, { STOWAGE_AUTH__SESION__LIFETIME: '1h' })).toEqual(['STOWAGE_AUTH__SESION__LIFETIME: environment variable names no config key'])
    expect(() => buildConfig({}, { HOME: '/root', STOWAGE_CONFIG: 'x.yaml', PATH: '/bin' })).not.toThrow()
  })

  test('STOWAGE_SECRET_KEY is read directly, never as a config key', () => {
    const c = buildConfig({}, { STOWAGE_SECRET_KEY: 'a'.repeat(64) })
    expect(c.masterKey).toBe('a'.repeat(64))
    expect(JSON.stringify({ ...c, masterKey: undefined })).not.toContain('a'.repeat(64))
  })
})

describe('*_env secret indirection', () => {
  const s3 = { id: 'minio', type: 's3', endpoint: 'http://127.0.0.1:9000', access_key_env: 'MINIO_AK', secret_key_env: 'MINIO_SK' }

  test('the named variables are resolved into config.secrets', () => {
    const c = buildConfig({ backends: [s3] }, { MINIO_AK: 'access', MINIO_SK: 'secret' })
    expect(c.secrets).toEqual({ MINIO_AK: 'access', MINIO_SK: 'secret' })
    expect(c.backends[0]!.access_key_env).toBe('MINIO_AK')
  })

  test('missing or empty variables are problems naming the key and the variable', () => {
    expect(problems({ backends: [s3] }, { MINIO_AK: '' })).toEqual([
      'backends[0].access_key_env: environment variable MINIO_AK is not set',
      'backends[0].secret_key_env: environment variable MINIO_SK is not set',
    ])
  })

  test('the static admin hash comes from the named variable', () => {
    const doc = { auth: { modes: ['local', 'static'], static: { username: 'root', password_hash_env: 'ROOT_HASH' } } }
    expect(problems(doc)).toEqual(['auth.static.password_hash_env: environment variable ROOT_HASH is not set'])
    expect(buildConfig(doc, { ROOT_HASH: '$argon2id$v=19$m=1024,t=1,p=1$abc$def' }).secrets.ROOT_HASH).toStartWith('$argon2id$')
  })

  test('secrets of disabled features are not required', () => {
    expect(() => buildConfig({ auth: { oidc: { client_secret_env: 'NOT_SET' } } }, {})).not.toThrow()
  })
})
