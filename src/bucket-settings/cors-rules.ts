// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Validation of per-bucket CORS rules (answered by the S3 proxy, never written
 * upstream). Methods are normalised to upper case and duplicates dropped; any
 * other problem is a 400 `invalid_cors` naming the rule and field.
 */
import { fail } from '../http/errors.ts'
import { CORS_METHODS, type CorsRule } from './model.ts'

export const MAX_RULES = 100
export const MAX_AGE_SECONDS = 86_400

const HOST = /^[A-Za-z0-9*-]+(?:\.[A-Za-z0-9*-]+)*$|^\[[0-9A-Fa-f:.]+\]$/
// RFC 9110 token characters; `*` is allowed as a wildcard (e.g. `x-amz-*`).
const HEADER = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

function bad(i: number, field: string, message: string): never {
  throw fail('invalid_cors', `Rule ${i + 1}: ${message}`, [{ path: `/rules/${i}/${field}`, message }])
}

export function originProblem(origin: string): string | undefined {
  if (origin === '*') return undefined
  if ((origin.match(/\*/g) ?? []).length > 1) return 'at most one "*" wildcard per origin'
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/:?#]+|\[[^\]]+\])(?::(\d{1,5}|\*))?$/i.exec(origin)
  if (!m) return 'origins are "*" or scheme://host[:port] without a path'
  if (!HOST.test(m[2]!)) return 'the host is not valid'
  if (m[3] !== undefined && m[3] !== '*' && (Number(m[3]) < 1 || Number(m[3]) > 65535)) return 'the port is out of range'
  return undefined
}

function headers(i: number, field: string, list: string[] | undefined): string[] | undefined {
  if (list === undefined) return undefined
  for (const h of list) {
    if (!HEADER.test(h)) bad(i, field, `"${h.slice(0, 64)}" is not a header name`)
    if ((h.match(/\*/g) ?? []).length > 1) bad(i, field, 'at most one "*" wildcard per header name')
  }
  return [...new Set(list.map((h) => h.toLowerCase()))]
}

export function normaliseCors(rules: CorsRule[]): CorsRule[] {
  if (rules.length > MAX_RULES) throw fail('invalid_cors', `At most ${MAX_RULES} rules.`)
  return rules.map((r, i) => {
    if (r.allowed_origins.length === 0) bad(i, 'allowed_origins', 'at least one origin is needed')
    for (const o of r.allowed_origins) {
      const problem = originProblem(o)
      if (problem) bad(i, 'allowed_origins', `"${o.slice(0, 64)}": ${problem}`)
    }
    if (r.allowed_methods.length === 0) bad(i, 'allowed_methods', 'at least one method is needed')
    const methods = [...new Set(r.allowed_methods.map((m) => m.toUpperCase()))]
    for (const m of methods)
      if (!(CORS_METHODS as readonly string[]).includes(m)) bad(i, 'allowed_methods', `"${m.slice(0, 16)}" is not one of ${CORS_METHODS.join(', ')}`)
    if (r.max_age_seconds !== undefined && (r.max_age_seconds < 0 || r.max_age_seconds > MAX_AGE_SECONDS))
      bad(i, 'max_age_seconds', `must be 0..${MAX_AGE_SECONDS}`)
    const allowed = headers(i, 'allowed_headers', r.allowed_headers)
    const expose = headers(i, 'expose_headers', r.expose_headers)
    return {
      allowed_origins: [...new Set(r.allowed_origins.map((o) => o.toLowerCase()))],
      allowed_methods: methods,
      ...(allowed?.length ? { allowed_headers: allowed } : {}),
      ...(expose?.length ? { expose_headers: expose } : {}),
      ...(r.max_age_seconds !== undefined ? { max_age_seconds: r.max_age_seconds } : {}),
    }
  })
}
