// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What an inbound S3 request addresses. The raw request target comes from
 * node:http untouched (no `..` or `//` normalisation), because the signature
 * covers the path exactly as sent and `a/../b` is a legitimate S3 key.
 *
 * Addressing: a Host ending in `.<suffix>` for one of `s3_proxy.host_suffixes`
 * is virtual-hosted (`bucket.<suffix>/key`); anything else is path-style
 * (`/bucket/key`). Keys are percent-decoded the way S3 does (`+` in a path is
 * a plus); query parameters the way S3 does too (`+` is a space).
 */
import { invalidArgument, S3Error } from './errors.ts'

export type QueryParam = { key: string; value: string; raw: string }

export type Inbound = {
  method: string
  /** Path as on the wire, still percent-encoded. */
  rawPath: string
  /** Query as on the wire, without '?'. */
  rawQuery: string
  /** Decoded parameters, in order. */
  params: QueryParam[]
  /** Decoded parameter names for quick lookups (first value wins). */
  query: Map<string, string>
  host: string
  style: 'path' | 'virtual'
  bucket?: string
  key?: string
  /** `/bucket/key` for error documents. */
  resource: string
}

function decodePart(text: string, plusIsSpace: boolean): string {
  const t = plusIsSpace && text.includes('+') ? text.replaceAll('+', ' ') : text
  if (!t.includes('%')) return t
  return decodeURIComponent(t)
}

export function parseQueryParams(rawQuery: string): QueryParam[] {
  const out: QueryParam[] = []
  if (rawQuery === '') return out
  for (const raw of rawQuery.split('&')) {
    if (raw === '') continue
    const eq = raw.indexOf('=')
    out.push(
      eq < 0 ? { key: decodePart(raw, true), value: '', raw } : { key: decodePart(raw.slice(0, eq), true), value: decodePart(raw.slice(eq + 1), true), raw },
    )
  }
  return out
}

/** The bucket named by a virtual-hosted Host header, if it matches a configured suffix. */
function virtualBucket(host: string, suffixes: readonly string[]): string | undefined {
  if (suffixes.length === 0) return undefined
  const name = host.toLowerCase()
  const bare = name.replace(/:\d+$/, '')
  for (const suffix of suffixes) {
    const s = suffix.toLowerCase()
    for (const candidate of s.includes(':') ? [name] : [bare]) {
      if (candidate.length > s.length + 1 && candidate.endsWith('.' + s)) return candidate.slice(0, -(s.length + 1))
    }
  }
  return undefined
}

export function parseInbound(method: string, target: string, host: string, suffixes: readonly string[]): Inbound {
  const q = target.indexOf('?')
  const rawPath = q < 0 ? target : target.slice(0, q)
  const rawQuery = q < 0 ? '' : target.slice(q + 1)
  if (!rawPath.startsWith('/')) throw invalidArgument('The request target must be an absolute path.')
  let params: QueryParam[]
  let path: string
  try {
    params = parseQueryParams(rawQuery)
    path = decodePart(rawPath, false)
  } catch {
    throw new S3Error(400, 'InvalidURI', 'Could not parse the specified URI.', 'bad-request')
  }
  const query = new Map<string, string>()
  for (const p of params) if (!query.has(p.key)) query.set(p.key, p.value)

  const vbucket = virtualBucket(host, suffixes)
  let bucket: string | undefined
  let key: string | undefined
  if (vbucket !== undefined) {
    bucket = vbucket
    key = path.length > 1 ? path.slice(1) : undefined
  } else {
    const slash = path.indexOf('/', 1)
    const first = slash < 0 ? path.slice(1) : path.slice(1, slash)
    bucket = first === '' ? undefined : first
    const rest = slash < 0 ? '' : path.slice(slash + 1)
    key = rest === '' ? undefined : rest
  }
  return {
    method,
    rawPath,
    rawQuery,
    params,
    query,
    host,
    style: vbucket !== undefined ? 'virtual' : 'path',
    ...(bucket !== undefined ? { bucket } : {}),
    ...(key !== undefined ? { key } : {}),
    resource: bucket === undefined ? '/' : key === undefined ? `/${bucket}` : `/${bucket}/${key}`,
  }
}
