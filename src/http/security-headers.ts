// SPDX-License-Identifier: AGPL-3.0-or-later
import type { RequestMeta } from './context.ts'

/** The SPA has no inline scripts (Vite emits module files), so script-src stays 'self' only. */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "frame-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ')

/**
 * For user-controlled bytes served from our origin (object downloads, share
 * raw files): no script can run even if a browser sniffed HTML, and the
 * document is sandboxed into an opaque origin. Framing by our own SPA is
 * allowed so previews work.
 */
export const CONTENT_CSP = "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"

/** PDFs: Chrome's viewer refuses sandboxed documents, and a PDF cannot run our origin's scripts anyway. */
export const PDF_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; object-src 'self'; frame-ancestors 'self'"

const BASE: Array<[string, string]> = [
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'same-origin'],
  ['permissions-policy', 'geolocation=(), microphone=(), camera=(), payment=(), usb=()'],
  ['cross-origin-opener-policy', 'same-origin'],
]

/** Adds the security headers a handler did not set itself; fetch() responses have immutable headers, so copy those. */
export function withSecurityHeaders(res: Response, meta: RequestMeta): Response {
  let out = res
  try {
    res.headers.set('x-request-id', meta.id)
  } catch {
    out = new Response(res.body, { status: res.status, statusText: res.statusText, headers: new Headers(res.headers) })
    out.headers.set('x-request-id', meta.id)
  }
  const h = out.headers
  for (const [k, v] of BASE) if (!h.has(k)) h.set(k, v)
  const csp = h.get('content-security-policy')
  if (!csp) h.set('content-security-policy', APP_CSP)
  if (!h.has('x-frame-options')) h.set('x-frame-options', csp?.includes("frame-ancestors 'self'") ? 'SAMEORIGIN' : 'DENY')
  if (meta.secure && !h.has('strict-transport-security')) h.set('strict-transport-security', 'max-age=31536000; includeSubDomains')
  return out
}
