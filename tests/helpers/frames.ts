// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Long animation frames with what the page itself spent on them. The Long Animation Frames API
 * gives each frame over 50 ms its wall-clock span; a trace of the renderer's main thread gives
 * the CPU time of the tasks inside that span. On a shared 2-core machine a frame can last 90 ms
 * of which the page worked 20 and waited 70 for a core held by the server or another process:
 * the CPU figure is the page's cost, the wall figure what the person saw.
 */
import type { CDPSession, Page } from 'playwright-core'

export type LongFrame = { wall: number; cpu: number }
/** The long frames, and the main thread's CPU milliseconds over the whole recording. */
export type FrameRecord = { long: LongFrame[]; mainThreadMs: number }

type TraceEvent = { name: string; ph: string; pid: number; tid: number; ts: number; dur?: number; tdur?: number }

const SYNC = 'stowage-frames-sync'

export async function recordFrames(page: Page): Promise<{ stop: () => Promise<FrameRecord> }> {
  const cdp: CDPSession = await page.context().newCDPSession(page)
  const events: TraceEvent[] = []
  cdp.on('Tracing.dataCollected', ({ value }) => events.push(...(value as unknown as TraceEvent[])))
  // Only task boundaries and the sync mark: heavier categories would slow the frames measured.
  await cdp.send('Tracing.start', { categories: 'toplevel,blink.user_timing', transferMode: 'ReportEvents' })
  const sync = await page.evaluate((name) => {
    const frames: { start: number; duration: number }[] = []
    ;(window as unknown as { longFrames: typeof frames }).longFrames = frames
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) frames.push({ start: entry.startTime, duration: entry.duration })
    }).observe({ type: 'long-animation-frame' })
    return performance.mark(name).startTime
  }, SYNC)
  return {
    stop: async () => {
      const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve))
      await cdp.send('Tracing.end')
      await complete
      await cdp.detach()
      const frames = await page.evaluate(() => (window as unknown as { longFrames: { start: number; duration: number }[] }).longFrames)
      const mark = events.find((event) => event.name === SYNC)
      if (!mark) throw new Error('the trace holds no sync mark')
      // The mark was made on the main thread: its trace time and its performance.now() align the two clocks.
      const offset = mark.ts - sync * 1000
      const tasks = events
        .filter((event) => event.pid === mark.pid && event.tid === mark.tid && event.ph === 'X' && event.name === 'ThreadControllerImpl::RunTask')
        .sort((a, b) => a.ts - b.ts)
      if (tasks.length === 0) throw new Error('the trace holds no main-thread tasks: has the event been renamed?')
      const mainThreadMs = Math.round(tasks.reduce((sum, task) => sum + (task.tdur ?? task.dur ?? 0), 0) / 1000)
      const long = frames.map(({ start, duration }) => {
        const from = start * 1000 + offset
        const to = from + duration * 1000
        let cpu = 0
        for (const task of tasks) {
          const end = task.ts + (task.dur ?? 0)
          if (end <= from) continue
          if (task.ts >= to) break
          const share = task.dur ? (Math.min(end, to) - Math.max(task.ts, from)) / task.dur : 0
          cpu += share * (task.tdur ?? task.dur ?? 0)
        }
        return { wall: Math.round(duration), cpu: Math.round(cpu / 1000) }
      })
      return { long, mainThreadMs }
    },
  }
}
