// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What every bucket settings section does the same way: load its current value (again when the
 * path changes, aborting a stale load), run one action at a time with that action's button busy,
 * and keep the last failure of either for the section to show.
 */
import { api } from '../../lib/api.ts'

export class SectionState<Action extends string> {
  busy = $state<Action | null>(null)
  error = $state<unknown>(null)

  /** Loads `path` and hands the answer to `show`; call it in an $effect and return its result, which aborts the load. */
  load<T>(path: string, show: (value: T) => void): () => void {
    const controller = new AbortController()
    api.get<T>(path, undefined, controller.signal).then(show, (err: unknown) => {
      if (!controller.signal.aborted) this.error = err
    })
    return () => controller.abort()
  }

  /** Runs one action with `what` marked busy; a failure lands in `error`. */
  async act(what: Action, run: () => Promise<void>): Promise<void> {
    this.busy = what
    this.error = null
    try {
      await run()
    } catch (err) {
      this.error = err
    } finally {
      this.busy = null
    }
  }
}
