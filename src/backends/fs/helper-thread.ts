// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A thread of the fs backend, started on first use. Its code is a file
 * beside this one, or in the compiled binary an entry point that
 * scripts/build.ts adds, named from the binary's root (src/), where every
 * module's URL is the binary's own. A thread that cannot start, or stops,
 * is null from then on, and its owner does the work on the event loop.
 */
export type HelperThread = () => Worker | null

export function helperThread<Reply>(file: string, on: { reply(reply: Reply): void; stopped(): void }): HelperThread {
  const url = import.meta.url.includes('/$bunfs/') ? `./backends/fs/${file}` : new URL(`./${file}`, import.meta.url).href
  let worker: Worker | null | undefined
  const stop = (): void => {
    worker = null
    on.stopped()
  }
  return () => {
    if (worker !== undefined) return worker
    try {
      worker = new Worker(url, { ref: false })
      worker.onmessage = (e: MessageEvent<Reply>) => on.reply(e.data)
      worker.onerror = stop
      worker.addEventListener('close', stop)
    } catch {
      worker = null
    }
    return worker
  }
}
