// SPDX-License-Identifier: AGPL-3.0-or-later
/** The signed-in user's pinned buckets, shared by the sidebar and the bucket list. */
import { api } from './api.ts'
import type { Pin } from './storage-types.ts'

class Pins {
  items = $state<Pin[]>([])
  loaded = $state(false)
  #pending: Promise<void> | null = null

  has(backend: string, bucket: string): boolean {
    return this.items.some((pin) => pin.backend_id === backend && pin.bucket === bucket)
  }

  load(): Promise<void> {
    this.#pending ??= api
      .get<{ pins: Pin[] }>('/api/me/pins')
      .then((result) => {
        this.items = result.pins
        this.loaded = true
      })
      .finally(() => {
        this.#pending = null
      })
    return this.#pending
  }

  async pin(backend: string, bucket: string): Promise<void> {
    const pin = await api.post<Pin>('/api/me/pins', { backend_id: backend, bucket })
    if (!this.has(backend, bucket)) this.items.push(pin)
  }

  async unpin(backend: string, bucket: string): Promise<void> {
    await api.delete(`/api/me/pins/${encodeURIComponent(backend)}/${encodeURIComponent(bucket)}`)
    this.items = this.items.filter((pin) => !(pin.backend_id === backend && pin.bucket === bucket))
  }

  /** Forgets the list when the user changes (sign-out), so the next user never sees it. */
  clear(): void {
    this.items = []
    this.loaded = false
  }
}

export const pins = new Pins()
