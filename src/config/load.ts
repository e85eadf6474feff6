// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Config pipeline: YAML file → STOWAGE_* env overrides → defaults → validation
 * (every problem reported at once, by key) → `*_env` secret indirection →
 * durations to milliseconds → deep-frozen object. Nothing else in the program
 * reads the environment.
 */
import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import { ConfigSchema, type Config } from './schema.ts'
import { parseDuration } from '../lib/duration.ts'
import { parseCidr } from '../lib/cidr.ts'

export type AppConfig = Readonly<Config> & {
  /** Values of the environment variables named by `*_env` keys, by variable name. */
  readonly secrets: Readonly<Record<string, string>>
  /** `STOWAGE_SECRET_KEY`, when set. */
  readonly masterKey: string | undefined
  /** Where the config came from, for logs and `/readyz`. */
  readonly source: string
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
  }
}

type Env = Record<string, string | undefined>
type Obj = Record<string, unknown>

/** Short names kept from the original for drop-in compatibility. */
const ENV_ALIASES: Record<string, string> = {
  STOWAGE_LISTEN: 'server.listen',
  STOWAGE_PUBLIC_URL: 'server.public_url',
  STOWAGE_LOG_LEVEL: 'log.level',
  STOWAGE_LOG_FORMAT: 'log.format',
  STOWAGE_SQLITE_PATH: 'db.sqlite.path',
  STOWAGE_SECRET_KEY_FILE: 'server.secret_key_file',
}
/** Environment variables read directly, never as config keys. */
const DIRECT_ENV = new Set(['STOWAGE_SECRET_KEY', 'STOWAGE_CONFIG'])

export function envNameFor(key: string): string {
  return 'STOWAGE_' + key.toUpperCase().replaceAll('.', '__')
}

export type BuildOptions = {
  /**
   * `skip` leaves `secrets` empty and does not require the `*_env` variables:
   * backup and restore read only paths, and a cron job should not need the
   * backends' keys in its environment.
   */
  secrets?: 'resolve' | 'skip'
}

export async function loadConfigFile(path: string, env: Env, opts: BuildOptions = {}): Promise<AppConfig> {
  const file = Bun.file(path)
  if (!(await file.exists())) throw new ConfigError([`config file not found: ${path}`])
  let raw: unknown
  try {
    raw = Bun.YAML.parse(await file.text())
  } catch (err) {
    throw new ConfigError([`${path}: not valid YAML: ${(err as Error).message}`])
  }
  return buildConfig(raw ?? {}, env, path, opts)
}

/** Builds the frozen config from a parsed document (tests and quickstart pass objects). */
export function buildConfig(doc: unknown, env: Env, source = 'defaults', opts: BuildOptions = {}): AppConfig {
  const problems: string[] = []
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ConfigError([`${source}: the top level must be a mapping of keys`])
  }
  const raw = structuredClone(doc) as Obj
  unknownKeys(ConfigSchema, raw, '', problems)
  applyEnv(raw, env, problems)
  const withDefaults = Value.Default(ConfigSchema, raw) as Obj
  for (const e of Value.Errors(ConfigSchema, withDefaults)) {
    if (e.message.includes('Unexpected property')) continue
    problems.push(`${keyOf(e.path)}: ${describe(e.schema, e.message, e.value)}`)
  }
  const typed = problems.length === 0
  try {
    semanticChecks(withDefaults as unknown as Config, problems)
  } catch (err) {
    // Values of the wrong type were already reported above; only a clean document must pass these checks.
    if (typed) throw err
  }
  // Missing secrets are reported with every other problem, so one fix-and-retry round is enough.
  const secrets = typed && opts.secrets !== 'skip' ? resolveSecrets(withDefaults as unknown as Config, env, problems) : {}
  if (problems.length > 0) throw new ConfigError(problems)
  convertDurations(ConfigSchema, withDefaults)
  const out = { ...withDefaults, secrets, masterKey: env.STOWAGE_SECRET_KEY || undefined, source }
  return deepFreeze(out) as unknown as AppConfig
}

