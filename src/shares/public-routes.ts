// SPDX-License-Identifier: AGPL-3.0-or-later
/** The public share endpoints under /s/{code}; the page at /s/{code} itself is the SPA. */
import { Elysia } from 'elysia'
import type { Guard } from '../auth/guard.ts'
import type { RequestContext } from '../http/context.ts'
import { AppError, errorResponse } from '../http/errors.ts'
import { CodeParams, InfoDTO, InfoQuery, RawQuery, UnlockBody } from './model.ts'
import { SHARE_HEADERS, type PublicShares } from './public.ts'

const tags = ['public shares']

/** Errors keep the share headers too: a 410 page must not leak its URL either. */
async function guarded(run: () => Promise<Response>): Promise<Response> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof AppError) return errorResponse(err, SHARE_HEADERS)
    throw err
  }
}

const RAW = [
  `The shared file's bytes with its exact Content-Length; one byte range gives 206.`,
  `Folder shares take \`key\` (a file, relative to the folder) or \`zip=1\` (the whole folder, streamed).`,
  `A request from a client without a live download grant counts as a download (atomically; 410 \`exhausted\` past the cap) and sets the grant cookie; requests with the grant (Range continuations, previews) are not counted — see docs/shares.md.`,
  `HEAD answers the same headers and never counts.`,
  `HTML, SVG, XML, scripts and anything not inert are always sent as attachments with a sandboxing CSP and nosniff.`,
].join(' ')

export function publicShareRoutes(d: { guard: Guard; context: RequestContext; shares: PublicShares }) {
  return (
    new Elysia()
      .use(d.guard)
      .get('/s/:code/info', ({ params, query, request }) => guarded(() => d.shares.info(params.code, query, request)), {
        access: 'public',
        params: CodeParams,
        query: InfoQuery,
        response: { 200: InfoDTO },
        detail: {
          tags,
          summary: 'What the recipient page shows',
          description:
            'Name, size, type, preview kind, expiry and downloads left (folders: one page of files). 401 `password_required` until unlocked; 410 `expired`/`revoked`/`exhausted`; 404 for unknown codes. Per-IP rate-limited.',
        },
      })
      .post('/s/:code/unlock', ({ params, body, request }) => guarded(() => d.shares.unlock(params.code, body.password, request)), {
        access: 'public',
        params: CodeParams,
        body: UnlockBody,
        response: { 200: InfoDTO },
        detail: {
          tags,
          summary: 'Unlock a password-protected share',
          description:
            'Sets an HttpOnly unlock cookie bound to this share. 401 `password_mismatch`; 429 after `shares.wrong_password_limit` wrong passwords per IP in 15 minutes.',
        },
      })
      // A client's HEAD reaches this handler as a GET marked `head` (src/http/head.ts); it must never count a download.
      .get(
        '/s/:code/raw',
        ({ params, query, request }) =>
          guarded(() => (d.context.meta(request).head ? d.shares.head(params.code, query, request) : d.shares.raw(params.code, query, request))),
        {
          access: 'public',
          params: CodeParams,
          query: RawQuery,
          detail: { tags, summary: 'Download the shared file', head: 'The shared file’s headers; never counts a download', description: RAW },
        },
      )
  )
}
