// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Per-bucket CORS, answered by the proxy from the rules the dashboard stores
 * (never written upstream). Preflights are answered before authentication,
 * like S3 does; a preflight cannot know which backend a signed request will
 * go to, so it matches the union of the rules of every active backend with a
 * bucket of that name. Actual responses are decorated from the rules of the
 * bucket actually used. Matching follows S3: the first rule whose origin and
 * method (and, for preflights, every requested header) match wins.
 */
import type { CorsRule } from '../bucket-settings/model.ts'

function wildcard(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*')
  if (star < 0) return pattern === value
  const head = pattern.slice(0, star)
  const tail = pattern.slice(star + 1)
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail)
}

function originAllowed(rule: CorsRule, origin: string): boolean {
  for (const o of rule.allowed_origins) if (o === '*' || wildcard(o, origin)) return true
  return false
}

function headersAllowed(rule: CorsRule, requested: string[]): boolean {
  if (requested.length === 0) return true
  const allowed = rule.allowed_headers ?? []
  return requested.every((h) => allowed.some((a) => a === '*' || wildcard(a, h)))
}

const allowOrigin = (rule: CorsRule, origin: string): string => (rule.allowed_origins.includes('*') ? '*' : origin)

/** Headers for a preflight that some rule allows, or undefined (403). */
export function preflightHeaders(
  rules: readonly CorsRule[],
  originHeader: string,
  method: string,
  requestHeaders: string | undefined,
): Record<string, string> | undefined {
  const origin = originHeader.toLowerCase()
  const requested = (requestHeaders ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean)
  for (const rule of rules) {
    if (!originAllowed(rule, origin) || !rule.allowed_methods.includes(method) || !headersAllowed(rule, requested)) continue
    const out: Record<string, string> = {
      'access-control-allow-origin': allowOrigin(rule, originHeader),
      'access-control-allow-methods': rule.allowed_methods.join(', '),
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    }
    if (requested.length > 0) out['access-control-allow-headers'] = requested.join(', ')
    if (rule.expose_headers?.length) out['access-control-expose-headers'] = rule.expose_headers.join(', ')
    if (rule.max_age_seconds !== undefined) out['access-control-max-age'] = String(rule.max_age_seconds)
    if (out['access-control-allow-origin'] !== '*') out['access-control-allow-credentials'] = 'true'
    return out
  }
  return undefined
}

/** Headers that let a browser read an actual response, or undefined when no rule matches. */
export function responseCorsHeaders(rules: readonly CorsRule[], originHeader: string, method: string): Record<string, string> | undefined {
  const origin = originHeader.toLowerCase()
  for (const rule of rules) {
    if (!originAllowed(rule, origin) || !rule.allowed_methods.includes(method)) continue
    const out: Record<string, string> = { 'access-control-allow-origin': allowOrigin(rule, originHeader), vary: 'Origin' }
    if (rule.expose_headers?.length) out['access-control-expose-headers'] = rule.expose_headers.join(', ')
    if (out['access-control-allow-origin'] !== '*') out['access-control-allow-credentials'] = 'true'
    return out
  }
  return undefined
}