function keyOf(pointer: string): string {
  return pointer.replace(/^\//, '').replaceAll('/', '.') || '(root)'
}

function describe(schema: TSchema, message: string, value: unknown): string {
  if (schema.duration) return `not a duration: ${JSON.stringify(value)} (use e.g. "90s", "15m", "8h")`
  if (schema.anyOf && schema.anyOf.every((s: TSchema) => s.const !== undefined)) {
    return `must be one of ${schema.anyOf.map((s: TSchema) => JSON.stringify(s.const)).join(', ')}, got ${JSON.stringify(value)}`
  }
  return message.toLowerCase()
}

function unknownKeys(schema: TSchema, value: unknown, path: string, problems: string[]): void {
  if (schema.type === 'object' && schema.properties && value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Obj)) {
      const sub = schema.properties[k] as TSchema | undefined
      const key = path ? `${path}.${k}` : k
      if (!sub) problems.push(`${key}: unknown key`)
      else unknownKeys(sub, v, key, problems)
    }
  } else if (schema.type === 'array' && schema.items && Array.isArray(value)) {
    value.forEach((item, i) => unknownKeys(schema.items as TSchema, item, `${path}[${i}]`, problems))
  }
}

/** Leaf keys of the schema (not inside arrays), with their schemas. */
export function leafKeys(schema: TSchema = ConfigSchema, prefix = ''): Array<[string, TSchema]> {
  const out: Array<[string, TSchema]> = []
  for (const [k, sub] of Object.entries(schema.properties ?? {}) as Array<[string, TSchema]>) {
    const key = prefix ? `${prefix}.${k}` : k
    if (sub.type === 'object' && sub.properties) out.push(...leafKeys(sub, key))
    else out.push([key, sub])
  }
  return out
}

function applyEnv(raw: Obj, env: Env, problems: string[]): void {
  const byName = new Map<string, [string, TSchema]>()
  for (const [key, schema] of leafKeys()) {
    if (schema.type === 'array' && schema.items?.type === 'object') continue
    byName.set(envNameFor(key), [key, schema])
  }
  for (const [alias, key] of Object.entries(ENV_ALIASES)) byName.set(alias, [key, leafKeys().find(([k]) => k === key)![1]])
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith('STOWAGE_') || text === undefined || DIRECT_ENV.has(name)) continue
    const hit = byName.get(name)
    if (!hit) {
      if (name.includes('__')) problems.push(`${name}: environment variable names no config key`)
      continue
    }
    const [key, schema] = hit
    const parsed = coerce(schema, text)
    if (parsed === undefined) problems.push(`${key}: ${name}=${JSON.stringify(text)} is not a valid ${schema.type}`)
    else setPath(raw, key, parsed)
  }
}

function coerce(schema: TSchema, text: string): unknown {
  switch (schema.type) {
    case 'boolean':
      return /^(true|1|yes|on)$/i.test(text) ? true : /^(false|0|no|off)$/i.test(text) ? false : undefined
    case 'integer':
    case 'number': {
      const n = Number(text)
      return text.trim() !== '' && Number.isFinite(n) ? n : undefined
    }
    case 'array':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    default:
      return text
  }
}

function setPath(obj: Obj, key: string, value: unknown): void {
  const parts = key.split('.')
  let cur = obj
  for (const p of parts.slice(0, -1)) {
    if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {}
    cur = cur[p] as Obj
  }
  cur[parts.at(-1)!] = value
}

const LISTEN = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/

export function parseListen(listen: string): { host: string; port: number } | undefined {
  const m = LISTEN.exec(listen)
  if (!m) return undefined
  const port = Number(m[2])
  if (port > 65535) return undefined
  const host = m[1]!.replace(/^\[|\]$/g, '')
  return { host: host || '0.0.0.0', port }
}

