// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * GET and HEAD of one object: a single byte range, conditional requests, the
 * upstream's exact Content-Length, and the presentation rules of
 * content-safety.ts on every response (including 304 and 206).
 */
import type { GetResult, ObjectInfo } from '../backends/backend.ts'
import { fail } from '../http/errors.ts'
import { CONTENT_CSP } from '../http/security-headers.ts'
import type { Logger } from '../lib/log.ts'
import { storage, storageError } from '../storage/errors.ts'
import { validateKey } from '../storage/validate.ts'
import { evaluate, etagHeader, readConditions, type Conditions } from './conditions.ts'
import { contentDisposition, needsSniff, present, SNIFF_BYTES, type Presentation } from './content-safety.ts'
import { parseRange, resolveRange } from './range.ts'
import { peek } from './streams.ts'
import type { Target } from './target.ts'

export type ReadRequest = {
  key: string
  versionId?: string
  disposition: 'inline' | 'attachment'
  headers: Headers
  signal: AbortSignal
}

const NO_SUCH_OBJECT = 'No such object.'

function baseHeaders(info: ObjectInfo): Record<string, string> {
  return {
    'cache-control': 'private, no-cache',
    'x-content-type-options': 'nosniff',
    'content-security-policy': CONTENT_CSP,
    ...(info.etag ? { etag: etagHeader(info.etag) } : {}),
    ...(info.lastModified ? { 'last-modified': info.lastModified.toUTCString() } : {}),
  }
}

function objectHeaders(info: ObjectInfo, key: string, p: Presentation, length: number): Record<string, string> {
  return {
    ...baseHeaders(info),
    'content-type': p.contentType,
    'content-disposition': contentDisposition(p.disposition, key),
    'content-security-policy': p.csp,
    'content-length': String(length),
    'accept-ranges': 'bytes',
    ...(info.versionId ? { 'x-version-id': info.versionId } : {}),
  }
}

function notModified(info: ObjectInfo): Response {
  return new Response(null, { status: 304, headers: baseHeaders(info) })
}

function unsatisfiable(size: number): never {
  throw fail('bad_range', undefined, { size }, { 'content-range': `bytes */${size}`, 'accept-ranges': 'bytes' })
}

/** Applies the preconditions; returns a 304 response, throws 412, or returns null to go on. */
function preconditions(c: Conditions, info: ObjectInfo): Response | null {
  const verdict = evaluate(c, info)
  if (verdict === 412) throw fail('precondition_failed')
  return verdict === 304 ? notModified(info) : null
}

/** The object's first bytes, read separately when the response itself does not start at byte 0. */
async function readHead(t: Target, req: ReadRequest, size: number, logger: Logger): Promise<Uint8Array> {
  if (size === 0) return new Uint8Array()
  const r = await storage(
    t.backend.getObject(t.bucket, req.key, {
      ...(req.versionId ? { versionId: req.versionId } : {}),
      range: { start: 0, end: Math.min(SNIFF_BYTES, size) - 1 },
      signal: req.signal,
    }),
    logger,
    {
      notFound: NO_SUCH_OBJECT,
    },
  )
  if (r.status === 304) return new Uint8Array()
  const { head, stream } = await peek(r.body, SNIFF_BYTES)
  await stream.cancel().catch(() => {})
  return head
}

async function head(t: Target, req: ReadRequest, logger: Logger): Promise<Response> {
  const info = await storage(t.backend.headObject(t.bucket, req.key, { ...(req.versionId ? { versionId: req.versionId } : {}), signal: req.signal }), logger, {
    notFound: NO_SUCH_OBJECT,
  })
  const early = preconditions(readConditions(req.headers), info)
  if (early) return early
  const range = parseRange(req.headers.get('range'))
  if (range.kind === 'invalid') unsatisfiable(info.size)
  const span = range.kind === 'one' ? resolveRange(range.range, info.size) : undefined
  if (span === null) unsatisfiable(info.size)
  const p = present(req.disposition, info.contentType, needsSniff(req.disposition, info.contentType) ? await readHead(t, req, info.size, logger) : null)
  if (!span) return new Response(null, { status: 200, headers: objectHeaders(info, req.key, p, info.size) })
  const headers = objectHeaders(info, req.key, p, span.end - span.start + 1)
  headers['content-range'] = `bytes ${span.start}-${span.end}/${info.size}`
  return new Response(null, { status: 206, headers })
}

async function get(t: Target, req: ReadRequest, logger: Logger): Promise<Response> {
  const conditions = readConditions(req.headers)
  const range = parseRange(req.headers.get('range'))
  if (range.kind === 'invalid') {
    const info = await storage(
      t.backend.headObject(t.bucket, req.key, { ...(req.versionId ? { versionId: req.versionId } : {}), signal: req.signal }),
      logger,
      { notFound: NO_SUCH_OBJECT },
    )
    const early = preconditions(conditions, info)
    if (early) return early
    unsatisfiable(info.size)
  }
  let res: GetResult
  try {
    res = await storage(
      t.backend.getObject(t.bucket, req.key, {
        ...(req.versionId ? { versionId: req.versionId } : {}),
        ...(range.kind === 'one' ? { range: range.range } : {}),
        ...conditions,
        signal: req.signal,
      }),
      logger,
      { notFound: NO_SUCH_OBJECT, precondition: 'precondition_failed' },
    )
  } catch (err) {
    if ((err as { code?: string }).code !== 'bad_range') throw err
    const info = await storage(t.backend.headObject(t.bucket, req.key, req.versionId ? { versionId: req.versionId } : undefined), logger, {
      notFound: NO_SUCH_OBJECT,
    })
    unsatisfiable(info.size)
  }
  if (res.status === 304) return notModified(res.info)
  let early: Response | null
  try {
    early = preconditions(conditions, res.info)
  } catch (err) {
    void res.body.cancel().catch(() => {})
    throw err
  }
  if (early) {
    void res.body.cancel().catch(() => {})
    return early
  }
  let body = res.body
  let sniffed: Uint8Array | null = null
  if (needsSniff(req.disposition, res.info.contentType)) {
    const fromStart = !res.range || (res.range.start === 0 && res.contentLength >= Math.min(SNIFF_BYTES, res.info.size))
    try {
      if (fromStart) ({ head: sniffed, stream: body } = await peek(body, SNIFF_BYTES))
      else sniffed = await readHead(t, req, res.info.size, logger)
    } catch (err) {
      void body.cancel().catch(() => {})
      throw storageError(err)
    }
  }
  const headers = objectHeaders(res.info, req.key, present(req.disposition, res.info.contentType, sniffed), res.contentLength)
  if (res.status === 206 && res.range) headers['content-range'] = `bytes ${res.range.start}-${res.range.end}/${res.range.total}`
  return new Response(body, { status: res.status, headers })
}

/** GET or HEAD of `req.key` as an HTTP response. */
export function readObject(t: Target, method: 'GET' | 'HEAD', req: ReadRequest, logger: Logger): Promise<Response> {
  validateKey(req.key)
  return method === 'HEAD' ? head(t, req, logger) : get(t, req, logger)
}
