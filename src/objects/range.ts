// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The Range header (RFC 9110 §14). One byte range is served as 206; several
 * ranges are answered with the whole object (200) rather than a
 * multipart/byteranges body, which no browser feature needs; a range in
 * another unit is ignored. A malformed byte range is 416, like one past the end.
 */
import type { Range } from '../backends/backend.ts'

export type RangeRequest = { kind: 'none' } | { kind: 'one'; range: Range } | { kind: 'invalid' }

const ONE = /^(\d*)-(\d*)$/

export function parseRange(header: string | null): RangeRequest {
  if (!header) return { kind: 'none' }
  const eq = header.indexOf('=')
  if (eq < 0) return { kind: 'invalid' }
  if (header.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'none' }
  const specs = header
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (specs.length === 0) return { kind: 'invalid' }
  if (specs.length > 1) return { kind: 'none' }
  const m = ONE.exec(specs[0]!)
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'invalid' }
  if (m[1] === '') {
    const suffix = Number(m[2])
    return suffix > 0 && Number.isSafeInteger(suffix) ? { kind: 'one', range: { suffix } } : { kind: 'invalid' }
  }
  const start = Number(m[1])
  if (!Number.isSafeInteger(start)) return { kind: 'invalid' }
  if (m[2] === '') return { kind: 'one', range: { start } }
  const end = Number(m[2])
  if (!Number.isSafeInteger(end) || end < start) return { kind: 'invalid' }
  return { kind: 'one', range: { start, end } }
}

/** The inclusive byte span a range selects in an object of `size` bytes, or null when unsatisfiable. */
export function resolveRange(range: Range, size: number): { start: number; end: number } | null {
  if ('suffix' in range) return size === 0 ? null : { start: Math.max(0, size - range.suffix), end: size - 1 }
  if (range.start >= size) return null
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) }
}
