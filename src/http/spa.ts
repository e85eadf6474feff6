// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Serves the web UI and the API explorer assets embedded in the binary (see
 * scripts/build.ts). Hashed assets are cached for a year; everything else
 * revalidates. Unknown paths under the API prefixes are JSON 404s; any other
 * unknown path gets index.html so deep links work.
 */
import { Elysia } from 'elysia'
import { embedded } from '../generated/embedded.js'
import type { Guard } from '../auth/guard.ts'
import { fail } from './errors.ts'

const API_PREFIXES = ['/api/', '/auth/', '/openapi/', '/metrics/']

function fileResponse(path: string, acceptsGzip: boolean): Response {
  const gz = embedded[path + '.gz']
  const file = Bun.file(acceptsGzip && gz ? gz : embedded[path]!)
  const type = Bun.file(embedded[path]!).type
  const headers: Record<string, string> = {
    'content-type': type,
    'content-length': String(file.size),
    'cache-control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    vary: 'accept-encoding',
  }
  if (acceptsGzip && gz) headers['content-encoding'] = 'gzip'
  return new Response(file, { headers })
}

export function spaRoutes(d: { guard: Guard }) {
  const serve = ({ path, request }: { path: string; request: Request }): Response => {
    const gzip = /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '')
    if (path !== '/index.html' && embedded[path] && !path.endsWith('.gz')) return fileResponse(path, gzip)
    if (API_PREFIXES.some((p) => path.startsWith(p)) || path === '/api' || /^\/s\/[^/]+\/./.test(path)) throw fail('not_found')
    if (!embedded['/index.html']) throw fail('not_found', 'The web UI is not built; run `bun run build`.')
    return fileResponse('/index.html', gzip)
  }
  return new Elysia().use(d.guard).get('/*', serve, { access: 'public', detail: { hide: true } })
}
