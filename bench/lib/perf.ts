// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Where a bench server's CPU goes, sampled by Linux `perf` (Debian's
 * linux-perf) rather than by Bun's own profiler, which charges time spent
 * blocked to the JavaScript frame that was running and so cannot give self
 * time. The server runs from the sources with JavaScriptCore's JIT dumps on;
 * they are turned into the `/tmp/perf-PID.map` that `perf report` reads, so
 * JIT-compiled JavaScript is named (function name, all tiers together).
 * Bun's own native code is stripped and shows as one lump, as does the kernel.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** The main thread's name: the executable's, cut to 15 characters by the kernel. */
const MAIN_THREAD = process.execPath.split('/').pop()!.slice(0, 15)

/** The prefix that starts Bun with JIT dumps written to `dir`. */
export function perfEnv(dir: string): string[] {
  const at = resolve(dir)
  mkdirSync(at, { recursive: true })
  return ['/usr/bin/env', 'BUN_JSC_useJITDump=1', `BUN_JSC_jitDumpDirectory=${at}`]
}

/** JIT_CODE_LOAD records of a jitdump file as perf map lines (`addr size name`). */
function mapLines(dump: Buffer): string[] {
  const out: string[] = []
  let at = dump.readUInt32LE(8)
  while (at + 16 <= dump.length) {
    const id = dump.readUInt32LE(at)
    const size = dump.readUInt32LE(at + 4)
    if (size === 0) break
    if (id === 0) {
      const addr = dump.readBigUInt64LE(at + 32)
      const codeSize = dump.readBigUInt64LE(at + 40)
      const nameAt = at + 56
      const name = dump.toString('utf8', nameAt, dump.indexOf(0, nameAt))
      out.push(`${addr.toString(16)} ${codeSize.toString(16)} ${name}`)
    }
    at += size
  }
  return out
}

type Row = { samples: number; fields: string[] }

function report(data: string, args: string[]): Row[] {
  const r = Bun.spawnSync(['perf', 'report', '-i', data, '--no-children', '-n', '--stdio', '-g', 'none', '-t', '|', ...args], { stderr: 'ignore' })
  return r.stdout
    .toString()
    .split('\n')
    .filter((l) => /^\s*[\d.]+%/.test(l))
    .map((l) => {
      const [, samples, ...fields] = l.split('|').map((s) => s.trim())
      return { samples: Number(samples), fields }
    })
}

/** What the thread's name says it is: the server's event loop, JSC's compilers and collector, the allocator. */
function threadKind(comm: string): string {
  if (comm === MAIN_THREAD) return 'main'
  if (/JIT|WarmUp|PerfLog/.test(comm)) return 'JIT compiler and its dumps'
  if (/Heap|ollector/.test(comm)) return 'garbage collector'
  if (/scavenger/.test(comm)) return 'allocator'
  if (/Pool/.test(comm)) return 'I/O thread pool'
  return 'other'
}

function codeKind(dso: string): string {
  if (dso.startsWith('[JIT]')) return 'JavaScript (JIT)'
  if (dso.startsWith('[kernel')) return 'kernel'
  if (dso === 'bun.exe' || dso === 'bun') return 'Bun native (stripped; includes the interpreter)'
  return 'libc and others'
}

const pct = (n: number, of: number): string => `${((100 * n) / of).toFixed(1)} %`

/**
 * The report of a finished sampling in `dir` (perf.data and the JIT dumps of
 * process `pid`): the samples by thread and kind of code, and the JavaScript
 * functions of the main thread. Also written to `dir`/report.md.
 */
export function perfReport(dir: string, pid: number): string {
  const at = resolve(dir)
  const data = join(at, 'perf.data')
  const dumps = readdirSync(at).filter((f) => /^jit-.*\.dump$/.test(f))
  writeFileSync(`/tmp/perf-${pid}.map`, dumps.flatMap((f) => mapLines(readFileSync(join(at, f)))).join('\n') + '\n')
  const byThread = new Map<string, number>()
  let total = 0
  for (const { samples, fields } of report(data, ['--sort', 'comm,dso'])) {
    const thread = threadKind(fields[0]!)
    const key = `${thread} | ${thread === 'main' ? codeKind(fields[1]!) : ''}`
    byThread.set(key, (byThread.get(key) ?? 0) + samples)
    total += samples
  }
  const js = new Map<string, number>()
  for (const { samples, fields } of report(data, ['--comm', MAIN_THREAD, '--sort', 'dso,sym'])) {
    if (!fields[0]!.startsWith('[JIT]')) continue
    const name =
      fields[1]!
        .replace(/^\[\.\]\s*/, '')
        .replace(/^JSC-[A-Za-z]+(: )?/, '')
        .replace(/#\w+$/, '') || '(unnamed)'
    js.set(name, (js.get(name) ?? 0) + samples)
  }
  const lines = [
    `${total} samples of the server's threads (perf record -F 1999, pid ${pid}).`,
    '',
    '| thread | code | share |',
    '| --- | --- | ---: |',
    ...[...byThread].sort((a, b) => b[1] - a[1]).map(([k, n]) => `| ${k} | ${pct(n, total)} |`),
    '',
    'JavaScript functions on the main thread (all JIT tiers together), share of all samples:',
    '',
    '| function | share |',
    '| --- | ---: |',
    ...[...js]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([name, n]) => `| \`${name}\` | ${pct(n, total)} |`),
  ]
  const text = lines.join('\n') + '\n'
  writeFileSync(join(at, 'report.md'), text)
  return text
}

/** Samples the running server with `perf record` until `stop()`, which returns perfReport's report. */
export function attachPerf(pid: number, dir: string): { stop(): Promise<string> } {
  const data = join(resolve(dir), 'perf.data')
  const perf = Bun.spawn(['perf', 'record', '-F', '1999', '-g', '-p', String(pid), '-o', data], { stdout: 'ignore', stderr: 'ignore' })
  return {
    async stop() {
      perf.kill('SIGINT')
      await perf.exited
      return perfReport(dir, pid)
    },
  }
}
