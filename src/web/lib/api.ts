// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Typed client for the dashboard API. Same-origin only; every state-changing request carries the
 * double-submit CSRF token (`stowage_csrf` cookie → `X-CSRF-Token` header). Failures become
 * `ApiError`s; a lost session and a pending forced password change are handled here once, so
 * pages only ever deal with errors they can explain.
 */
import { ApiError, parseEnvelope, parseRetryAfter } from './api-error.ts'
import { here, navigate } from './router.ts'

export { ApiError, isAbort } from './api-error.ts'

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
export type Query = Record<string, string | number | boolean | null | undefined>

export interface RequestOptions {
  method?: Method
  /** Query parameters; `undefined`, `null` and `''` are left out so optional filters need no special-casing. */
  query?: Query
  /** A plain value is sent as JSON; FormData, Blob, ArrayBuffer and streams go as they are. */
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
}

const SAFE_METHODS = new Set<Method>(['GET', 'HEAD'])

/** 401 codes that mean "wrong secret in this form", not "no session": they stay on the page. */
const CREDENTIAL_CODES = new Set(['invalid_credentials', 'password_mismatch', 'password_required', 'oidc_failed'])

export function csrfToken(): string {
  for (const part of document.cookie.split(';')) {
    const [name, ...value] = part.trim().split('=')
    if (name === 'stowage_csrf') return decodeURIComponent(value.join('='))
  }
  return ''
}

export function buildUrl(path: string, query?: Query): string {
  if (!query) return path
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const search = params.toString()
  return search ? `${path}${path.includes('?') ? '&' : '?'}${search}` : path
}

function isRawBody(body: unknown): body is BodyInit {
  return (
    body instanceof FormData ||
    body instanceof Blob ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof URLSearchParams ||
    body instanceof ReadableStream
  )
}

function requestHeaders(method: Method, extra: Record<string, string> | undefined, json: boolean): Record<string, string> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (json) headers['Content-Type'] = 'application/json'
  if (!SAFE_METHODS.has(method)) {
    const token = csrfToken()
    if (token) headers['X-CSRF-Token'] = token
  }
  return { ...headers, ...extra }
}

/**
 * Sends the user where the server says they must be. Only `/api/*` answers count: the login and
 * logout endpoints under `/auth/` report their own failures to the form that called them.
 */
function followAuthRedirect(path: string, status: number, code: string): boolean {
  if (!path.startsWith('/api/')) return false
  const current = window.location.pathname
  if (status === 401 && !CREDENTIAL_CODES.has(code)) {
    if (current !== '/login') navigate(`/login?next=${encodeURIComponent(here())}`, { replace: true })
    return true
  }
  if (status === 403 && code === 'password_change_required') {
    if (current !== '/me/password') navigate('/me/password', { replace: true })
    return true
  }
  return false
}

function toError(path: string, status: number, statusText: string, text: string, retryAfter: string | null): ApiError {
  const { code, message, detail } = parseEnvelope(text, statusText)
  const redirected = followAuthRedirect(path, status, code)
  return new ApiError({ status, code, message, detail, retryAfter: parseRetryAfter(retryAfter), redirected })
}

function networkError(): ApiError {
  return new ApiError({ status: 0, code: 'network_error', message: '' })
}

/** Fetches and throws on any non-2xx status; the response body is left unread for the caller. */
export async function send(path: string, options: RequestOptions = {}): Promise<Response> {
  const method = options.method ?? 'GET'
  const raw = isRawBody(options.body)
  const json = options.body !== undefined && !raw
  let response: Response
  try {
    response = await fetch(buildUrl(path, options.query), {
      method,
      credentials: 'same-origin',
      headers: requestHeaders(method, options.headers, json),
      body: raw ? (options.body as BodyInit) : json ? JSON.stringify(options.body) : undefined,
      signal: options.signal,
    })
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    throw networkError()
  }
  if (!response.ok) {
    const text = await response.text().catch(() => '')
    throw toError(path, response.status, response.statusText, text, response.headers.get('Retry-After'))
  }
  return response
}

function parseBody(text: string, contentType: string | null): unknown {
  if (!text) return undefined
  return contentType?.includes('json') ? JSON.parse(text) : text
}

/** One JSON round trip. `T` is the documented response shape; 204 and empty bodies give `undefined`. */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options)
  return parseBody(await response.text(), response.headers.get('Content-Type')) as T
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> => request<T>(path, { query, signal }),
  post: <T>(path: string, body?: unknown): Promise<T> => request<T>(path, { method: 'POST', body }),
  put: <T>(path: string, body?: unknown): Promise<T> => request<T>(path, { method: 'PUT', body }),
  patch: <T>(path: string, body?: unknown): Promise<T> => request<T>(path, { method: 'PATCH', body }),
  delete: <T = void>(path: string, query?: Query): Promise<T> => request<T>(path, { method: 'DELETE', query }),
}

/**
 * Reads a newline-delimited JSON response line by line as it arrives (long-running copy/delete of a
 * prefix reports progress this way). Breaking out of the loop cancels the request.
 *
 * @example
 * for await (const event of streamNdjson<ProgressEvent>(url, { method: 'POST', body })) done += 1
 */
export async function* streamNdjson<T>(path: string, options: RequestOptions = {}): AsyncGenerator<T, void, undefined> {
  const response = await send(path, { ...options, headers: { Accept: 'application/x-ndjson', ...options.headers } })
  if (!response.body) return
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  let finished = false
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += value
      let newline: number
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim()
        buffer = buffer.slice(newline + 1)
        if (line) yield JSON.parse(line) as T
      }
    }
    finished = true
    const last = buffer.trim()
    if (last) yield JSON.parse(last) as T
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined)
    reader.releaseLock()
  }
}

export interface UploadOptions {
  method?: 'POST' | 'PUT'
  query?: Query
  headers?: Record<string, string>
  body: Blob | FormData | ArrayBuffer
  signal?: AbortSignal
  /** Bytes of the request body sent so far; `total` is 0 when the browser cannot tell. */
  onProgress?: (loaded: number, total: number) => void
}

export interface UploadResult<T> {
  data: T
  headers: Headers
}

function responseHeaders(xhr: XMLHttpRequest): Headers {
  const headers = new Headers()
  for (const line of xhr
    .getAllResponseHeaders()
    .trim()
    .split(/[\r\n]+/)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim())
  }
  return headers
}

/**
 * Sends a body with upload progress. `fetch` cannot report request-body progress, so this uses
 * XMLHttpRequest; errors, CSRF and session handling match `request`.
 */
export function upload<T>(path: string, options: UploadOptions): Promise<UploadResult<T>> {
  const method = options.method ?? 'POST'
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new DOMException('aborted', 'AbortError'))
      return
    }
    const xhr = new XMLHttpRequest()
    xhr.open(method, buildUrl(path, options.query))
    for (const [name, value] of Object.entries(requestHeaders(method, options.headers, false))) xhr.setRequestHeader(name, value)
    xhr.upload.onprogress = (event) => options.onProgress?.(event.loaded, event.lengthComputable ? event.total : 0)
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve({ data: parseBody(xhr.responseText, xhr.getResponseHeader('Content-Type')) as T, headers: responseHeaders(xhr) })
        } catch {
          reject(new ApiError({ status: xhr.status, code: '', message: xhr.statusText }))
        }
      } else {
        reject(toError(path, xhr.status, xhr.statusText, xhr.responseText, xhr.getResponseHeader('Retry-After')))
      }
    }
    xhr.onerror = () => reject(networkError())
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'))
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true })
    xhr.send(options.body)
  })
}
