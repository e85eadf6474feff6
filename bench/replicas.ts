// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What the shared store costs and what a second replica gives (issue 17):
 * the same dashboard and S3-listener requests, with 16 keep-alive clients,
 * against three deployments in front of one RGW, in one run:
 *
 * - `SQLite, 1 replica`: today's single process;
 * - `PostgreSQL, 1 replica`: replica A of a fleet, all clients on it;
 * - `PostgreSQL, 2 replicas`: replicas A and B on the same database, the
 *   clients spread over both as a balancer without stickiness would.
 *
 * Per case and deployment: req/s, p50 and p99, and CPU per request of the
 * Stowage processes together and of PostgreSQL (every `postgres` process on
 * the machine). Cases: `GET /api/me` (a session lookup and nothing else), a
 * dashboard download of 1 KiB, a listing of 100 keys through the dashboard,
 * and S3-listener GET and PUT of 1 KiB with a virtual key. Each case runs
 * `--runs` times, the deployments in a rotating order; medians are reported.
 *
 * Needs the test RGW (S3_* env, scripts/start-rgw.sh) and PG_URL of a role
 * that may create databases (scripts/start-postgres.sh prints it); the
 * benchmark creates its own database and drops it at the end.
 *
 * Usage: bun bench/replicas.ts [--duration 10] [--warmup 2] [--concurrency 16] [--runs 3]
 *   [--cases me,download,list,s3-get,s3-put] [--write] [--binary dist/stowage]
 */
import { s3Env } from '../tests/helpers/s3.ts'
import { createPgDatabase } from '../tests/helpers/store.ts'
import { flags } from './lib/args.ts'
import { expectStatus, runLoad, type OpContext } from './lib/load.ts'
import { cpuOf, loadAverage, parentOf, pidsByName, treeCpuSeconds } from './lib/proc.ts'
import { fixed, publish, table, type Cell } from './lib/report.ts'
import { s3Client, type S3Client } from './lib/s3.ts'
import { DIST_BINARY, mintKey, rgwFronted, signIn, startServer, type BenchServer, type Session } from './lib/server.ts'
import { median } from './lib/stats.ts'

const f = flags(process.argv.slice(2), { duration: 10, warmup: 2, concurrency: 16, runs: 3, cases: '', write: false, binary: DIST_BINARY })
const PASSWORD = `pw-${crypto.randomUUID()}`
const LIST_KEYS = 100
const body1k = crypto.getRandomValues(new Uint8Array(1024))

const rgw = s3Env()
const direct = s3Client(rgw)
const bucket = `bench-replicas-${Date.now().toString(36)}`

/** One deployment under test: its replicas (the clients are spread over them by worker number). */
type Deployment = { name: string; replicas: Array<{ srv: BenchServer; s3: S3Client }>; session: Session }
type Sample = { rps: number; p50: number; p99: number; errors: number; stowageMs: number; postgresMs: number }

const cases: Record<string, { label: string; op(d: Deployment, c: OpContext): Promise<void> }> = {
  me: {
    label: 'dashboard GET /api/me',
    op: async (d, c) => expectStatus(await fetch(`${pick(d, c).srv.url}/api/me`, { headers: d.session.headers() }), 200),
  },
  download: {
    label: 'dashboard download 1 KiB',
    op: async (d, c) =>
      expectStatus(await fetch(`${pick(d, c).srv.url}/api/backends/rgw/buckets/${bucket}/object?key=obj%2F1k`, { headers: d.session.headers() }), 200),
  },
  list: {
    label: `dashboard list of ${LIST_KEYS} keys`,
    op: async (d, c) =>
      expectStatus(await fetch(`${pick(d, c).srv.url}/api/backends/rgw/buckets/${bucket}/objects?prefix=list%2F`, { headers: d.session.headers() }), 200),
  },
  's3-get': { label: 'S3 listener GET 1 KiB', op: async (d, c) => expectStatus(await pick(d, c).s3.call('GET', bucket, 'obj/1k'), 200) },
  's3-put': {
    label: 'S3 listener PUT 1 KiB',
    op: async (d, c) => expectStatus(await pick(d, c).s3.call('PUT', bucket, `put/${c.worker}-${c.seq % 50}`, { body: body1k }), 200),
  },
}

/** PostgreSQL servers on this machine: the `postgres` processes whose parent is not one; their trees hold every backend. */
const postgresPids = pidsByName('postgres')
const postmasters = postgresPids.filter((pid) => !postgresPids.includes(parentOf(pid)))

const pick = (d: Deployment, c: OpContext) => d.replicas[c.worker % d.replicas.length]!

async function replica(store: 'sqlite' | { url: string; secretKey: string }, admin: boolean): Promise<BenchServer> {
  const fronted = rgwFronted(rgw)
  const db = store === 'sqlite' ? {} : { db: { driver: 'postgres', postgres: { url_env: 'STOWAGE_POSTGRES_URL', pool_size: 10 } } }
  return startServer({
    binary: f.binary,
    ...fronted,
    config: { ...fronted.config, ...db },
    env: { ...fronted.env, ...(store === 'sqlite' ? {} : { STOWAGE_POSTGRES_URL: store.url, STOWAGE_SECRET_KEY: store.secretKey }) },
    ...(admin ? { admin: { username: 'bench', password: PASSWORD } } : {}),
  })
}

async function deployment(name: string, servers: BenchServer[], session: Session, key: { access_key: string; secret_key: string }): Promise<Deployment> {
  return {
    name,
    session,
    replicas: servers.map((srv) => ({
      srv,
      s3: s3Client({ endpoint: srv.listeners['s3-proxy']!, region: 'us-east-1', accessKey: key.access_key, secretKey: key.secret_key }),
    })),
  }
}

