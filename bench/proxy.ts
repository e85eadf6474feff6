// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The S3 proxy vs the same S3 calls made directly to RGW, in one run: GET and
 * PUT of 1 KiB and 1 MiB, HEAD, ListObjectsV2 (100 keys), ListBuckets (which
 * the proxy answers itself) and bad-signature rejects, with N concurrent
 * keep-alive clients; then the proxy's peak RSS while a 1 GiB object is
 * uploaded and downloaded through it. The server runs in its own process
 * (the compiled binary, or the sources with --source), so /proc figures are
 * its alone.
 *
 * Both sides are driven by the same client: requests signed with our SigV4
 * signer (UNSIGNED-PAYLOAD) and sent with keep-alive fetch, so the only
 * difference is the hop through the proxy. Each case runs `--runs` times,
 * alternating which side goes first; the reported ratio (proxy req/s ÷
 * direct req/s) is the median of the per-run ratios.
 *
 * Usage: bun bench/proxy.ts [--duration 10] [--warmup 2] [--concurrency 16]
 *   [--runs 3] [--cases get-1k,get-1m,put-1k,put-1m,head,list,listbuckets,badsig]
 *   [--big-mib 1024] [--no-rss] [--no-load] [--write] [--source]
 *   [--binary dist/stowage] [--profile DIR] [--perf DIR]
 *
 * --profile runs the server from the sources under `bun --cpu-prof-md` and
 * leaves a markdown CPU profile in DIR when it stops. --perf runs them
 * sampled by Linux perf instead (bench/lib/perf.ts) and prints where the
 * server's CPU went; run one case at a time (`--cases head --runs 1 --no-rss`).
 */
import { s3Env } from '../tests/helpers/s3.ts'
import { flags } from './lib/args.ts'
import { bigTransferTable, compare, cpuTable, throughputTable, type Case as CaseOf } from './lib/compare.ts'
import { expectStatus, type OpContext, must } from './lib/load.ts'
import { loadAverage, pidsByName } from './lib/proc.ts'
import { mib, publish } from './lib/report.ts'
import { headersOf, s3Client, type S3Client } from './lib/s3.ts'
import { DIST_BINARY, mintKey, rgwFronted, runsSources, signIn, startServer, type BenchServer } from './lib/server.ts'

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
  source: false,
  binary: DIST_BINARY,
  profile: '',
  perf: '',
})
const KiB = 1024
const MiB = 1024 * KiB
const LIST_KEYS = 100
const PASSWORD = `pw-${crypto.randomUUID()}`

const env = s3Env()
const direct = s3Client(env)
const wrongDirect = s3Client({ ...env, secretKey: 'W'.repeat(40) })
const bucket = `bench-proxy-${Date.now().toString(36)}`
/** Uploads go to a bucket of their own: RGW walks past the index entries of deleted keys when it lists. */
const writes = `${bucket}-w`
const payload = { '1k': crypto.getRandomValues(new Uint8Array(KiB)), '1m': crypto.getRandomValues(new Uint8Array(MiB)) }
const upstreamPids = [...pidsByName('radosgw'), ...pidsByName('ceph-osd')]

let srv: BenchServer | undefined
let proxy: S3Client
let wrongProxy: S3Client
let proxyUrl = ''

type Side = 'proxy' | 'direct'
type Case = CaseOf<Side>

async function seed(): Promise<void> {
  await must(direct.call('PUT', bucket, ''), 200, 'create bucket')
  await must(direct.call('PUT', writes, ''), 200, 'create the uploads bucket')
  for (let i = 0; i < LIST_KEYS; i += 20) {
    await Promise.all(
      Array.from({ length: 20 }, (_, j) =>
        must(direct.call('PUT', bucket, `list/obj-${String(i + j).padStart(3, '0')}`, { body: payload['1k'] }), 200, 'seed list'),
      ),
    )
  }
  for (const size of ['1k', '1m'] as const) await must(direct.call('PUT', bucket, `obj/${size}`, { body: payload[size] }), 200, `seed ${size}`)
}

async function start(): Promise<void> {
  srv = await startServer({
    binary: f.binary,
    from: f,
    admin: { username: 'bench', password: PASSWORD },
    ...rgwFronted(env),
  })
  proxyUrl = srv.listeners['s3-proxy']!
  const session = await signIn(srv.url, 'bench', PASSWORD)
  const cred = await mintKey(srv, session, { backend_id: 'rgw', buckets: [bucket, writes], description: 'bench' })
  proxy = s3Client({ endpoint: proxyUrl, region: 'us-east-1', accessKey: cred.access_key, secretKey: cred.secret_key })
  wrongProxy = s3Client({ endpoint: proxyUrl, region: 'us-east-1', accessKey: cred.access_key, secretKey: 'W'.repeat(40) })
}