function semanticChecks(c: Config, problems: string[]): void {
  if (!parseListen(c.server.listen)) problems.push(`server.listen: must be host:port or :port, got ${JSON.stringify(c.server.listen)}`)
  if (c.server.public_url && !/^https?:\/\/[^/?#]+\/?$/.test(c.server.public_url)) {
    problems.push('server.public_url: must be an http(s) URL without a path, e.g. https://stowage.example.com')
  }
  c.server.trusted_proxies.forEach((p, i) => {
    if (!parseCidr(p)) problems.push(`server.trusted_proxies[${i}]: not an IP or CIDR: ${JSON.stringify(p)}`)
  })
  if (c.db.driver === 'sqlite' && !c.db.sqlite.path) problems.push('db.sqlite.path: must not be empty')
  if (c.db.driver === 'postgres' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.db.postgres.url_env))
    problems.push('db.postgres.url_env: must name an environment variable')
  if (new Set(c.auth.modes).size !== c.auth.modes.length) problems.push('auth.modes: lists a mode twice')
  if (c.auth.modes.includes('oidc')) {
    if (!c.auth.oidc.issuer) problems.push('auth.oidc.issuer: required when auth.modes contains oidc')
    else if (!/^https?:\/\//.test(c.auth.oidc.issuer)) problems.push('auth.oidc.issuer: must be an http(s) URL')
    if (!c.auth.oidc.client_id) problems.push('auth.oidc.client_id: required when auth.modes contains oidc')
    if (!c.auth.oidc.scopes.includes('openid')) problems.push('auth.oidc.scopes: must include "openid"')
  }
  const staticOn = c.auth.static.enabled || c.auth.modes.includes('static')
  if (staticOn) {
    if (!c.auth.static.username) problems.push('auth.static.username: required when the static admin is enabled')
    if (!c.auth.static.password_hash_env) problems.push('auth.static.password_hash_env: required when the static admin is enabled')
  }
  const ids = new Set<string>()
  c.backends.forEach((b, i) => {
    const at = `backends[${i}]`
    if (ids.has(b.id)) problems.push(`${at}.id: duplicate backend id ${JSON.stringify(b.id)}`)
    ids.add(b.id)
    if (b.type === 'fs') {
      if (!b.root) problems.push(`${at}.root: required for type fs`)
    } else {
      if (!/^https?:\/\/[^/?#]+\/?$/.test(b.endpoint)) problems.push(`${at}.endpoint: must be an http(s) URL without a path`)
      if (!b.access_key_env) problems.push(`${at}.access_key_env: required for type s3`)
      if (!b.secret_key_env) problems.push(`${at}.secret_key_env: required for type s3`)
    }
  })
  if (c.s3_proxy.enabled) {
    const proxy = parseListen(c.s3_proxy.listen)
    const dash = parseListen(c.server.listen)
    if (!proxy) problems.push(`s3_proxy.listen: must be host:port or :port, got ${JSON.stringify(c.s3_proxy.listen)}`)
    else if (dash && proxy.port === dash.port && proxy.port !== 0) problems.push('s3_proxy.listen: must differ from server.listen')
  }
  if (/[/?#]|:\/\//.test(c.s3_proxy.public_hostname)) problems.push('s3_proxy.public_hostname: a bare host[:port], without scheme or path')
  c.s3_proxy.host_suffixes.forEach((s, i) => {
    if (!/^[a-z0-9.-]+(:\d+)?$/i.test(s)) problems.push(`s3_proxy.host_suffixes[${i}]: not a host name: ${JSON.stringify(s)}`)
  })
}

function resolveSecrets(c: Config, env: Env, problems: string[]): Record<string, string> {
  const wanted: Array<[string, string]> = []
  c.backends.forEach((b, i) => {
    if (b.type === 'fs') return
    wanted.push([`backends[${i}].access_key_env`, b.access_key_env], [`backends[${i}].secret_key_env`, b.secret_key_env])
  })
  if (c.auth.modes.includes('oidc') && c.auth.oidc.client_secret_env) wanted.push(['auth.oidc.client_secret_env', c.auth.oidc.client_secret_env])
  if (c.auth.static.enabled || c.auth.modes.includes('static')) wanted.push(['auth.static.password_hash_env', c.auth.static.password_hash_env])
  if (c.db.driver === 'postgres') wanted.push(['db.postgres.url_env', c.db.postgres.url_env])
  const out: Record<string, string> = {}
  for (const [key, name] of wanted) {
    if (!name) continue // an empty name is already reported by semanticChecks
    const value = env[name]
    if (!value) problems.push(`${key}: environment variable ${name} is not set`)
    else out[name] = value
  }
  return out
}

function convertDurations(schema: TSchema, value: unknown): void {
  if (!value || typeof value !== 'object') return
  for (const [k, sub] of Object.entries(schema.properties ?? {}) as Array<[string, TSchema]>) {
    const obj = value as Obj
    if (sub.duration) obj[k] = parseDuration(String(obj[k]))
    else if (sub.type === 'object') convertDurations(sub, obj[k])
  }
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x)
    Object.freeze(v)
  }
  return v
}
