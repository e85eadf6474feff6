// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Dashboard API vs the same S3 calls made directly to RGW, in one run: list,
 * head, get and put of 1 KiB and 1 MiB objects with N concurrent keep-alive
 * clients; then the server's peak RSS while a 1 GiB object is uploaded and
 * downloaded through the dashboard. The server is the compiled binary in its
 * own process, so /proc figures are its alone.
 *
 * Each case runs `--runs` times, alternating which side goes first, and the
 * reported ratio (dashboard req/s ÷ direct req/s) is the median of the
 * per-run ratios: on a small shared machine absolute numbers drift with
 * everything else running, a ratio measured back to back much less.
 *
 * Usage: bun bench/dashboard.ts [--duration 10] [--warmup 2] [--concurrency 16]
 *   [--runs 3] [--cases list,head,get-1k,get-1m,put-1k,put-1m] [--big-mib 1024]
 *   [--no-rss] [--no-load] [--write] [--binary dist/stowage] [--profile DIR] [--perf DIR]
 *
 * --profile runs the server from the sources under `bun --cpu-prof-md` and
 * leaves a markdown CPU profile in DIR when it stops (figures from such a run
 * are not the binary's). --perf runs them sampled by Linux perf instead
 * (bench/lib/perf.ts) and prints where the server's CPU went; run one case
 * at a time (`--cases head --runs 1 --no-rss`).
 */
import { s3Env } from '../tests/helpers/s3.ts'
import { flags } from './lib/args.ts'
import { bigTransferTable, compare, cpuTable, throughputTable, type Case as CaseOf } from './lib/compare.ts'
import { expectStatus, must } from './lib/load.ts'
import { loadAverage, pidsByName } from './lib/proc.ts'
import { mib, publish } from './lib/report.ts'
import { s3Client } from './lib/s3.ts'
import { DIST_BINARY, signIn, startServer, type BenchServer } from './lib/server.ts'

const f = flags(process.argv.slice(2), {
  duration: 10,
  warmup: 2,
  concurrency: 16,
  runs: 3,
  cases: '',
  'big-mib': 1024,
  'no-rss': false,
  'no-load': false,
  write: false,
  binary: DIST_BINARY,
  profile: '',
  perf: '',
})
const KiB = 1024
const MiB = 1024 * KiB
const LIST_KEYS = 100
const PASSWORD = `pw-${crypto.randomUUID()}`

const env = s3Env()
const s3 = s3Client(env)
const bucket = `bench-dash-${Date.now().toString(36)}`
/**
 * Uploads (the put cases, the 1 GiB transfer) go to a bucket of their own: RGW walks past the
 * index entries of the keys they wrote and deleted when it lists, which slowed the listing case
 * of later runs from 540–1040 to 120–160 listings a second.
 */
const writes = `${bucket}-w`
const payload = { '1k': crypto.getRandomValues(new Uint8Array(KiB)), '1m': crypto.getRandomValues(new Uint8Array(MiB)) }

/** The fixture, written directly: a prefix of LIST_KEYS small objects and one object of each size. */
async function seed(): Promise<void> {
  await must(s3.call('PUT', bucket, ''), 200, 'create bucket')
  await must(s3.call('PUT', writes, ''), 200, 'create the uploads bucket')
  for (let i = 0; i < LIST_KEYS; i += 20) {
    await Promise.all(
      Array.from({ length: 20 }, (_, j) =>
        must(s3.call('PUT', bucket, `list/obj-${String(i + j).padStart(3, '0')}`, { body: payload['1k'] }), 200, 'seed list'),
      ),
    )
  }
  for (const size of ['1k', '1m'] as const)
    await must(s3.call('PUT', bucket, `obj/${size}`, { body: payload[size], headers: { 'content-type': 'application/octet-stream' } }), 200, `seed ${size}`)
}

const upstreamPids = [...pidsByName('radosgw'), ...pidsByName('ceph-osd')]
let srv: BenchServer | undefined
let serverPid = 0

type Side = 'dashboard' | 'direct'
type Case = CaseOf<Side>

let api = ''
let writesApi = ''
const q = (key: string): string => `key=${encodeURIComponent(key)}`

async function main(): Promise<void> {
  await seed()
  srv = await startServer({
    binary: f.binary,
    from: f,
    config: {
      backends: [
        {
          id: 'rgw',
          name: 'RGW',
          type: 's3',
          endpoint: env.endpoint,
          region: env.region,
          access_key_env: 'RGW_AK',
          secret_key_env: 'RGW_SK',
          path_style: true,
        },
      ],
    },
    env: { RGW_AK: env.accessKey, RGW_SK: env.secretKey },
    admin: { username: 'bench', password: PASSWORD },
  })
  serverPid = srv.pid
  api = `${srv.url}/api/backends/rgw/buckets/${bucket}`
  writesApi = `${srv.url}/api/backends/rgw/buckets/${writes}`
  const session = await signIn(srv.url, 'bench', PASSWORD)
  const read = session.headers()
  const write = session.headers({ mutation: true, extra: { 'content-type': 'application/octet-stream' } })
  const listed = (await (await fetch(`${api}/objects?prefix=list/`, { headers: read })).json()) as { objects?: unknown[] }
  if (listed.objects?.length !== LIST_KEYS) throw new Error(`the dashboard lists ${listed.objects?.length} keys under list/, expected ${LIST_KEYS}`)

  const get = (size: '1k' | '1m'): Case['run'] => ({
    dashboard: async () => expectStatus(await fetch(`${api}/object?${q(`obj/${size}`)}`, { headers: read }), 200),
    direct: async () => expectStatus(await s3.call('GET', bucket, `obj/${size}`), 200),
  })
  const put = (size: '1k' | '1m'): Case['run'] => ({
    dashboard: async (c, tag) =>
      expectStatus(await fetch(`${writesApi}/object?${q(`put/${tag}/${c.worker}-${c.seq}`)}`, { method: 'POST', headers: write, body: payload[size] }), 201),
    direct: async (c, tag) =>
      expectStatus(
        await s3.call('PUT', writes, `put/${tag}/${c.worker}-${c.seq}`, { body: payload[size], headers: { 'content-type': 'application/octet-stream' } }),
        200,
      ),
  })
  const all: Case[] = [
    {
      name: 'list',
      label: `list (${LIST_KEYS} keys)`,
      run: {
        dashboard: async () => expectStatus(await fetch(`${api}/objects?prefix=list/`, { headers: read }), 200),
        direct: async () =>
          expectStatus(
            await s3.call('GET', bucket, '', { query: { 'list-type': '2', delimiter: '/', 'encoding-type': 'url', 'max-keys': '1000', prefix: 'list/' } }),
            200,
          ),
      },
    },
    {
      name: 'head',
      label: 'head',
      run: {
        dashboard: async () => expectStatus(await fetch(`${api}/object?${q('obj/1k')}`, { method: 'HEAD', headers: read }), 200),
        direct: async () => expectStatus(await s3.call('HEAD', bucket, 'obj/1k'), 200),
      },
    },
    { name: 'get-1k', label: 'get 1 KiB', run: get('1k') },
    { name: 'get-1m', label: 'get 1 MiB', run: get('1m') },
    { name: 'put-1k', label: 'put 1 KiB', run: put('1k'), cleanup: 'put/' },
    { name: 'put-1m', label: 'put 1 MiB', run: put('1m'), cleanup: 'put/' },
  ]
  const only = f.cases ? new Set(f.cases.split(',')) : undefined
  const cases = all.filter((c) => !only || only.has(c.name))

  const header = [
    `Run ${new Date().toISOString()} on ${navigator.hardwareConcurrency} CPUs, bun ${Bun.version}, commit ${commit()}.`,
    `Load average before: ${loadAverage()}.`,
  ]
  const sections: string[] = []
  if (!f['no-rss']) sections.push(await bigTransfers(session.headers({ mutation: true, extra: { 'content-type': 'application/octet-stream' } }), read))
  if (!f['no-load']) sections.push(await loadCases(cases))
  header.push(`Load average after: ${loadAverage()}.`)
  const body = [header.join(' '), ...sections].join('\n\n')
  publish('dashboard-results', body, f.write)
}

async function loadCases(cases: Case[]): Promise<string> {
  const probe = { serverPid, upstreamPids, cleanup: async (prefix: string) => s3.deleteKeys(writes, await s3.listKeys(writes, prefix)) }
  const results = await compare(f, probe, cases, 'dashboard', 'direct')
  return [
    `Throughput and latency: ${f.concurrency} concurrent clients, ${f.warmup} s warm-up + ${f.duration} s per case and side, ${f.runs} runs alternating which side goes first; medians over the runs. Latencies in ms.`,
    throughputTable(results, 'dashboard'),
    "CPU milliseconds per request (user + system from /proc, medians over the runs): the Stowage server (all threads); RGW (radosgw + ceph-osd, which also serve anything else using this RGW) while serving each side; the load generator on each side. Then the share of wall time the server's main (JavaScript) thread spent on a CPU and waiting in a run queue for one, during the dashboard side: waiting means the server had work but no free core.",
    cpuTable(
      results,
      ['case', 'server', 'RGW via dashboard', 'RGW direct', 'generator (dashboard)', 'generator (direct)', 'server main thread on CPU', 'waiting for CPU'],
      true,
    ),
  ].join('\n\n')
}

async function bigTransfers(writeHeaders: Record<string, string>, readHeaders: Record<string, string>): Promise<string> {
  const key = 'big/object.bin'
  const url = `${writesApi}/object?${q(key)}`
  // A few ordinary requests first, so the baseline is a warmed-up server rather than a fresh one.
  for (let i = 0; i < 20; i++) await expectStatus(await fetch(`${api}/objects?prefix=list/`, { headers: readHeaders }), 200)
  const big = await bigTransferTable({
    pid: serverPid,
    size: f['big-mib'] * MiB,
    names: ['upload', 'download'],
    upload: { url, method: 'POST', headers: writeHeaders, status: 201 },
    download: { url, headers: readHeaders },
  })
  await must(s3.call('DELETE', writes, key), 204, 'delete big object')
  return [
    `Server memory during a ${f['big-mib']} MiB transfer through the dashboard (RSS sampled every 50 ms from /proc plus VmHWM, reset before each transfer; MiB) and the server's CPU time per MiB moved. Idle RSS after warm-up: ${mib(big.idleKiB)} MiB. The download was checked byte for byte (MD5) against the upload.`,
    big.table,
  ].join('\n\n')
}

function commit(): string {
  const r = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD'], { cwd: new URL('..', import.meta.url).pathname, stdout: 'pipe', stderr: 'ignore' })
  return r.exitCode === 0 ? r.stdout.toString().trim() : 'unknown'
}

async function cleanup(): Promise<void> {
  await srv?.stop().catch(() => {})
  for (const b of [bucket, writes]) await s3.removeBucket(b)
}

try {
  await main()
} finally {
  await cleanup()
}