async function measure(d: Deployment, name: string): Promise<Sample> {
  const stowage = d.replicas.map((r) => r.srv.pid)
  const postgres = (): number => postmasters.reduce((sum, pid) => sum + treeCpuSeconds(pid), 0)
  const before = { stowage: cpuOf(stowage), postgres: postgres() }
  const r = await runLoad({ concurrency: f.concurrency, durationMs: f.duration * 1000, warmupMs: f.warmup * 1000, op: (c) => cases[name]!.op(d, c) })
  // CPU is counted over warm-up and measurement alike, so it is divided by every request made in both.
  const total = r.summary.ok * ((f.duration + f.warmup) / f.duration)
  const perReq = (seconds: number): number => (seconds * 1000) / total
  const s = r.summary
  console.error(
    `  ${name.padEnd(9)} ${d.name.padEnd(24)} ${fixed(s.rps, 0).padStart(6)} req/s  p50 ${fixed(s.p50, 2)} ms  p99 ${fixed(s.p99, 2)} ms  errors ${s.errors}${r.firstError ? ` (${r.firstError})` : ''}`,
  )
  return {
    rps: s.rps,
    p50: s.p50,
    p99: s.p99,
    errors: s.errors,
    stowageMs: perReq(cpuOf(stowage) - before.stowage),
    postgresMs: perReq(postgres() - before.postgres),
  }
}

async function seed(): Promise<void> {
  await expectStatus(await direct.call('PUT', bucket, ''), 200)
  await expectStatus(await direct.call('PUT', bucket, 'obj/1k', { body: body1k }), 200)
  for (let i = 0; i < LIST_KEYS; i += 20)
    await Promise.all(
      Array.from({ length: 20 }, async (_, j) => expectStatus(await direct.call('PUT', bucket, `list/${String(i + j).padStart(4, '0')}`, { body: 'x' }), 200)),
    )
}

const servers: BenchServer[] = []
let pg: { url: string; drop(): Promise<void> } | undefined

try {
  await seed()
  pg = await createPgDatabase()
  const secretKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
  const lite = await replica('sqlite', true)
  servers.push(lite)
  const a = await replica({ url: pg.url, secretKey }, true)
  servers.push(a)
  const b = await replica({ url: pg.url, secretKey }, false)
  servers.push(b)

  const liteSession = await signIn(lite.url, 'bench', PASSWORD)
  const fleetSession = await signIn(a.url, 'bench', PASSWORD)
  const key = { backend_id: 'rgw', buckets: [bucket], description: 'replicas bench' }
  const liteKey = await mintKey(lite, liteSession, key)
  const fleetKey = await mintKey(a, fleetSession, key)
  const deployments = [
    await deployment('SQLite, 1 replica', [lite], liteSession, liteKey),
    await deployment('PostgreSQL, 1 replica', [a], fleetSession, fleetKey),
    await deployment('PostgreSQL, 2 replicas', [a, b], fleetSession, fleetKey),
  ]

  const names = f.cases ? f.cases.split(',') : Object.keys(cases)
  for (const n of names) if (!cases[n]) throw new Error(`unknown case ${n}; known: ${Object.keys(cases).join(', ')}`)
  const loadBefore = loadAverage()
  const samples = new Map<string, Sample[]>()
  for (let run = 0; run < f.runs; run++) {
    console.error(`run ${run + 1}/${f.runs}`)
    for (const n of names)
      for (let i = 0; i < deployments.length; i++) {
        const d = deployments[(i + run) % deployments.length]!
        const k = `${n}\t${d.name}`
        samples.set(k, [...(samples.get(k) ?? []), await measure(d, n)])
      }
  }

  const med = (xs: Sample[], k: keyof Sample): number => median(xs.map((x) => x[k]))
  const rows: Cell[][] = []
  for (const n of names) {
    const base = med(samples.get(`${n}\t${deployments[0]!.name}`)!, 'rps')
    for (const d of deployments) {
      const xs = samples.get(`${n}\t${d.name}`)!
      rows.push([
        cases[n]!.label,
        d.name,
        fixed(med(xs, 'rps'), 0),
        fixed(med(xs, 'rps') / base, 2),
        fixed(med(xs, 'p50'), 2),
        fixed(med(xs, 'p99'), 2),
        fixed(med(xs, 'stowageMs'), 3),
        fixed(med(xs, 'postgresMs'), 3),
        fixed(med(xs, 'stowageMs') + med(xs, 'postgresMs'), 3),
        xs.reduce((e, x) => e + x.errors, 0),
      ])
    }
  }
  const result = [
    `Run ${new Date().toISOString()} on ${navigator.hardwareConcurrency} CPUs, bun ${Bun.version}, compiled binary, PostgreSQL on loopback. Load average before: ${loadBefore}. After: ${loadAverage()}.`,
    `${f.concurrency} clients, ${f.warmup} s warm-up + ${f.duration} s per case and deployment, ${f.runs} runs rotating the deployments' order; medians over the runs; latencies in ms; CPU in ms per request ("Stowage": every replica of the deployment; "PostgreSQL": every process of the PostgreSQL server, backends that ended included). "vs SQLite" is req/s against the single SQLite process.`,
    table(['case', 'deployment', 'req/s', 'vs SQLite', 'p50', 'p99', 'Stowage CPU', 'PostgreSQL CPU', 'both', 'errors'], rows),
  ].join('\n\n')
  publish('replicas-results', result, f.write)
} finally {
  for (const s of servers) await s.stop()
  await pg?.drop()
  await direct.removeBucket(bucket)
}
