// SPDX-License-Identifier: AGPL-3.0-or-later
/** Where the browser is sent during and after SSO. */

/** Longest `next` kept; longer ones fall back to `/` so the pending cookie stays small. */
const MAX_NEXT = 400

/**
 * A same-origin path to land on after sign-in, or `/`. Refused (open redirect):
 * anything not starting with exactly one `/`, `//host` and `/\host` (browsers
 * read both as another host), schemes, control characters and backslashes
 * anywhere. `/login` itself would loop, so it becomes `/` too.
 */
export function safeNextPath(raw: string | undefined | null): string {
  if (!raw || raw.length > MAX_NEXT || raw[0] !== '/' || raw[1] === '/' || raw[1] === '\\') return '/'
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return '/'
  let url: URL
  try {
    url = new URL(raw, 'http://stowage.invalid')
  } catch {
    return '/'
  }
  if (url.origin !== 'http://stowage.invalid' || url.pathname === '/login') return '/'
  return url.pathname + url.search + url.hash
}

/**
 * Our own external base URL: `server.public_url` when set, else the scheme and
 * Host the request arrived with (https when the listener or a trusted proxy
 * says so). A forged Host cannot hijack a sign-in: the provider only redirects
 * to callback URLs registered for the client.
 */
export function externalBase(publicUrl: string, req: Request, secure: boolean): string {
  if (publicUrl) return publicUrl.replace(/\/$/, '')
  const host = req.headers.get('host') ?? new URL(req.url).host
  return `${secure ? 'https' : 'http'}://${host}`
}

/** The login page with an error code for the SPA to explain (and where to go after a retry). */
export function loginErrorPath(code: string, next?: string): string {
  const q = new URLSearchParams({ error: code })
  if (next && next !== '/') q.set('next', next)
  return `/login?${q}`
}
