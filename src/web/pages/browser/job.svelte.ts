// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The state of a delete, copy or move dialog: its form, then the job running with live progress,
 * then the outcome. Stopping aborts the request, and the server's job stops with it (it watches
 * for the client going away).
 */
import { isAbort } from '../../lib/api.ts'
import { newProgress, type JobProgress } from './operations.ts'

export class Job {
  phase = $state<'form' | 'running' | 'finished'>('form')
  progress = $state<JobProgress>(newProgress())
  error = $state<unknown>(null)
  #controller: AbortController | null = null

  /** Runs the work; being stopped counts as cancelled, any other failure is kept in `error`. */
  async run(work: (progress: JobProgress, signal: AbortSignal) => Promise<void>): Promise<void> {
    this.phase = 'running'
    this.#controller = new AbortController()
    try {
      await work(this.progress, this.#controller.signal)
    } catch (err) {
      if (isAbort(err)) this.progress.cancelled = true
      else this.error = err
    } finally {
      this.phase = 'finished'
    }
  }

  stop(): void {
    this.#controller?.abort()
  }
}
