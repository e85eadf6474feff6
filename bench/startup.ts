// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The foundation figures of the compiled binary: its size, the time from exec
 * to the first `/healthz` 200 (on an empty data directory, and again on the
 * one that run left behind), its idle RSS, and the latency of
 * `POST /auth/login/local` with the production argon2id parameters at
 * concurrency 1, and the framework floor: server CPU per `GET /api/me` (listener,
 * request pipeline, Elysia, session lookup, access log, metrics) at 16 clients.
 *
 * Usage: bun bench/startup.ts [--starts 10] [--logins 40] [--floor-seconds 10] [--only floor] [--write] [--binary dist/stowage]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { DEFAULT_HASH_PARAMS } from '../src/auth/password.ts'
import { flags } from './lib/args.ts'
import { expectStatus, runLoad } from './lib/load.ts'
import { cpuOf, loadAverage, memory, sampleRss } from './lib/proc.ts'
import { fixed, mib, publish, table, type Cell } from './lib/report.ts'
import { DIST_BINARY, signIn, stageBinary, startServer, writeBenchConfig } from './lib/server.ts'
import { percentile, summarise } from './lib/stats.ts'

const f = flags(process.argv.slice(2), { starts: 10, logins: 40, 'floor-seconds': 10, only: '', write: false, binary: DIST_BINARY })
const PASSWORD = `pw-${crypto.randomUUID()}`

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

type Start = { ms: number; rssKiB: number }

/** One exec → first /healthz 200, polling every 2 ms; then the idle RSS and a clean stop. */
async function startOnce(bin: string, dir: string): Promise<Start> {
  const port = await freePort()
  const config = writeBenchConfig(dir, { backends: [{ id: 'local', type: 'fs', root: join(dir, 'objects') }] }, `127.0.0.1:${port}`)
  const url = `http://127.0.0.1:${port}/healthz`
  const started = performance.now()
  const proc = Bun.spawn([bin, 'serve', '--config', config], {
    cwd: dir,
    env: { PATH: '/usr/bin:/bin', HOME: dir },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
  })
  try {
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`stowage exited with ${proc.exitCode} before answering`)
      if (performance.now() - started > 30_000) throw new Error('stowage did not answer /healthz within 30 s')
      const ok = await fetch(url, { keepalive: false }).then(
        (r) => r.status === 200,
        () => false,
      )
      if (ok) break
      await Bun.sleep(2)
    }
    const ms = performance.now() - started
    await Bun.sleep(1000)
    return { ms, rssKiB: memory(proc.pid).rssKiB }
  } finally {
    proc.kill('SIGTERM')
    await proc.exited
  }
}

async function startups(): Promise<{ rows: Cell[][]; rssKiB: number }> {
  const { dir: binDir, bin } = stageBinary(f.binary)
  const first: Start[] = []
  const again: Start[] = []
  try {
    for (let i = 0; i < f.starts; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'stowage-start-'))
      try {
        first.push(await startOnce(bin, dir))
        again.push(await startOnce(bin, dir))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
      console.error(`  start ${i + 1}/${f.starts}: ${fixed(first.at(-1)!.ms, 0)} ms empty, ${fixed(again.at(-1)!.ms, 0)} ms existing`)
    }
  } finally {
    rmSync(binDir, { recursive: true, force: true })
  }
  const row = (what: string, xs: Start[]): Cell[] => {
    const ms = Float64Array.from(xs.map((x) => x.ms)).sort()
    return [what, xs.length, fixed(percentile(ms, 0.5), 0), fixed(ms[0]!, 0), fixed(ms[ms.length - 1]!, 0)]
  }
  const rss = Float64Array.from([...first, ...again].map((x) => x.rssKiB)).sort()
  return {
    rows: [row('empty data directory (creates the database and master key)', first), row('existing data directory', again)],
    rssKiB: percentile(rss, 0.5),
  }
}