function cases(): Case[] {
  const both = (fn: (s3: S3Client, c: OpContext, tag: string) => Promise<void>): Case['run'] => ({
    proxy: (c, t) => fn(proxy, c, t),
    direct: (c, t) => fn(direct, c, t),
  })
  const get = (size: '1k' | '1m'): Case['run'] => both(async (s3) => expectStatus(await s3.call('GET', bucket, `obj/${size}`), 200))
  const put = (size: '1k' | '1m'): Case['run'] =>
    both(async (s3, c, tag) => expectStatus(await s3.call('PUT', writes, `put/${tag}/${c.worker}-${c.seq}`, { body: payload[size] }), 200))
  return [
    { name: 'get-1k', label: 'GET 1 KiB', run: get('1k') },
    { name: 'get-1m', label: 'GET 1 MiB', run: get('1m') },
    { name: 'put-1k', label: 'PUT 1 KiB', run: put('1k'), cleanup: 'put/' },
    { name: 'put-1m', label: 'PUT 1 MiB', run: put('1m'), cleanup: 'put/' },
    { name: 'head', label: 'HEAD', run: both(async (s3) => expectStatus(await s3.call('HEAD', bucket, 'obj/1k'), 200)) },
    {
      name: 'list',
      label: `ListObjectsV2 (${LIST_KEYS} keys)`,
      run: both(async (s3) => expectStatus(await s3.call('GET', bucket, '', { query: { 'list-type': '2', prefix: 'list/' } }), 200)),
    },
    { name: 'listbuckets', label: 'ListBuckets (proxy: from the scope)', run: both(async (s3) => expectStatus(await s3.call('GET', '', ''), 200)) },
    {
      name: 'badsig',
      label: 'bad-signature reject (403)',
      run: {
        proxy: async () => expectStatus(await wrongProxy.call('GET', bucket, 'obj/1k'), 403),
        direct: async () => expectStatus(await wrongDirect.call('GET', bucket, 'obj/1k'), 403),
      },
    },
  ].filter((c) => !f.cases || f.cases.split(',').includes(c.name))
}

async function loadCases(list: Case[]): Promise<string> {
  const probe = { serverPid: srv!.pid, upstreamPids, cleanup: async (prefix: string) => direct.deleteKeys(writes, await direct.listKeys(writes, prefix)) }
  const results = await compare(f, probe, list, 'proxy', 'direct')
  return [
    `Throughput and latency: ${f.concurrency} concurrent clients, ${f.warmup} s warm-up + ${f.duration} s per case and side, ${f.runs} runs alternating which side goes first; medians over the runs. Latencies in ms. "direct" is RGW itself (for ListBuckets: RGW's own ListBuckets; for rejects: RGW refusing the same wrong secret).`,
    throughputTable(results, 'proxy'),
    'CPU milliseconds per request (user + system from /proc, medians over the runs): the Stowage process; RGW (radosgw + ceph-osd) while serving each side; the load generator on each side.',
    cpuTable(results, ['case', 'stowage', 'RGW via proxy', 'RGW direct', 'generator (proxy)', 'generator (direct)'], false),
  ].join('\n\n')
}

async function bigTransfers(): Promise<string> {
  const key = 'big/object.bin'
  for (let i = 0; i < 20; i++) await must(proxy.call('GET', bucket, '', { query: { 'list-type': '2', prefix: 'list/' } }), 200, 'warm-up')
  const put = proxy.request('PUT', writes, key)
  const get = proxy.request('GET', writes, key)
  const big = await bigTransferTable({
    pid: srv!.pid,
    size: f['big-mib'] * MiB,
    names: ['PUT', 'GET'],
    upload: { url: put.url, method: 'PUT', headers: headersOf(put.init), status: 200 },
    download: { url: get.url, headers: headersOf(get.init) },
  })
  await must(direct.call('DELETE', writes, key), 204, 'delete big object')
  return [
    `Stowage memory during a ${f['big-mib']} MiB transfer through the S3 proxy (RSS sampled every 50 ms from /proc plus VmHWM, reset before each transfer; MiB) and its CPU time per MiB moved. Idle RSS after warm-up: ${mib(big.idleKiB)} MiB. The download was checked byte for byte (MD5) against the upload.`,
    big.table,
  ].join('\n\n')
}

function commit(): string {
  const r = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD'], { cwd: new URL('..', import.meta.url).pathname, stdout: 'pipe', stderr: 'ignore' })
  return r.exitCode === 0 ? r.stdout.toString().trim() : 'unknown'
}

async function main(): Promise<void> {
  await seed()
  await start()
  const header = [
    `Run ${new Date().toISOString()} on ${navigator.hardwareConcurrency} CPUs, bun ${Bun.version}, commit ${commit()}, server ${runsSources(f) ? 'from the sources' : 'compiled binary'}.`,
    `Load average before: ${loadAverage()}.`,
  ]
  const sections: string[] = []
  if (!f['no-load']) sections.push(await loadCases(cases()))
  if (!f['no-rss']) sections.push(await bigTransfers())
  header.push(`Load average after: ${loadAverage()}.`)
  const body = [header.join(' '), ...sections].join('\n\n')
  publish('proxy-results', body, f.write)
}

async function cleanup(): Promise<void> {
  await srv?.stop().catch(() => {})
  for (const b of [bucket, writes]) await direct.removeBucket(b)
}

try {
  await main()
} finally {
  await cleanup()
}
