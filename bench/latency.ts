// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The latency Stowage adds at one client: GETs of 1 KiB and 1 MiB through the S3 listener
 * (presigned URLs of a virtual key) and through the dashboard (signed-in object downloads),
 * each against the same object fetched from RGW directly (a presigned URL of its own keys), one
 * request at a time. Every pair is driven twice, by `wrk` (C, outside Bun) and by the Bun load
 * generator, so a figure does not depend on one client's costs; sides alternate per run. The
 * report gives p50 and p99 of each side and their difference ("added"), against the targets of
 * issue 13 (≤ 0.3 ms at p50 for 1 KiB, ≤ 1 ms for 1 MiB), and the server's CPU per request.
 *
 * Usage: bun bench/latency.ts [--duration 10] [--runs 3] [--write] [--binary dist/stowage]
 *   [--sizes 1k,1m] [--paths proxy,dashboard]
 */
import { presignUrl } from '../src/s3/sign.ts'
import { s3Env } from '../tests/helpers/s3.ts'
import { flags } from './lib/args.ts'
import { expectStatus, runLoad } from './lib/load.ts'
import { cpuSeconds, loadAverage, sched } from './lib/proc.ts'
import { fixed, publish, table, type Cell } from './lib/report.ts'
import { s3Client } from './lib/s3.ts'
import { DIST_BINARY, mintKey, rgwFronted, signIn, startServer } from './lib/server.ts'
import { percentile } from './lib/stats.ts'

const f = flags(process.argv.slice(2), { duration: 10, runs: 3, write: false, binary: DIST_BINARY, sizes: '1k,1m', paths: 'proxy,dashboard' })
const PASSWORD = `pw-${crypto.randomUUID()}`
const SIZES = { '1 KiB': 1024, '1 MiB': 1024 * 1024 } as const
const TARGET_P50 = { '1 KiB': 0.3, '1 MiB': 1 } as const
type Size = keyof typeof SIZES
const SIZE_FLAG: Record<string, Size> = { '1k': '1 KiB', '1m': '1 MiB' }
const sizes: Size[] = f.sizes.split(',').map((s) => SIZE_FLAG[s] ?? fatal(`--sizes takes 1k and 1m, not "${s}"`))
const chosenPaths = new Set(f.paths.split(','))
type Target = { url: string; headers: Record<string, string> }
type Measured = { p50: number; p99: number; requests: number }

const env = s3Env()
const direct = s3Client(env)
const bucket = `bench-latency-${Date.now().toString(36)}`
const keyOf = (size: Size): string => `obj/${SIZES[size]}`

function presigned(endpoint: string, accessKeyId: string, secretKey: string, region: string, size: Size): string {
  const url = new URL(`${endpoint}/${bucket}/${keyOf(size)}`)
  return presignUrl({ method: 'GET', url, accessKeyId, secretKey, region, expiresSeconds: 3600 }).toString()
}

/** wrk's --latency distribution: "50%  812.00us", "99%  2.10ms". */
function wrkPercentile(output: string, p: number): number {
  const m = new RegExp(`^\\s*${p}(?:\\.0+)?%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(output)
  if (!m) throw new Error(`no ${p}% line in wrk's output:\n${output}`)
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1)
}

async function withWrk(t: Target): Promise<Measured> {
  const headers = Object.entries(t.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`])
  const proc = Bun.spawn(['wrk', '-t1', '-c1', `-d${f.duration}s`, '--latency', ...headers, t.url], { stdout: 'pipe', stderr: 'pipe' })
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${await new Response(proc.stderr).text()}`)
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`wrk saw error answers from ${t.url}:\n${out}`)
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN)
  return { p50: wrkPercentile(out, 50), p99: wrkPercentile(out, 99), requests }
}

async function withBun(t: Target): Promise<Measured> {
  const r = await runLoad({
    concurrency: 1,
    warmupMs: 500,
    durationMs: f.duration * 1000,
    op: async () => expectStatus(await fetch(t.url, { headers: t.headers }), 200),
  })
  if (r.summary.errors) throw new Error(`${r.summary.errors} errors from ${t.url}: ${r.firstError}`)
  return { p50: r.summary.p50, p99: r.summary.p99, requests: r.summary.ok }
}

function fatal(message: string): never {
  throw new Error(message)
}

const median = (xs: number[]): number => percentile(Float64Array.from(xs).sort(), 0.5)

await expectStatus(await direct.call('PUT', bucket, ''), 200)
for (const size of Object.keys(SIZES) as Size[])
  await expectStatus(await direct.call('PUT', bucket, keyOf(size), { body: crypto.getRandomValues(new Uint8Array(SIZES[size])) }), 200)

