// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Process measurements from /proc (Linux only): resident memory, its peak,
 * CPU time, and an RSS sampler for "peak during a transfer" figures.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every mainstream Linux build. */
const CLK_TCK = 100

export type Memory = { rssKiB: number; hwmKiB: number }

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') }
}

/** Resets VmHWM to the current RSS (`echo 5 > clear_refs`); false when the kernel refuses. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses): [0] is the state. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid)
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
}

/**
 * CPU seconds of a process and all its descendants so far, including those
 * that have exited (a reaped child's time is in its parent's cutime and
 * cstime), so a server that starts and ends worker processes (PostgreSQL's
 * backends) is measured whole across an interval.
 */
export function treeCpuSeconds(root: number): number {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const ppid = Number(statFields(Number(entry))[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0
  for (const stack = [root]; stack.length > 0;) {
    const pid = stack.pop()!
    try {
      const f = statFields(pid)
      total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK
    } catch {
      continue
    }
    stack.push(...(children.get(pid) ?? []))
  }
  return total
}

/** The parent pid of `pid`. */
export function parentOf(pid: number): number {
  return Number(statFields(pid)[1])
}

/** Pids whose command name (/proc/<pid>/comm) is exactly `comm`. */
export function pidsByName(comm: string): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) out.push(Number(entry))
    } catch {
      // The process ended while we looked.
    }
  }
  return out
}

/** CPU seconds of several processes together (missing ones count as 0). */
export function cpuOf(pids: readonly number[]): number {
  let total = 0
  for (const pid of pids) {
    try {
      total += cpuSeconds(pid)
    } catch {
      // Gone.
    }
  }
  return total
}

export type RssSampler = {
  /** Stops sampling; peak is the larger of the sampled maximum and VmHWM (which also catches spikes between samples). */
  stop(): { baselineKiB: number; peakKiB: number; samples: number; cpuSeconds: number }
}

/** Samples VmRSS every `everyMs`; the baseline is the RSS when sampling starts (VmHWM is reset to it first). */
export function sampleRss(pid: number, everyMs = 50): RssSampler {
  const hwmReset = resetPeak(pid)
  const baselineKiB = memory(pid).rssKiB
  const cpuAtStart = cpuSeconds(pid)
  let peak = baselineKiB
  let samples = 0
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, memory(pid).rssKiB)
      samples++
    } catch {
      clearInterval(timer)
    }
  }, everyMs)
  return {
    stop() {
      clearInterval(timer)
      let hwm = Number.NaN
      let cpu = Number.NaN
      try {
        hwm = memory(pid).hwmKiB
        cpu = cpuSeconds(pid) - cpuAtStart
      } catch {
        // Gone.
      }
      return { baselineKiB, peakKiB: hwmReset && Number.isFinite(hwm) ? Math.max(peak, hwm) : peak, samples, cpuSeconds: cpu }
    },
  }
}

/** "1.23 0.98 0.75": how busy the machine was, for the report. */
export function loadAverage(): string {
  return loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')
}

export type Sched = { runSeconds: number; waitSeconds: number }

/**
 * Time a thread spent on a CPU and waiting in a run queue for one
 * (/proc/<pid>/task/<tid>/schedstat). The main thread (tid = pid) is where a
 * Bun server runs JavaScript: when its wait time is high, the server was
 * ready to work but the machine had no free core for it.
 */
export function sched(pid: number, tid = pid): Sched {
  const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number)
  return { runSeconds: run! / 1e9, waitSeconds: wait! / 1e9 }
}
