// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * HEAD without the cost of a GET body. Elysia 1.4 (compose.ts, "auto HEAD")
 * answers HEAD on every route with a path parameter by running its GET
 * handler and reading the whole body to count it, even when a HEAD handler is
 * registered: a HEAD of a 256 MiB object read 256 MiB from the backend
 * (~4 s, ~1.1 s of server CPU). So a HEAD goes to Elysia as a GET marked
 * `meta.head`; a handler that can answer HEAD cheaply checks that flag, and
 * for every other handler the body is dropped unread when it declares its
 * Content-Length, or counted when it does not (what Elysia did).
 */
import type { RequestContext } from './context.ts'

async function byteLength(body: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) n += chunk.byteLength
  return n
}

export async function handleHead(handle: (req: Request) => Promise<Response>, context: RequestContext, req: Request): Promise<Response> {
  const get = new Request(req.url, { method: 'GET', headers: req.headers, signal: req.signal })
  context.share(req, get).head = true
  const res = await handle(get)
  if (!res.body) return res
  const declared = res.headers.get('content-length')
  if (declared !== null) await res.body.cancel().catch(() => {})
  const headers = new Headers(res.headers)
  headers.set('content-length', declared ?? String(await byteLength(res.body)))
  return new Response(null, { status: res.status, statusText: res.statusText, headers })
}
