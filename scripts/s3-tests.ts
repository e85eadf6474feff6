// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The ceph s3-tests conformance suite through Stowage's S3 listener, on both
 * paths at once: (b) the forwarder in front of Ceph RGW and (c) the S3
 * engine on an `fs` backend. It starts Stowage from source as a real server
 * process with both backends, mints `owner` credentials for the suite's
 * bucket prefix through the admin API, runs ../shared/tools/run-s3-tests.sh
 * against the listener for each path concurrently, and compares each JUnit
 * result with the list of tests that passed before
 * (tests/conformance/passing-<path>.txt): a test on the list that does not
 * pass now is a regression; a test passing that is not on the list is new
 * (`--update` writes the lists).
 *
 * The suite's main user gets `owner` on `s3t-`, the prefix every bucket of
 * the suite starts with. Its alt user, which the suite treats as another
 * account, gets `owner` on a namespace no bucket of the suite can be in
 * (`s3alt-`): in Stowage another account is another tenant, so the tests
 * where alt must be refused main's buckets check the namespace wall (tests
 * where main lets alt in do so with ACLs or policies, which stay refused).
 *
 * The suite also signs in as a third, "tenant" user before and after every
 * test (to delete leftover buckets). The runner fixes that user's keys and
 * has no variables for them, and Stowage mints its own keys, so this script
 * stores a credential with exactly those keys (owner of `s3ten-`, where the
 * suite makes nothing) in the database before the server starts, sealed with
 * the server's master key like any other.
 *
 * Usage: bun scripts/s3-tests.ts [--paths proxy-rgw,engine-fs] [--update] [-- pytest args, e.g. -k multipart]
 * Env:   S3_* as for the tests (else the env file of scripts/start-rgw.sh),
 *        S3TESTS_RUNNER (default ../shared/tools/run-s3-tests.sh next to the repository),
 *        S3TESTS_KEEP=1 keeps the temp directory (config, logs, JUnit files).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { sealContext } from '../src/credentials/service.ts'
import { createSealer, loadMasterKey } from '../src/lib/seal.ts'
import { openDatabase } from '../src/sqlite/open.ts'
import { s3Env } from '../tests/helpers/s3.ts'

const ROOT = resolve(import.meta.dir, '..')
export const LISTS = join(ROOT, 'tests/conformance')
export const RUNNER = process.env.S3TESTS_RUNNER ?? resolve(ROOT, '../shared/tools/run-s3-tests.sh')

/** The two ways the listener serves a bucket: which backend the credentials name. */
export const PATHS = { 'proxy-rgw': 'rgw', 'engine-fs': 'local' } as const
export type PathName = keyof typeof PATHS

/** The runner's default selection, named when other pytest arguments are added to it. */
const SUITE_FILE = 's3tests/functional/test_s3.py'

/** How long one path's run may take before the runner stops it. */
export const SUITE_TIMEOUT_S = 40 * 60

export const MAIN_PREFIX = 's3t-'
export const ALT_PREFIX = 's3alt-'
export const TENANT_PREFIX = 's3ten-'

export type Outcome = 'passed' | 'failed' | 'error' | 'skipped'
export type SuiteResult = { path: PathName; outcomes: Map<string, Outcome>; log: string; exitCode: number }
export type Comparison = { regressions: string[]; newPasses: string[]; counts: Record<Outcome, number> }

/** A running Stowage with both backends, an admin session and the listener's port. */
type Server = { proc: Bun.Subprocess; dir: string; dashboard: string; s3Port: number; cookie: string; csrf: string; stop(): Promise<void> }

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
const unescape = (s: string): string => s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITY[e]!)

/** Test name → outcome, from pytest's JUnit XML (a testcase with no failure, error or skipped child passed). */
export function parseJunit(xml: string): Map<string, Outcome> {
  const out = new Map<string, Outcome>()
  for (const m of xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const name = /\bname="([^"]*)"/.exec(m[1]!)?.[1]
    if (name === undefined) continue
    const body = m[3] ?? ''
    out.set(unescape(name), /<failure\b/.test(body) ? 'failed' : /<error\b/.test(body) ? 'error' : /<skipped\b/.test(body) ? 'skipped' : 'passed')
  }
  return out
}