async function logins(): Promise<string> {
  const srv = await startServer({ binary: f.binary, admin: { username: 'admin', password: PASSWORD } })
  try {
    // The first sign-in also builds the dummy hash used for unknown users; keep it out of the figures.
    await signIn(srv.url, 'admin', PASSWORD)
    const latencies: number[] = []
    const cpu0 = cpuOf([srv.pid])
    const rss = sampleRss(srv.pid, 50)
    for (let i = 0; i < f.logins; i++) {
      const t0 = performance.now()
      await signIn(srv.url, 'admin', PASSWORD)
      latencies.push(performance.now() - t0)
    }
    const mem = rss.stop()
    const cpuMs = ((cpuOf([srv.pid]) - cpu0) * 1000) / f.logins
    const s = summarise(latencies, 0, latencies.reduce((a, b) => a + b, 0) / 1000)
    console.error(`  logins: p50 ${fixed(s.p50, 1)} ms, p99 ${fixed(s.p99, 1)} ms`)
    return [
      `Sign-in (\`POST /auth/login/local\`, argon2id m=${DEFAULT_HASH_PARAMS.memoryCost / 1024} MiB, t=${DEFAULT_HASH_PARAMS.timeCost}: the production parameters, hash made by \`create-admin\`), ${f.logins} sequential sign-ins at concurrency 1, ms:`,
      table(
        ['sign-ins', 'req/s', 'p50', 'p99', 'max', 'server CPU per sign-in', 'RSS before → peak (MiB)'],
        [[s.ok, fixed(s.rps, 1), fixed(s.p50, 1), fixed(s.p99, 1), fixed(s.max, 1), `${fixed(cpuMs, 0)} ms`, `${mib(mem.baselineKiB)} → ${mib(mem.peakKiB)}`]],
      ),
    ].join('\n\n')
  } finally {
    await srv.stop()
  }
}

/** Server CPU per `GET /api/me` at 16 clients: what every dashboard request costs before it does any work of its own. */
async function floor(): Promise<string> {
  const srv = await startServer({ binary: f.binary, admin: { username: 'admin', password: PASSWORD } })
  try {
    const session = await signIn(srv.url, 'admin', PASSWORD)
    const headers = session.headers()
    const op = async (): Promise<void> => expectStatus(await fetch(`${srv.url}/api/me`, { headers }), 200)
    await runLoad({ concurrency: 16, durationMs: 2000, warmupMs: 1000, op })
    const rows: Cell[][] = []
    for (let run = 1; run <= 3; run++) {
      const cpu0 = cpuOf([srv.pid])
      const r = await runLoad({ concurrency: 16, durationMs: f['floor-seconds'] * 1000, warmupMs: 0, op })
      const perRequest = ((cpuOf([srv.pid]) - cpu0) * 1000) / r.summary.ok
      rows.push([run, r.summary.ok, fixed(r.summary.rps, 0), fixed(r.summary.p50, 2), fixed(r.summary.p99, 2), fixed(perRequest, 3), r.summary.errors])
      console.error(`  floor run ${run}: ${fixed(perRequest, 3)} ms CPU per GET /api/me`)
    }
    return [
      `Framework floor: \`GET /api/me\` signed in (listener, request pipeline, Elysia, session lookup, access log, metrics), 16 clients, ${f['floor-seconds']} s per run; server CPU (user + system from /proc) per request:`,
      table(['run', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'server CPU ms per request', 'errors'], rows),
    ].join('\n\n')
  } finally {
    await srv.stop()
  }
}

if (f.only === 'floor') {
  console.log(`\nRun ${new Date().toISOString()}, load average ${loadAverage()}.\n\n${await floor()}\n`)
  process.exit(0)
}

const size = statSync(f.binary).size
const header = `Run ${new Date().toISOString()} on ${navigator.hardwareConcurrency} CPUs, bun ${Bun.version}. Load average before: ${loadAverage()}.`
console.error('start-up')
const s = await startups()
console.error('sign-in')
const login = await logins()
console.error('framework floor')
const framework = await floor()
const body = [
  `${header} Load average after: ${loadAverage()}.`,
  `Binary: \`${relative(process.cwd(), f.binary) || f.binary}\` is ${fixed(size / 1024 / 1024, 1)} MiB (${size} bytes; compiled with \`--bytecode --minify\`, web UI and API explorer embedded).`,
  `Start-up, exec → first \`GET /healthz\` 200 (polled every 2 ms), ${f.starts} runs each, ms. Idle RSS one second after start-up: ${mib(s.rssKiB)} MiB (median).`,
  table(['data directory', 'runs', 'median', 'min', 'max'], s.rows),
  login,
  framework,
].join('\n\n')
publish('foundation-results', body, f.write)
