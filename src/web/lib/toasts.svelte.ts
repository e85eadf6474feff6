// SPDX-License-Identifier: AGPL-3.0-or-later
/** Short-lived messages after an action ("User created"), announced politely to screen readers. */
import { ApiError, isAbort } from './api.ts'
import { errorText } from './error-text.ts'

export type Tone = 'info' | 'success' | 'warning' | 'danger'

export interface Toast {
  id: number
  message: string
  tone: Tone
}

class Toasts {
  items = $state<Toast[]>([])
  #next = 1

  show(message: string, tone: Tone = 'info', ms = 5000): void {
    const id = this.#next++
    this.items.push({ id, message, tone })
    setTimeout(() => this.dismiss(id), ms)
  }

  success(message: string): void {
    this.show(message, 'success')
  }

  /** Errors stay longer: they usually need reading. Aborts and errors already handled by a redirect are silent. */
  error(err: unknown): void {
    if (isAbort(err) || (err instanceof ApiError && err.redirected)) return
    this.show(errorText(err), 'danger', 12000)
  }

  dismiss(id: number): void {
    this.items = this.items.filter((toast) => toast.id !== id)
  }
}

export const toasts = new Toasts()
