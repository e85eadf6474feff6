// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * App-wide hooks: refuse cross-site mutations and malformed percent-encoding
 * (url-encoding.ts), remember the route template for logs and metrics, parse
 * bodies as strict UTF-8 under a per-route cap (JSON also under bounds on
 * nesting and element count, see json-shape.ts), and render every error as
 * the JSON envelope (validation failures as 400 `bad_request` with the failing
 * fields; unknown errors as a bare 500 `internal`, logged with the request id
 * but never sent to the client).
 */
import type { Elysia } from 'elysia'
import type { Logger } from '../lib/log.ts'
import { decodeUtf8 } from '../lib/utf8.ts'
import { bodyLimitFor } from './body-limits.ts'
import type { RequestContext } from './context.ts'
import { AppError, errorResponse, fail } from './errors.ts'
import { jsonShapeProblem } from './json-shape.ts'
import { isCrossSite } from './origin.ts'
import { urlEncodingProblem } from './url-encoding.ts'

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

async function readCapped(req: Request, limit: number): Promise<string> {
  const declared = Number(req.headers.get('content-length') ?? 0)
  if (declared > limit) throw fail('too_large', `The request body is limited to ${limit} bytes.`, { limit })
  if (!req.body) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    if (size > limit) throw fail('too_large', `The request body is limited to ${limit} bytes.`, { limit })
    chunks.push(chunk)
  }
  const text = decodeUtf8(Buffer.concat(chunks))
  if (text === undefined) throw fail('bad_request', 'The body is not valid UTF-8.')
  return text
}

/**
 * Returns null (not undefined) for streamed routes and empty bodies: Elysia
 * treats undefined as "not parsed" and would run its own uncapped parser on the
 * stream (or fail on the body this function already consumed).
 */
async function parseBody(req: Request, route: string): Promise<unknown> {
  const limit = bodyLimitFor(req.method, route)
  if (limit === 'stream') return null
  const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  const text = await readCapped(req, limit)
  if (text === '') return null
  if (type === 'application/json' || type.endsWith('+json') || type === '') {
    // Before the parser and the schema: both recurse, and their cost on deep or huge documents is not linear.
    const problem = jsonShapeProblem(text)
    if (problem) throw fail('bad_request', problem, [{ path: '/', message: problem }])
    try {
      return JSON.parse(text)
    } catch {
      throw fail('bad_request', 'The body is not valid JSON.')
    }
  }
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text))
  if (type === 'text/plain') return text
  throw fail('unsupported_media_type', `Send application/json, not ${type}.`)
}

type ValidationIssue = { path?: string; message?: string; summary?: string; schema?: { error?: unknown } }

function validationDetail(error: unknown): Array<{ path: string; message: string }> {
  const all = (error as { all?: ValidationIssue[] }).all ?? []
  const seen = new Set<string>()
  const out: Array<{ path: string; message: string }> = []
  for (const e of all) {
    const path = e.path || '/'
    if (seen.has(path)) continue
    seen.add(path)
    // A schema's own `error` says what is expected in words (e.g. paging bounds) instead of a regular expression.
    const own = e.schema?.error
    out.push({ path, message: typeof own === 'string' ? own : (e.summary ?? e.message ?? 'invalid') })
  }
  return out
}

function validationWhere(error: unknown): string {
  const type = (error as { type?: string }).type
  return type === 'query' ? 'query parameters' : type === 'params' ? 'path parameters' : type === 'headers' ? 'headers' : type === 'cookie' ? 'cookies' : 'body'
}

export function applyPlumbing(app: Elysia, d: { context: RequestContext; logger: Logger; publicUrl: string }): void {
  app
    .onRequest(({ request }) => {
      if (!SAFE.has(request.method) && isCrossSite(request, d.publicUrl)) throw fail('csrf_invalid', 'Cross-site request refused.')
      const badEncoding = urlEncodingProblem(request.url)
      if (badEncoding) throw badEncoding
    })
    .onTransform({ as: 'global' }, ({ request, route }) => {
      d.context.meta(request).route = route
    })
    .onParse({ as: 'global' }, ({ request, route }) => parseBody(request, route))
    .onError({ as: 'global' }, ({ code, error, request }) => {
      const meta = d.context.meta(request)
      const known = error instanceof AppError ? error : (error as { cause?: unknown }).cause
      if (known instanceof AppError) {
        meta.errorCode = known.code
        return errorResponse(known)
      }
      switch (code) {
        case 'VALIDATION':
          // A response that fails its own schema is our bug, not the client's: never echo it.
          if ((error as { type?: string }).type !== 'response')
            return errorResponse(fail('bad_request', `Invalid ${validationWhere(error)}.`, validationDetail(error)))
          break
        case 'PARSE':
          return errorResponse(fail('bad_request', 'The request body could not be parsed.'))
        case 'NOT_FOUND':
          meta.route ??= 'unmatched'
          return errorResponse(fail('not_found'))
        case 'INVALID_COOKIE_SIGNATURE':
          return errorResponse(fail('bad_request', 'A cookie is malformed.'))
      }
      if (request.signal.aborted) return errorResponse(fail('bad_request', 'The client went away.'))
      d.logger.error('unhandled error', { request_id: meta.id, route: meta.route, error: (error as Error)?.message, stack: (error as Error)?.stack })
      return errorResponse(fail('internal'))
    })
}