export function listFile(path: PathName): string {
  return join(LISTS, `passing-${path}.txt`)
}

/** The committed pass list: one test name per line; `#` lines are comments. */
export function readList(path: PathName): string[] | undefined {
  const file = listFile(path)
  if (!existsSync(file)) return undefined
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
}

export function compare(expected: readonly string[], outcomes: ReadonlyMap<string, Outcome>): Comparison {
  const counts: Record<Outcome, number> = { passed: 0, failed: 0, error: 0, skipped: 0 }
  for (const o of outcomes.values()) counts[o]++
  const expectedSet = new Set(expected)
  return {
    regressions: expected.filter((t) => outcomes.get(t) !== 'passed').sort(),
    newPasses: [...outcomes]
      .filter(([t, o]) => o === 'passed' && !expectedSet.has(t))
      .map(([t]) => t)
      .sort(),
    counts,
  }
}

export function writeList(path: PathName, outcomes: ReadonlyMap<string, Outcome>): void {
  const passed = [...outcomes]
    .filter(([, o]) => o === 'passed')
    .map(([t]) => t)
    .sort()
  const head = [
    '# SPDX-License-Identifier: AGPL-3.0-or-later',
    `# ceph s3-tests (s3tests/functional/test_s3.py) that pass through Stowage's S3 listener, path ${path}.`,
    '# Written by `bun scripts/s3-tests.ts --update`; tests/conformance/s3-tests.test.ts fails when one stops passing.',
  ]
  writeFileSync(listFile(path), [...head, ...passed, ''].join('\n'))
}

function configYaml(dir: string, rgw: ReturnType<typeof s3Env>): string {
  return [
    'server:',
    '  listen: 127.0.0.1:0',
    'db:',
    '  sqlite:',
    `    path: ${join(dir, 'stowage.db')}`,
    'log:',
    '  access_level: "off"',
    'ratelimit:',
    '  api_per_minute: 0',
    's3_proxy:',
    '  enabled: true',
    '  listen: 127.0.0.1:0',
    'backends:',
    '  - id: rgw',
    '    type: s3',
    `    endpoint: ${rgw.endpoint}`,
    `    region: ${rgw.region}`,
    '    path_style: true',
    '    access_key_env: S3TESTS_RGW_AK',
    '    secret_key_env: S3TESTS_RGW_SK',
    '  - id: local',
    '    type: fs',
    `    root: ${join(dir, 'objects')}`,
    '',
  ].join('\n')
}

