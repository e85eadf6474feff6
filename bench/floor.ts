// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Where the S3 proxy's CPU goes: the same calls through three servers in
 * front of one RGW, each its own process, in one run —
 *
 * - a byte relay (node:net in and out, nothing parsed: Bun's sockets alone),
 * - a do-nothing S3 relay built from the proxy's own parts (node:http
 *   server + Stowage's S3 client, re-signing; no authentication, no checks,
 *   no metrics, no log) — the floor of this design,
 * - Stowage's S3 listener (the compiled binary), with a virtual key,
 *
 * with server CPU per request for HEAD, GET and PUT of 1 KiB and 1 MiB at N
 * keep-alive clients, alternating the order per run; then a 1 GiB download
 * through each with its RSS sampled, which shows how much of the proxy's
 * growth the runtime's own socket reads make. The relays are in
 * bench/lib/relays.ts.
 *
 * Usage: bun bench/floor.ts [--duration 8] [--warmup 2] [--concurrency 16]
 *   [--runs 3] [--big-mib 1024] [--no-big] [--write] [--binary dist/stowage]
 */
import { s3Env } from '../tests/helpers/s3.ts'
import { flags } from './lib/args.ts'
import { measure, type Case, type Sample } from './lib/compare.ts'
import { expectStatus, must } from './lib/load.ts'
import { loadAverage, pidsByName, sampleRss } from './lib/proc.ts'
import { fixed, mib, publish, table, type Cell } from './lib/report.ts'
import { headersOf, s3Client, type S3Client } from './lib/s3.ts'
import { median } from './lib/stats.ts'
import { downloadStream, uploadStream } from './lib/transfer.ts'
import { DIST_BINARY, mintKey, rgwFronted, signIn, startServer, type BenchServer } from './lib/server.ts'

const f = flags(process.argv.slice(2), {
  duration: 8,
  warmup: 2,
  concurrency: 16,
  runs: 3,
  'big-mib': 1024,
  'no-big': false,
  write: false,
  binary: DIST_BINARY,
})
const KiB = 1024
const MiB = 1024 * KiB
const PASSWORD = `pw-${crypto.randomUUID()}`
const RELAYS = new URL('./lib/relays.ts', import.meta.url).pathname

const env = s3Env()
const direct = s3Client(env)
const rgw = new URL(env.endpoint)
const bucket = `bench-floor-${Date.now().toString(36)}`
const upstreamPids = [...pidsByName('radosgw'), ...pidsByName('ceph-osd')]

type Side = 'bytes' | 'stack' | 'proxy'
const SIDES: Side[] = ['bytes', 'stack', 'proxy']
const LABEL: Record<Side, string> = { bytes: 'byte relay', stack: 'S3 relay (own parts)', proxy: 'Stowage S3 listener' }

type Target = {
  pid: number
  fetch(method: string, key: string, body?: Uint8Array<ArrayBuffer>): Promise<Response>
  download(key: string): { url: string; headers: Record<string, string> }
}

async function relay(kind: 'bytes' | 'stack'): Promise<{ proc: Bun.Subprocess; pid: number; port: number }> {
  const proc = Bun.spawn([process.execPath, RELAYS, kind], { env: process.env, stdout: 'pipe', stderr: 'inherit' })
  const reader = proc.stdout.getReader()
  const { value } = await reader.read()
  reader.releaseLock()
  const port = Number(/^listening (\d+)/.exec(new TextDecoder().decode(value))?.[1])
  if (!port) throw new Error(`the ${kind} relay did not start`)
  return { proc, pid: proc.pid, port }
}

/** A request signed for RGW itself, addressed to the byte relay with RGW's host, so RGW's signature check passes through it. */
function viaBytes(port: number, method: string, key: string, body?: Uint8Array<ArrayBuffer>): { url: string; init: RequestInit } {
  const { url, init } = direct.request(method, bucket, key, body ? { body } : {})
  return { url: url.replace(rgw.origin, `http://127.0.0.1:${port}`), init: { ...init, headers: { ...headersOf(init), host: rgw.host } } }
}

