// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Sums a flat listing page by page. Every page yields to the event loop, so a
 * bucket with millions of keys never starves other requests, and the walk
 * stops between pages when its signal aborts or a budget runs out.
 */
import type { Backend } from '../backends/backend.ts'

export type WalkBudget = {
  signal?: AbortSignal
  /** Stop (truncated) after this many objects. */
  maxObjects?: number
  /** Stop (truncated) at this `performance.now()` time. */
  deadline?: number
}

export type WalkResult = { bytes: number; objects: number; truncated: boolean }

export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export async function sumListing(backend: Backend, bucket: string, prefix: string, budget: WalkBudget = {}): Promise<WalkResult> {
  let bytes = 0
  let objects = 0
  let token: string | undefined
  for (;;) {
    budget.signal?.throwIfAborted()
    // Never list past the object budget, so a small budget costs a small listing.
    const maxKeys = budget.maxObjects === undefined ? 1000 : Math.max(1, Math.min(1000, budget.maxObjects - objects))
    const page = await backend.listObjects(bucket, { prefix, delimiter: '', token, maxKeys })
    for (const o of page.objects) bytes += o.size
    objects += page.objects.length
    if (!page.isTruncated || !page.nextToken) return { bytes, objects, truncated: false }
    token = page.nextToken
    if ((budget.maxObjects !== undefined && objects >= budget.maxObjects) || (budget.deadline !== undefined && performance.now() >= budget.deadline)) {
      return { bytes, objects, truncated: true }
    }
    await yieldToLoop()
  }
}

/** Resolves like `p`, or rejects with a TimeoutError after `ms` (the work behind `p` is not cancelled). */
export function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DOMException('budget exceeded', 'TimeoutError')), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}