/** The suite's tenant user, with the keys the runner gives it (see the header). */
function storeTenantCredential(dir: string): void {
  const runner = readFileSync(RUNNER, 'utf8')
  const ak = /\bTEN_AK=([A-Za-z0-9]+)/.exec(runner)?.[1]
  const sk = /\bTEN_SK=([A-Za-z0-9/+=]+)/.exec(runner)?.[1]
  if (!ak || !sk) throw new Error(`cannot find the tenant user's keys (TEN_AK, TEN_SK) in ${RUNNER}`)
  const key = loadMasterKey(undefined, join(dir, 'stowage.key'))
  if (!key.key) throw new Error(key.problem)
  const db = openDatabase(join(dir, 'stowage.db'))
  try {
    const now = Date.now()
    db.query(
      `INSERT INTO s3_credentials (access_key, secret_key_enc, backend_id, buckets, user_id, description, enabled, expires_at, created_at, created_by, updated_at, updated_by)
       VALUES (?, ?, 'rgw', ?, NULL, 's3-tests tenant', 1, NULL, ?, NULL, ?, NULL)`,
    ).run(ak, createSealer(key.key).seal(sk, sealContext(ak)), JSON.stringify([{ prefix: TENANT_PREFIX, access: 'owner' }]), now, now)
  } finally {
    db.close()
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(100)) {
    const v = await probe()
    if (v !== undefined) return v
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Starts `bun src/main.ts serve` with RGW and an fs backend, and signs in an admin made with `create-admin`. */
export async function startServer(): Promise<Server> {
  const rgw = s3Env()
  const dir = mkdtempSync(join(process.env.TMPDIR || tmpdir(), 'stowage-s3tests-'))
  mkdirSync(join(dir, 'objects'))
  const config = join(dir, 'config.yaml')
  writeFileSync(config, configYaml(dir, rgw))
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, S3TESTS_RGW_AK: rgw.accessKey, S3TESTS_RGW_SK: rgw.secretKey }
  const main = join(ROOT, 'src/main.ts')
  const password = `s3-tests ${crypto.randomUUID()}`
  const admin = Bun.spawn([process.execPath, main, 'create-admin', '--username', 's3tests', '--password-stdin', '--config', config], {
    env,
    stdin: new TextEncoder().encode(password),
    stdout: 'ignore',
    stderr: 'pipe',
  })
  if ((await admin.exited) !== 0) throw new Error(`create-admin failed: ${await new Response(admin.stderr).text()}`)
  storeTenantCredential(dir)
  const logFile = join(dir, 'stowage.log')
  const proc = Bun.spawn([process.execPath, main, 'serve', '--config', config], {
    env,
    stdin: 'ignore',
    stdout: Bun.file(logFile),
    stderr: Bun.file(join(dir, 'stowage.err')),
  })
  const address = (listener: string): number | undefined => {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''
    const m = new RegExp(`"msg":"listening","listener":"${listener}","address":"[^"]*:(\\d+)"`).exec(log)
    return m ? Number(m[1]) : undefined
  }
  const stop = async (): Promise<void> => {
    proc.kill('SIGTERM')
    await proc.exited
    if (!process.env.S3TESTS_KEEP) rmSync(dir, { recursive: true, force: true })
  }
  try {
    const dashPort = await waitFor('the dashboard listener', () =>
      proc.exitCode !== null ? Promise.reject(new Error(`stowage exited: ${readFileSync(join(dir, 'stowage.err'), 'utf8')}`)) : address('dashboard'),
    )
    const s3Port = await waitFor('the S3 listener', () => address('s3-proxy'))
    const dashboard = `http://127.0.0.1:${dashPort}`
    const login = await fetch(`${dashboard}/auth/login/local`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 's3tests', password }),
    })
    if (login.status !== 200) throw new Error(`sign-in failed: ${login.status} ${await login.text()}`)
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    return { proc, dir, dashboard, s3Port, cookie, csrf: /stowage_csrf=([^;]+)/.exec(cookie)![1]!, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/** Mints an `owner` credential for a bucket-name prefix through the admin API. */
export async function mintOwner(server: Server, backendId: string, prefix: string, description: string): Promise<{ access_key: string; secret_key: string }> {
  const res = await fetch(`${server.dashboard}/api/admin/s3-credentials`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: server.cookie, 'x-csrf-token': server.csrf },
    body: JSON.stringify({ backend_id: backendId, buckets: [{ prefix, access: 'owner' }], description }),
  })
  if (res.status !== 201) throw new Error(`minting a credential on ${backendId} failed: ${res.status} ${await res.text()}`)
  return (await res.json()) as { access_key: string; secret_key: string }
}