async function targets(): Promise<{ t: Record<Side, Target>; stop(): Promise<void> }> {
  const bytes = await relay('bytes')
  const stack = await relay('stack')
  const srv: BenchServer = await startServer({ binary: f.binary, admin: { username: 'bench', password: PASSWORD }, ...rgwFronted(env) })
  const session = await signIn(srv.url, 'bench', PASSWORD)
  const cred = await mintKey(srv, session, { backend_id: 'rgw', buckets: [bucket], description: 'bench floor' })
  const proxy: S3Client = s3Client({ endpoint: srv.listeners['s3-proxy']!, region: env.region, accessKey: cred.access_key, secretKey: cred.secret_key })
  const stackUrl = (key: string): string => `http://127.0.0.1:${stack.port}/${bucket}/${key}`
  return {
    t: {
      bytes: {
        pid: bytes.pid,
        fetch: (method, key, body) => {
          const { url, init } = viaBytes(bytes.port, method, key, body)
          return fetch(url, init)
        },
        download: (key) => {
          const { url, init } = viaBytes(bytes.port, 'GET', key)
          return { url, headers: headersOf(init) }
        },
      },
      stack: {
        pid: stack.pid,
        fetch: (method, key, body) => fetch(stackUrl(key), { method, ...(body ? { body } : {}) }),
        download: (key) => ({ url: stackUrl(key), headers: {} }),
      },
      proxy: {
        pid: srv.pid,
        fetch: (method, key, body) => proxy.call(method, bucket, key, body ? { body } : {}),
        download: (key) => {
          const { url, init } = proxy.request('GET', bucket, key)
          return { url, headers: headersOf(init) }
        },
      },
    },
    async stop() {
      bytes.proc.kill()
      stack.proc.kill()
      await srv.stop()
    },
  }
}

type Call = { label: string; method: string; key: string; body?: Uint8Array<ArrayBuffer> }
const CALLS: Call[] = [
  { label: 'HEAD (1 KiB object)', method: 'HEAD', key: 'obj/1k' },
  { label: 'GET 1 KiB', method: 'GET', key: 'obj/1k' },
  { label: 'GET 1 MiB', method: 'GET', key: 'obj/1m' },
  { label: 'PUT 1 KiB', method: 'PUT', key: 'put/1k', body: crypto.getRandomValues(new Uint8Array(KiB)) },
  { label: 'PUT 1 MiB', method: 'PUT', key: 'put/1m', body: crypto.getRandomValues(new Uint8Array(MiB)) },
]

/** One call through the given server, refused unless it answers 200. */
async function measureOn(target: Target, side: Side, call: Call): Promise<Sample> {
  const op = async (): Promise<void> => expectStatus(await target.fetch(call.method, call.key, call.body), 200)
  const c: Case<Side> = { name: call.label, label: call.label, run: { bytes: op, stack: op, proxy: op } }
  const s = await measure(f, { serverPid: target.pid, upstreamPids, cleanup: async () => {} }, c, side, side)
  if (s.errors > 0) throw new Error(`${call.label} through the ${LABEL[side]}: ${s.errors} errors`)
  return s
}

async function loadTable(t: Record<Side, Target>): Promise<string> {
  const samples = CALLS.map(() => ({ bytes: [] as Sample[], stack: [] as Sample[], proxy: [] as Sample[] }))
  for (let run = 0; run < f.runs; run++) {
    console.error(`run ${run + 1}/${f.runs}`)
    const order = SIDES.map((_, i) => SIDES[(i + run) % SIDES.length]!)
    for (const [i, call] of CALLS.entries()) for (const side of order) samples[i]![side].push(await measureOn(t[side], side, call))
  }
  const med = (xs: Sample[], k: keyof Sample): number => median(xs.map((x) => x[k]))
  const rows: Cell[][] = CALLS.map((c, i) => {
    const s = samples[i]!
    const [b, st, p] = [med(s.bytes, 'serverMs'), med(s.stack, 'serverMs'), med(s.proxy, 'serverMs')]
    return [
      c.label,
      fixed(b, 3),
      fixed(st, 3),
      `**${fixed(p, 3)}**`,
      fixed(st - b, 3),
      fixed(p - st, 3),
      SIDES.map((side) => fixed(med(s[side], 'rps'), 0)).join(' / '),
      SIDES.map((side) => fixed(med(s[side], 'upstreamMs'), 3)).join(' / '),
    ]
  })
  return table(
    [
      'case',
      'byte relay',
      'S3 relay (own parts)',
      'Stowage S3 listener',
      'parsing, signing, HTTP (relay − bytes)',
      'the proxy’s own work (listener − relay)',
      'req/s (bytes / relay / listener)',
      'RGW CPU per request (same order)',
    ],
    rows,
  )
}

