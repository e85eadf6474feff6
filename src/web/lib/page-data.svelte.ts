// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What a list page loads: the last answer (kept while a reload runs, so a table does not flash
 * empty), whether a load is running, and the last load's error. Create it while the component
 * initialises: `load` runs in an effect, so state it reads (filters, paging) reloads on change, a
 * stale load is aborted, and `reload()` fetches again after a change.
 */
import { isAbort } from './api.ts'

export class PageData<T> {
  value = $state<T | null>(null)
  loading = $state(false)
  error = $state<unknown>(null)
  #revision = $state(0)

  constructor(load: (signal: AbortSignal) => Promise<T>) {
    $effect(() => {
      void this.#revision
      const controller = new AbortController()
      this.loading = true
      load(controller.signal).then(
        (value) => {
          this.value = value
          this.error = null
          this.loading = false
        },
        (err: unknown) => {
          if (isAbort(err)) return
          this.error = err
          this.loading = false
        },
      )
      return () => controller.abort()
    })
  }

  reload = (): void => {
    this.#revision += 1
  }
}
