// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What both comparisons (dashboard vs RGW, proxy vs RGW) do the same way:
 * run each case on both sides with the same load, alternating which side goes
 * first, with CPU per request for the server, the upstream and the generator;
 * and a large upload then download through the server with its RSS sampled.
 */
import { runLoad, type OpContext } from './load.ts'
import { cpuOf, memory, sampleRss, sched } from './proc.ts'
import { fixed, mib, table, type Cell } from './report.ts'
import { median } from './stats.ts'
import { downloadStream, uploadStream, type TransferResult } from './transfer.ts'

export type Case<S extends string> = { name: string; label: string; run: Record<S, (c: OpContext, tag: string) => Promise<void>>; cleanup?: string }

export type Sample = {
  rps: number
  p50: number
  p99: number
  errors: number
  serverMs: number
  upstreamMs: number
  generatorMs: number
  mainRun: number
  mainWait: number
}

export type LoadShape = { concurrency: number; duration: number; warmup: number; runs: number }

export type Probe = { serverPid: number; upstreamPids: readonly number[]; cleanup(prefix: string): Promise<void> }

/** One case on one side: its load, and the CPU of the server, the upstream and the generator per request. */
export async function measure<S extends string>(shape: LoadShape, probe: Probe, c: Case<S>, side: S, tag: string): Promise<Sample> {
  const { serverPid, upstreamPids } = probe
  const before = { server: cpuOf([serverPid]), upstream: cpuOf(upstreamPids), self: process.cpuUsage(), main: sched(serverPid), at: performance.now() }
  const r = await runLoad({
    concurrency: shape.concurrency,
    durationMs: shape.duration * 1000,
    warmupMs: shape.warmup * 1000,
    op: (ctx) => c.run[side](ctx, tag),
  })
  const self = process.cpuUsage(before.self)
  const main = sched(serverPid)
  const wall = (performance.now() - before.at) / 1000
  // CPU is counted over warm-up and measurement alike, so it is divided by every request made in both.
  const total = r.summary.ok * ((shape.duration + shape.warmup) / shape.duration)
  const perReq = (seconds: number): number => (total > 0 ? (seconds * 1000) / total : Number.NaN)
  if (c.cleanup) await probe.cleanup(c.cleanup)
  const s = r.summary
  console.error(
    `  ${c.name.padEnd(11)} ${side.padEnd(9)} ${fixed(s.rps, 0).padStart(6)} req/s  p50 ${fixed(s.p50, 2)} ms  p99 ${fixed(s.p99, 2)} ms  errors ${s.errors}${r.firstError ? ` (${r.firstError})` : ''}`,
  )
  return {
    rps: s.rps,
    p50: s.p50,
    p99: s.p99,
    errors: s.errors,
    serverMs: perReq(cpuOf([serverPid]) - before.server),
    upstreamMs: perReq(cpuOf(upstreamPids) - before.upstream),
    generatorMs: perReq((self.user + self.system) / 1e6),
    mainRun: (main.runSeconds - before.main.runSeconds) / wall,
    mainWait: (main.waitSeconds - before.main.waitSeconds) / wall,
  }
}

export type Compared = { label: string; ours: Sample[]; direct: Sample[] }

/** Runs every case `shape.runs` times on both sides; `ours` is the side through Stowage. */
export async function compare<S extends string>(shape: LoadShape, probe: Probe, cases: Array<Case<S>>, ours: S, direct: S): Promise<Compared[]> {
  const out = cases.map((c) => ({ label: c.label, ours: [] as Sample[], direct: [] as Sample[] }))
  for (let run = 0; run < shape.runs; run++) {
    console.error(`run ${run + 1}/${shape.runs}`)
    for (const [i, c] of cases.entries()) {
      const order: S[] = run % 2 === 0 ? [ours, direct] : [direct, ours]
      for (const side of order) out[i]![side === ours ? 'ours' : 'direct'].push(await measure(shape, probe, c, side, `${side}-${run}`))
    }
  }
  return out
}

const med = (xs: Sample[], k: keyof Sample): number => median(xs.map((x) => x[k]))
const pct = (v: number): string => `${fixed(v * 100, 0)} %`

