// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The OpenAPI document comes from the routes' own schemas. The explorer page
 * (Swagger UI, at /openapi and /swagger) is ours rather than the plugin's
 * because the plugin's page has an inline script (our CSP forbids it) and
 * loads its bundle from a CDN (we are offline): the assets are embedded.
 */
import { openapi } from '@elysia/openapi'
import { Elysia } from 'elysia'
import type { Guard } from '../auth/guard.ts'
import { embedded } from '../generated/embedded.js'

/** Where the build put Swagger UI: under /assets/ in a folder named with its version, so it is cached for good. */
const BUNDLE =
  Object.keys(embedded).find((path) => /^\/assets\/swagger-ui-[^/]+\/swagger-ui-bundle\.js$/.test(path)) ?? '/assets/swagger-ui/swagger-ui-bundle.js'
const SWAGGER = BUNDLE.slice(0, BUNDLE.lastIndexOf('/') + 1)

// The document is fetched while the bundle loads, so it is there when Swagger UI asks for it.
const EXPLORER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stowage API</title>
<meta name="color-scheme" content="light dark">
<link rel="icon" href="/favicon.svg">
<link rel="preload" href="/openapi/json" as="fetch" crossorigin>
<link rel="stylesheet" href="${SWAGGER}swagger-ui.css">
<link rel="stylesheet" href="/openapi-ui/stowage.css">
</head>
<body>
<header class="stowage-bar"><p class="brand">Stowage</p><a href="/">Back to the dashboard</a></header>
<main id="swagger-ui"></main>
<script src="${SWAGGER}swagger-ui-bundle.js"></script>
<script src="/openapi-ui/init.js"></script>
</body>
</html>
`

declare module 'elysia/types' {
  interface DocumentDecoration {
    /**
     * On a GET route whose handler answers HEAD itself (src/http/head.ts) as part of its contract:
     * the summary of that HEAD operation, which the document then lists beside the GET.
     */
    head?: string
  }
}

type Operation = {
  operationId?: string
  summary?: string
  description?: string
  head?: string
  requestBody?: { content?: Record<string, unknown> }
  responses?: Record<string, { description?: string; content?: unknown }>
}
type Document = { paths?: Record<string, Record<string, Operation>> }
type RouteBody = { method: string; path: string; hooks: { body?: unknown } }

const documentPath = (path: string): string => path.replace(/:([^/]+)/g, '{$1}')

/**
 * The plugin leaves a request body's content empty when the route parses with a function, and
 * every route here does (the global body parser with its size limits). The body is JSON, with the
 * route's own schema: filled in here, so the document and "Try it out" show what to send.
 */
export function withRequestBodies(document: Document, routes: RouteBody[]): Document {
  for (const route of routes) {
    const operation = document.paths?.[documentPath(route.path)]?.[route.method.toLowerCase()]
    if (!operation?.requestBody || !route.hooks.body || Object.keys(operation.requestBody.content ?? {}).length > 0) continue
    operation.requestBody.content = { 'application/json': { schema: route.hooks.body } }
  }
  return document
}

/**
 * A client's HEAD reaches Elysia as a GET (src/http/head.ts), so the plugin sees no HEAD route. A GET
 * that declares `detail.head` answers it on purpose: its HEAD operation is the GET's, with that
 * summary and each response's headers but no body.
 */
export function withHeadOperations(document: Document): Document {
  for (const operations of Object.values(document.paths ?? {})) {
    const get = operations.get
    if (!get?.head) continue
    const { head: summary, ...rest } = get
    operations.get = rest
    const responses = Object.fromEntries(Object.entries(rest.responses ?? {}).map(([status, { content: _body, ...response }]) => [status, response]))
    // Operation ids must be unique in a document.
    operations.head = { ...rest, summary, responses, ...(rest.operationId ? { operationId: rest.operationId.replace(/^get/, 'head') } : {}) }
  }
  return document
}

const explorer = (): Response => new Response(EXPLORER_HTML, { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' } })

export function openapiRoutes(d: { guard: Guard; version: string; routes: () => RouteBody[] }) {
  return new Elysia()
    .use(d.guard)
    .onAfterHandle(({ path, response }) => (path === '/openapi/json' ? withHeadOperations(withRequestBodies(response as Document, d.routes())) : undefined))
    .use(
      openapi({
        path: '/openapi',
        specPath: '/openapi/json',
        openapiVersion: '3.0.3',
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
    .get('/openapi', explorer, { access: 'public', detail: { hide: true } })
    .get('/swagger', explorer, { access: 'public', detail: { hide: true } })
}