const srv = await startServer({ binary: f.binary, admin: { username: 'bench', password: PASSWORD }, ...rgwFronted(env) })

try {
  const session = await signIn(srv.url, 'bench', PASSWORD)
  const cred = await mintKey(srv, session, { backend_id: 'rgw', buckets: [bucket], description: 'latency' })
  const proxyEndpoint = srv.listeners['s3-proxy']!
  const loadBefore = loadAverage()

  const allPaths = {
    proxy: [
      'S3 listener (presigned GET)',
      (size: Size): Target => ({
        url: presigned(proxyEndpoint, cred.access_key, cred.secret_key, 'us-east-1', size),
        headers: {},
      }),
    ],
    dashboard: [
      'dashboard (signed-in download)',
      (size: Size): Target => ({
        url: `${srv.url}/api/backends/rgw/buckets/${bucket}/object?key=${encodeURIComponent(keyOf(size))}`,
        headers: { cookie: session.cookie },
      }),
    ],
  } as const
  const paths = Object.entries(allPaths)
    .filter(([name]) => chosenPaths.has(name))
    .map(([, path]) => path)
  if (paths.length === 0) fatal('--paths takes proxy and dashboard')
  const generators = { wrk: withWrk, bun: withBun }
  const sections: string[] = []
  for (const [path, ours] of paths) {
    const rows: Cell[][] = []
    for (const size of sizes) {
      const directTarget: Target = { url: presigned(env.endpoint, env.accessKey, env.secretKey, env.region, size), headers: {} }
      for (const [name, drive] of Object.entries(generators)) {
        type Ours = { ours: Measured; cpuMs: number; waitMs: number }
        const runs: Array<Ours & { direct: Measured }> = []
        const measureOurs = async (): Promise<Ours> => {
          const cpu0 = cpuSeconds(srv.pid)
          const wait0 = sched(srv.pid).waitSeconds
          const m = await drive(ours(size))
          const perRequest = (seconds: number): number => (seconds * 1000) / m.requests
          return { ours: m, cpuMs: perRequest(cpuSeconds(srv.pid) - cpu0), waitMs: perRequest(sched(srv.pid).waitSeconds - wait0) }
        }
        for (let run = 0; run < f.runs; run++) {
          if (run % 2 === 0) {
            const o = await measureOurs()
            runs.push({ ...o, direct: await drive(directTarget) })
          } else {
            const direct = await drive(directTarget)
            runs.push({ ...(await measureOurs()), direct })
          }
        }
        const p = (side: 'ours' | 'direct', q: 'p50' | 'p99'): number => median(runs.map((r) => r[side][q]))
        const added50 = median(runs.map((r) => r.ours.p50 - r.direct.p50))
        const added99 = median(runs.map((r) => r.ours.p99 - r.direct.p99))
        const met = added50 <= TARGET_P50[size] ? 'met' : 'missed'
        console.error(`  ${path} ${size} ${name}: +${fixed(added50, 2)} ms p50, +${fixed(added99, 2)} ms p99`)
        rows.push([
          `GET ${size}`,
          name,
          fixed(p('direct', 'p50'), 2),
          fixed(p('direct', 'p99'), 2),
          fixed(p('ours', 'p50'), 2),
          fixed(p('ours', 'p99'), 2),
          `**${fixed(added50, 2)}**`,
          fixed(added99, 2),
          `≤ ${TARGET_P50[size]} (${met})`,
          fixed(median(runs.map((r) => r.cpuMs)), 3),
          fixed(median(runs.map((r) => r.waitMs)), 3),
        ])
      }
    }
    sections.push(
      `**${path}**`,
      table(
        [
          'object',
          'client',
          'direct p50',
          'direct p99',
          'Stowage p50',
          'Stowage p99',
          'added p50',
          'added p99',
          'target (added p50)',
          'server CPU ms per request',
          'server waiting for a CPU, ms per request',
        ],
        rows,
      ),
    )
  }
  const body = [
    `Run ${new Date().toISOString()} on ${navigator.hardwareConcurrency} CPUs, bun ${Bun.version}, compiled binary. Load average before: ${loadBefore}. After: ${loadAverage()}.`,
    `One client, ${f.duration} s per side and run, ${f.runs} runs alternating which side goes first; medians over the runs; milliseconds. "direct" is the same object from RGW by a presigned URL of its own keys. The last column is the time the server's main (JavaScript) thread spent runnable but waiting in a run queue (/proc schedstat): time the request waited because the machine's cores were busy.`,
    ...sections,
  ].join('\n\n')
  publish('latency-results', body, f.write)
} finally {
  await srv.stop()
  await direct.deleteKeys(
    bucket,
    Object.keys(SIZES).map((s) => keyOf(s as Size)),
  )
  await direct.call('DELETE', bucket, '')
}