async function bigTable(t: Record<Side, Target>): Promise<string> {
  const key = 'big/object.bin'
  const { url, init } = direct.request('PUT', bucket, key)
  const up = await uploadStream(url, { method: 'PUT', size: f['big-mib'] * MiB, headers: headersOf(init) })
  if (up.status !== 200) throw new Error(`the ${f['big-mib']} MiB upload to RGW failed: ${up.status} ${up.body.slice(0, 300)}`)
  const rows: Cell[][] = []
  for (const side of SIDES) {
    await Bun.sleep(500)
    const target = t[side]
    const sampler = sampleRss(target.pid, 50)
    const d = target.download(key)
    const down = await downloadStream(d.url, { headers: d.headers, check: false })
    const m = sampler.stop()
    if (down.status !== 200 || down.bytes !== f['big-mib'] * MiB) throw new Error(`${side}: the download came back with ${down.status}, ${down.bytes} bytes`)
    rows.push([
      LABEL[side],
      mib(m.baselineKiB),
      mib(m.peakKiB),
      `**${mib(m.peakKiB - m.baselineKiB)}**`,
      fixed(down.bytes / MiB / down.seconds, 0),
      fixed((m.cpuSeconds * 1000) / f['big-mib'], 2),
    ])
    console.error(`  ${side}: ${fixed(down.seconds, 1)} s, RSS ${mib(m.baselineKiB)} → ${mib(m.peakKiB)} MiB`)
  }
  return table(['GET through', 'baseline RSS', 'peak RSS', 'growth', 'MiB/s', 'server CPU ms per MiB'], rows)
}

await must(await direct.call('PUT', bucket, ''), 200, 'create bucket')
await must(await direct.call('PUT', bucket, 'obj/1k', { body: crypto.getRandomValues(new Uint8Array(KiB)) }), 200, 'seed 1k')
await must(await direct.call('PUT', bucket, 'obj/1m', { body: crypto.getRandomValues(new Uint8Array(MiB)) }), 200, 'seed 1m')
const loadBefore = loadAverage()
const started = new Date().toISOString()
const servers = await targets()
try {
  const load = await loadTable(servers.t)
  const big = f['no-big'] ? '' : await bigTable(servers.t)
  const commit = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD']).stdout.toString().trim()
  publish(
    'floor-results',
    [
      `Run ${started} on ${navigator.hardwareConcurrency} CPUs, bun ${Bun.version}, commit ${commit}, Stowage as the compiled binary. Load average before: ${loadBefore}. Load average after: ${loadAverage()}.`,
      `Server CPU milliseconds per request (user + system of that server's process from /proc, medians of ${f.runs} runs of ${f.warmup} s warm-up + ${f.duration} s, ${f.concurrency} keep-alive clients, the order of the three rotating per run), then the differences between them, throughput, and RGW's CPU per request while each ran.`,
      load,
      ...(big
        ? [
            `A ${f['big-mib']} MiB object downloaded through each (one client, reading without hashing), with the server's RSS sampled every 50 ms plus VmHWM (MiB):`,
            big,
          ]
        : []),
    ].join('\n\n'),
    f.write,
  )
} finally {
  await servers.stop()
  await direct.removeBucket(bucket)
}
