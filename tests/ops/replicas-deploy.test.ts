// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The two-replica example of docs/replicas.md holds together without a
 * container runtime: the compose file parses and wires both replicas to the
 * same DSN variable and master key behind a balancer that does not pin
 * clients, the shared config loads as a PostgreSQL config reading that
 * variable, and an instance of the systemd template unit passes
 * `systemd-analyze verify` against the built binary.
 */
import { expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { loadConfigFile } from '../../src/config/load.ts'
import { BINARY } from '../helpers/binary.ts'
import { ROOT, verifyUnit } from '../helpers/container.ts'

const DIR = join(ROOT, 'deploy/replicas')

type Service = { command?: string[]; environment?: Record<string, string>; volumes?: string[] }
const compose = Bun.YAML.parse(readFileSync(join(DIR, 'compose.yaml'), 'utf8')) as { services: Record<string, Service> }

test('the compose file runs two replicas of one config, DSN and master key behind a balancer', () => {
  const { services } = compose
  expect(Object.keys(services).sort()).toEqual(['balancer', 'postgres', 'stowage-a', 'stowage-b'])
  const [a, b] = [services['stowage-a']!, services['stowage-b']!]
  expect(a).toEqual(b)
  expect(a.command).toEqual(['serve', '--config', '/etc/stowage/config.yaml'])
  expect(a.volumes).toContain('./config.yaml:/etc/stowage/config.yaml:ro')
  expect(a.environment?.STOWAGE_POSTGRES_URL).toContain('@postgres:5432/')
  expect(a.environment?.STOWAGE_SECRET_KEY).toStartWith('${STOWAGE_SECRET_KEY:?')
  const caddy = readFileSync(join(DIR, 'Caddyfile'), 'utf8')
  expect(caddy).toContain('reverse_proxy stowage-a:8080 stowage-b:8080')
  expect(caddy).not.toMatch(/lb_policy (cookie|ip_hash|client_ip|header)/)
})

test('the shared config is a PostgreSQL config whose DSN variable the compose file sets', async () => {
  const config = await loadConfigFile(join(DIR, 'config.yaml'), { STOWAGE_POSTGRES_URL: 'postgres://u:p@h/db', STOWAGE_SECRET_KEY: 'a'.repeat(64) })
  expect(config.db.driver).toBe('postgres')
  expect(Object.keys(compose.services['stowage-a']!.environment!)).toContain(config.db.postgres.url_env)
})

test('an instance of the systemd template unit passes systemd-analyze verify', async () => {
  const work = mkdtempSync(join(tmpdir(), 'stowage-unit-'))
  try {
    copyFileSync(join(ROOT, 'deploy/systemd/stowage@.service'), join(work, 'stowage@.service'))
    symlinkSync('stowage@.service', join(work, 'stowage@a.service'))
    const r = await verifyUnit(dirname(BINARY), join(work, 'stowage@a.service'))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
})
