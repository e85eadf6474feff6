// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The API's error envelope `{"error":{"code","message","detail"}}` as a thrown value.
 * Kept apart from the fetch client so the string catalogue can depend on it without pulling in the router.
 */

export class ApiError extends Error {
  override readonly name = 'ApiError'
  /** HTTP status; 0 when the server could not be reached at all. */
  readonly status: number
  /** Stable snake_case code from the server's catalogue (`''` when the body was not an envelope). */
  readonly code: string
  readonly detail: unknown
  /** Seconds from a `Retry-After` header, when the server sent one. */
  readonly retryAfter: number | undefined
  /** True when the client already navigated away because of it (sign-in, forced password change): show nothing. */
  readonly redirected: boolean

  constructor(init: { status: number; code: string; message: string; detail?: unknown; retryAfter?: number; redirected?: boolean }) {
    super(init.message)
    this.status = init.status
    this.code = init.code
    this.detail = init.detail
    this.retryAfter = init.retryAfter
    this.redirected = init.redirected ?? false
  }
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) : Math.ceil((Date.parse(value) - Date.now()) / 1000)
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined
}

/** Reads the envelope out of a failed response body; anything else (a proxy's HTML page, chi's plain 404) keeps just the status. */
export function parseEnvelope(text: string, statusText: string): { code: string; message: string; detail?: unknown } {
  try {
    const body: unknown = JSON.parse(text)
    const error = (body as { error?: unknown } | null)?.error
    if (typeof error === 'object' && error !== null) {
      const { code, message, detail } = error as { code?: unknown; message?: unknown; detail?: unknown }
      return { code: typeof code === 'string' ? code : '', message: typeof message === 'string' ? message : statusText, detail }
    }
  } catch {
    // Not JSON: fall through to the status line.
  }
  return { code: '', message: statusText }
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError'
}
