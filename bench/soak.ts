// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Does the server's memory stay flat under a long mixed load? The compiled binary in front of
 * RGW serves, for `--minutes`, half of `--concurrency` clients on the dashboard (GET /api/me,
 * list 100 keys, HEAD, GET 1 KiB and 1 MiB, upload 1 KiB) and half on the S3 listener (GET 1 KiB
 * and 1 MiB, PUT 1 KiB and 1 MiB, HEAD, ListObjectsV2), each client picking its next operation in
 * turn. RSS is read from /proc every second; the report compares the median of the first minute
 * (after a warm-up minute that is not counted) with the median of the last one, and gives the
 * median of every minute and the least-squares trend.
 *
 * Usage: bun bench/soak.ts [--minutes 10] [--warmup 1] [--concurrency 16] [--write] [--binary dist/stowage]
 */
import { s3Env } from '../tests/helpers/s3.ts'
import { flags } from './lib/args.ts'
import { expectStatus, runLoad, must } from './lib/load.ts'
import { cpuSeconds, loadAverage, memory } from './lib/proc.ts'
import { fixed, mib, publish, table } from './lib/report.ts'
import { s3Client } from './lib/s3.ts'
import { DIST_BINARY, mintKey, rgwFronted, signIn, startServer } from './lib/server.ts'
import { percentile } from './lib/stats.ts'

const f = flags(process.argv.slice(2), { minutes: 10, warmup: 1, concurrency: 16, write: false, binary: DIST_BINARY })
const PASSWORD = `pw-${crypto.randomUUID()}`
const KiB = 1024
const MiB = 1024 * KiB
const env = s3Env()
const direct = s3Client(env)
const bucket = `bench-soak-${Date.now().toString(36)}`
const payload = { '1k': crypto.getRandomValues(new Uint8Array(KiB)), '1m': crypto.getRandomValues(new Uint8Array(MiB)) }
const q = (key: string): string => `key=${encodeURIComponent(key)}`

/** The slope of the straight line closest to the points (y per x). */
function leastSquaresSlope(points: Array<[number, number]>): number {
  const n = points.length
  const mx = points.reduce((a, [x]) => a + x, 0) / n
  const my = points.reduce((a, [, y]) => a + y, 0) / n
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0)
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0)
  return sxx === 0 ? 0 : sxy / sxx
}

await must(await direct.call('PUT', bucket, ''), 200, 'create bucket')
for (let i = 0; i < 100; i += 20)
  await Promise.all(
    Array.from({ length: 20 }, async (_, j) => must(await direct.call('PUT', bucket, `list/obj-${i + j}`, { body: payload['1k'] }), 200, 'seed')),
  )
for (const size of ['1k', '1m'] as const) await must(await direct.call('PUT', bucket, `obj/${size}`, { body: payload[size] }), 200, 'seed')

const srv = await startServer({ binary: f.binary, admin: { username: 'bench', password: PASSWORD }, ...rgwFronted(env) })