/** Runs the suite against the listener with the path's credentials; resolves with every test's outcome. */
export async function runSuite(server: Server, path: PathName, pytestArgs: readonly string[]): Promise<SuiteResult> {
  if (!existsSync(RUNNER)) throw new Error(`no s3-tests runner at ${RUNNER} (set S3TESTS_RUNNER)`)
  const backend = PATHS[path]
  const main = await mintOwner(server, backend, MAIN_PREFIX, `s3-tests main (${path})`)
  const alt = await mintOwner(server, backend, ALT_PREFIX, `s3-tests alt (${path})`)
  const out = join(server.dir, path)
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: server.dir,
    S3TESTS_HOST: '127.0.0.1',
    S3TESTS_PORT: String(server.s3Port),
    S3TESTS_MAIN_ACCESS_KEY: main.access_key,
    S3TESTS_MAIN_SECRET_KEY: main.secret_key,
    S3TESTS_ALT_ACCESS_KEY: alt.access_key,
    S3TESTS_ALT_SECRET_KEY: alt.secret_key,
    S3TESTS_BUCKET_PREFIX: MAIN_PREFIX,
    S3TESTS_OUT: out,
    // The runner's own default (30 min) is too tight for both paths at once on a busy 2-core machine.
    S3TESTS_TIMEOUT: String(SUITE_TIMEOUT_S),
  }
  // pytest's default tracebacks for ~300 failing tests cost more than running the suite (320 s
  // against 126 s for the fs path alone): one line per failure keeps the log useful.
  const args = [...(pytestArgs.length > 0 ? pytestArgs : [SUITE_FILE]), ...(pytestArgs.some((a) => a.startsWith('--tb')) ? [] : ['--tb=line'])]
  // Without RGW_DIR the runner leaves RGW's own users alone: these runs go through Stowage's keys.
  const proc = Bun.spawn(['bash', RUNNER, ...args], { env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  const junit = join(out, 'junit.xml')
  if (!existsSync(junit)) throw new Error(`s3-tests (${path}) wrote no JUnit file (exit ${exitCode}):\n${stdout}${stderr}`)
  return { path, outcomes: parseJunit(readFileSync(junit, 'utf8')), log: join(out, 'pytest.log'), exitCode }
}

export function report(path: PathName, c: Comparison, listed: number): string {
  const lines = [`${path}: ${c.counts.passed} passed, ${c.counts.failed} failed, ${c.counts.error} errors, ${c.counts.skipped} skipped (pass list: ${listed})`]
  if (c.regressions.length) lines.push(`  no longer passing (${c.regressions.length}):`, ...c.regressions.map((t) => `    ${t}`))
  if (c.newPasses.length)
    lines.push(`  passing and not on the list yet (${c.newPasses.length}; raise it with --update):`, ...c.newPasses.map((t) => `    ${t}`))
  return lines.join('\n')
}

async function cli(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--')
  const own = dash < 0 ? argv : argv.slice(0, dash)
  const pytestArgs = dash < 0 ? [] : argv.slice(dash + 1)
  const at = own.indexOf('--paths')
  const paths = (at < 0 ? Object.keys(PATHS) : own[at + 1]!.split(',')) as PathName[]
  for (const p of paths) if (!(p in PATHS)) throw new Error(`unknown path ${p} (known: ${Object.keys(PATHS).join(', ')})`)
  // A list is what the whole suite passes; a subset would drop every test it left out.
  if (own.includes('--update') && pytestArgs.length > 0) throw new Error('--update needs the whole suite: leave out the pytest arguments')
  const server = await startServer()
  let failed = false
  try {
    const results = await Promise.allSettled(paths.map((p) => runSuite(server, p, pytestArgs)))
    for (const [i, r] of results.entries()) {
      if (r.status === 'rejected') {
        console.log(`${paths[i]}: ${(r.reason as Error).message}`)
        failed = true
        continue
      }
      const listed = readList(r.value.path) ?? []
      const c = compare(listed, r.value.outcomes)
      console.log(report(r.value.path, c, listed.length))
      console.log(`  log: ${r.value.log}`)
      if (own.includes('--update')) writeList(r.value.path, r.value.outcomes)
      else if (c.regressions.length) failed = true
    }
  } finally {
    await server.stop()
  }
  return failed ? 1 : 0
}

if (import.meta.main) process.exit(await cli(process.argv.slice(2)))
