// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Strict percent-decoding of the request target. Elysia keeps a query value
 * it cannot decode as the raw text, so `key=%C0%AF` (an overlong encoding of
 * "/") was stored as an object literally named `%C0%AF`, and a path
 * parameter it cannot decode becomes null. Every path and every query name
 * and value must be valid percent-encoded UTF-8 (`decodeURIComponent` refuses
 * malformed escapes, overlong forms, surrogates and code points past
 * U+10FFFF); anything else is 400 before a route sees it.
 */
import { fail, type AppError } from './errors.ts'

const MESSAGE = 'Not valid percent-encoded UTF-8'

function decodes(text: string): boolean {
  if (!text.includes('%')) return true
  try {
    decodeURIComponent(text)
    return true
  } catch {
    return false
  }
}

export function urlEncodingProblem(url: string): AppError | undefined {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start < 0) return undefined
  const q = url.indexOf('?', start)
  if (!decodes(q < 0 ? url.slice(start) : url.slice(start, q)))
    return fail('bad_request', 'The URL path is not valid percent-encoded UTF-8.', [{ path: '/', message: MESSAGE }])
  if (q < 0) return undefined
  for (const pair of url.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=')
    const name = eq < 0 ? pair : pair.slice(0, eq)
    if (decodes(name) && (eq < 0 || decodes(pair.slice(eq + 1)))) continue
    const shown = decodes(name) ? decodeURIComponent(name) : name
    return fail('bad_request', `The query parameter "${shown.slice(0, 64)}" is not valid percent-encoded UTF-8.`, [
      { path: `/${shown.slice(0, 64)}`, message: MESSAGE },
    ])
  }
  return undefined
}
