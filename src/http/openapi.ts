// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The OpenAPI document comes from the routes' own schemas. The explorer page
 * is ours rather than the plugin's because the plugin's page has an inline
 * script (our CSP forbids it) and loads Scalar from a CDN (we are offline).
 */
import { openapi } from '@elysia/openapi'
import { Elysia } from 'elysia'
import type { Guard } from '../auth/guard.ts'

const EXPLORER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stowage API</title>
<link rel="icon" href="/favicon.svg">
</head>
<body>
<div id="api-reference"></div>
<script src="/openapi-ui/zod-config.js"></script>
<script src="/openapi-ui/scalar.js"></script>
<script src="/openapi-ui/init.js"></script>
</body>
</html>
`

export function openapiRoutes(d: { guard: Guard; version: string }) {
  return new Elysia()
    .use(d.guard)
    .use(
      openapi({
        path: '/openapi',
        specPath: '/openapi/json',
        provider: null,
        documentation: {
          info: {
            title: 'Stowage API',
            version: d.version,
            description:
              'Dashboard API of Stowage. Sign in with `POST /auth/login/local`; every mutation under `/api` needs the `X-CSRF-Token` header equal to the `stowage_csrf` cookie. Errors are `{"error":{"code","message","detail"}}`.',
          },
        },
        exclude: { paths: ['/*', '/openapi', '/swagger'], staticFile: false },
      }),
    )
    .get('/openapi', () => new Response(EXPLORER_HTML, { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' } }), {
      access: 'public',
      detail: { hide: true },
    })
    .get('/swagger', ({ redirect }) => redirect('/openapi', 302), { access: 'public', detail: { hide: true } })
}