/** The throughput table: medians per side, the median of per-run ratios, and each run's ratio. */
export function throughputTable(results: Compared[], ours: string): string {
  const rows = results.map(({ label, ours: o, direct: d }): Cell[] => {
    const ratios = o.map((s, i) => s.rps / d[i]!.rps)
    const errors = [...o, ...d].reduce((n, s) => n + s.errors, 0)
    return [
      label,
      fixed(med(o, 'rps'), 0),
      fixed(med(o, 'p50'), 2),
      fixed(med(o, 'p99'), 2),
      fixed(med(d, 'rps'), 0),
      fixed(med(d, 'p50'), 2),
      fixed(med(d, 'p99'), 2),
      `**${fixed(median(ratios), 2)}**`,
      ratios.map((r) => fixed(r, 2)).join(' / '),
      errors,
    ]
  })
  return table(['case', `${ours} req/s`, 'p50', 'p99', 'direct req/s', 'p50', 'p99', 'ratio (median)', 'ratio per run', 'errors'], rows)
}

/** CPU per request on each side; with `mainThread`, the server's main thread on and waiting for a CPU during our side. */
export function cpuTable(results: Compared[], headers: string[], mainThread: boolean): string {
  const rows = results.map(({ label, ours: o, direct: d }): Cell[] => [
    label,
    fixed(med(o, 'serverMs'), 3),
    fixed(med(o, 'upstreamMs'), 3),
    fixed(med(d, 'upstreamMs'), 3),
    fixed(med(o, 'generatorMs'), 3),
    fixed(med(d, 'generatorMs'), 3),
    ...(mainThread ? [pct(med(o, 'mainRun')), pct(med(o, 'mainWait'))] : []),
  ])
  return table(headers, rows)
}

export type BigTransfer = {
  pid: number
  size: number
  /** Label for the two rows, e.g. ['upload', 'download']. */
  names: [string, string]
  upload: { url: string; method: string; headers: Record<string, string>; status: number }
  download: { url: string; headers: Record<string, string> }
  /** The downloads after the upload, in order, each with what its row should add to the name and what to do first; by default one timed, then one checked by MD5. */
  downloads?: Array<{ check: boolean; note: string; before?: () => void }>
}

const DOWNLOADS: NonNullable<BigTransfer['downloads']> = [
  { check: false, note: '' },
  { check: true, note: ', client hashing MD5' },
]

/** Streams `size` bytes up and back down (by default twice: timed, then checked by MD5) through the server, and tabulates its RSS growth and CPU per MiB. */
export async function bigTransferTable(t: BigTransfer): Promise<{ idleKiB: number; table: string }> {
  const MiB = 1024 * 1024
  await Bun.sleep(500)
  const idle = memory(t.pid)
  const rows: Cell[][] = []
  const row = (what: string, r: TransferResult, m: { baselineKiB: number; peakKiB: number; samples: number; cpuSeconds: number }): Cell[] => [
    what,
    mib(m.baselineKiB),
    mib(m.peakKiB),
    `**${mib(m.peakKiB - m.baselineKiB)}**`,
    fixed(r.bytes / MiB / r.seconds, 0),
    fixed((m.cpuSeconds * 1000) / (r.bytes / MiB), 2),
    m.samples,
  ]
  const sizeMiB = t.size / MiB
  let sampler = sampleRss(t.pid, 50)
  const up = await uploadStream(t.upload.url, { method: t.upload.method, size: t.size, headers: t.upload.headers })
  const upMem = sampler.stop()
  if (up.status !== t.upload.status) throw new Error(`${t.names[0]} of ${sizeMiB} MiB failed: ${up.status} ${up.body.slice(0, 300)}`)
  rows.push(row(`${t.names[0]} ${sizeMiB} MiB`, up, upMem))
  console.error(`  ${t.names[0]}: ${fixed(up.seconds, 1)} s, RSS ${mib(upMem.baselineKiB)} → ${mib(upMem.peakKiB)} MiB`)
  for (const { check, note, before } of t.downloads ?? DOWNLOADS) {
    before?.()
    await Bun.sleep(500)
    sampler = sampleRss(t.pid, 50)
    const down = await downloadStream(t.download.url, { headers: t.download.headers, check })
    const downMem = sampler.stop()
    if (down.status !== 200 || down.bytes !== t.size || (check && down.md5 !== up.md5))
      throw new Error(`${t.names[1]} of ${sizeMiB} MiB came back wrong: status ${down.status}, ${down.bytes} bytes, md5 ${down.md5} (sent ${up.md5})`)
    const name = `${t.names[1]} ${sizeMiB} MiB${note}`
    rows.push(row(name, down, downMem))
    console.error(`  ${name}: ${fixed(down.seconds, 1)} s, RSS ${mib(downMem.baselineKiB)} → ${mib(downMem.peakKiB)} MiB`)
  }
  return { idleKiB: idle.rssKiB, table: table(['transfer', 'baseline RSS', 'peak RSS', 'growth', 'MiB/s', 'server CPU ms per MiB', 'samples'], rows) }
}
