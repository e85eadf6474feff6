// SPDX-License-Identifier: AGPL-3.0-or-later
/** The signed-in user, loaded once per sign-in from GET /api/me and shared by every page. */
import { request } from './api.ts'
import type { Me } from './types.ts'

class Session {
  user = $state<Me | null>(null)
  loading = $state(false)
  /** Why the last load failed; a 401 is not kept here for long because the client already moved to /login. */
  error = $state<unknown>(null)
  #pending: Promise<void> | null = null

  get isAdmin(): boolean {
    return this.user?.role === 'admin'
  }

  load(): Promise<void> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = null
    })
    return this.#pending
  }

  async #fetch(): Promise<void> {
    this.loading = true
    this.error = null
    try {
      this.user = await request<Me>('/api/me')
    } catch (err) {
      this.user = null
      this.error = err
    } finally {
      this.loading = false
    }
  }

  /** Forgets the user, so the next page inside the shell asks the server again (after sign-in or sign-out). */
  clear(): void {
    this.user = null
    this.error = null
  }
}

export const session = new Session()