try {
  const session = await signIn(srv.url, 'bench', PASSWORD)
  const cred = await mintKey(srv, session, { backend_id: 'rgw', buckets: [bucket], description: 'soak' })
  const proxy = s3Client({ endpoint: srv.listeners['s3-proxy']!, region: 'us-east-1', accessKey: cred.access_key, secretKey: cred.secret_key })
  const api = `${srv.url}/api/backends/rgw/buckets/${bucket}`
  const read = session.headers()
  const write = session.headers({ mutation: true, extra: { 'content-type': 'application/octet-stream' } })

  // Writes reuse a small set of keys, so the bucket (and RGW) stay the same size for the whole run.
  const dashboardOps = [
    async () => expectStatus(await fetch(`${srv.url}/api/me`, { headers: read }), 200),
    async () => expectStatus(await fetch(`${api}/objects?prefix=list/`, { headers: read }), 200),
    async () => expectStatus(await fetch(`${api}/object?${q('obj/1k')}`, { method: 'HEAD', headers: read }), 200),
    async () => expectStatus(await fetch(`${api}/object?${q('obj/1k')}`, { headers: read }), 200),
    async () => expectStatus(await fetch(`${api}/object?${q('obj/1m')}`, { headers: read }), 200),
    async (n: number) => expectStatus(await fetch(`${api}/object?${q(`put/d-${n % 64}`)}`, { method: 'POST', headers: write, body: payload['1k'] }), 201),
  ]
  const proxyOps = [
    async () => expectStatus(await proxy.call('GET', bucket, 'obj/1k'), 200),
    async () => expectStatus(await proxy.call('GET', bucket, 'obj/1m'), 200),
    async (n: number) => expectStatus(await proxy.call('PUT', bucket, `put/p-${n % 64}`, { body: payload['1k'] }), 200),
    async (n: number) => expectStatus(await proxy.call('PUT', bucket, `put/m-${n % 16}`, { body: payload['1m'] }), 200),
    async () => expectStatus(await proxy.call('HEAD', bucket, 'obj/1k'), 200),
    async () => expectStatus(await proxy.call('GET', bucket, '', { query: { 'list-type': '2', prefix: 'list/' } }), 200),
  ]

  const samples: Array<{ at: number; rssKiB: number }> = []
  const started = performance.now()
  const cpu0 = cpuSeconds(srv.pid)
  const timer = setInterval(() => samples.push({ at: (performance.now() - started) / 1000, rssKiB: memory(srv.pid).rssKiB }), 1000)
  const loadBefore = loadAverage()
  const result = await runLoad({
    concurrency: f.concurrency,
    warmupMs: 0,
    durationMs: (f.warmup + f.minutes) * 60_000,
    op: async ({ worker, seq }) => {
      const ops = worker % 2 === 0 ? dashboardOps : proxyOps
      await ops[seq % ops.length]!(seq)
    },
  })
  clearInterval(timer)
  const cpu = cpuSeconds(srv.pid) - cpu0

  const window = (from: number, to: number): Float64Array => Float64Array.from(samples.filter((s) => s.at >= from && s.at < to).map((s) => s.rssKiB)).sort()
  const end = (f.warmup + f.minutes) * 60
  const first = window(f.warmup * 60, f.warmup * 60 + 60)
  const last = window(end - 60, end)
  const all = window(f.warmup * 60, end)
  const growth = percentile(last, 0.5) - percentile(first, 0.5)
  // The trend, not two points: a saw-tooth of collections can put two single minutes apart by chance.
  const counted = samples.filter((x) => x.at >= f.warmup * 60)
  const slope = leastSquaresSlope(counted.map((x) => [x.at / 60, x.rssKiB / 1024]))
  const perMinute = Array.from({ length: f.minutes }, (_, i) => mib(percentile(window((f.warmup + i) * 60, (f.warmup + i + 1) * 60), 0.5)))
  const body = [
    `Run ${new Date().toISOString()} on ${navigator.hardwareConcurrency} CPUs, bun ${Bun.version}, compiled binary. Load average before: ${loadBefore}. After: ${loadAverage()}.`,
    `${f.concurrency} clients for ${f.minutes} min after a ${f.warmup}-min warm-up, half on the dashboard and half on the S3 listener, mixed operations (see \`bench/soak.ts\`): ${result.summary.ok} requests (${fixed(result.summary.rps, 0)}/s), ${result.summary.errors} errors${result.firstError ? ` (first: ${result.firstError})` : ''}, ${fixed((cpu * 1000) / result.summary.ok, 3)} ms of server CPU per request. RSS sampled every second (MiB):`,
    table(
      ['first minute (median)', 'last minute (median)', 'growth', 'lowest', 'highest', 'samples'],
      [[mib(percentile(first, 0.5)), mib(percentile(last, 0.5)), `**${mib(growth)}**`, mib(all[0] ?? 0), mib(all[all.length - 1] ?? 0), all.length]],
    ),
    `Median RSS of each minute (MiB): ${perMinute.join(' · ')}. Trend of all samples after the warm-up (least squares): ${fixed(slope, 2)} MiB per minute.`,
  ].join('\n\n')
  publish('soak-results', body, f.write)
} finally {
  await srv.stop()
}
