// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Per-request facts that the Fetch `Request` cannot carry: the peer address as
 * seen by the socket, whether the client used https, the request id, and what
 * the app learned while handling it (route template, user) for the access log.
 */
import { cidrMatcher } from '../lib/cidr.ts'
import { clientIp } from '../lib/client-ip.ts'
import { requestId } from '../lib/ids.ts'

export type RequestMeta = {
  id: string
  /** Client IP after the trusted-proxy rules. */
  ip: string
  /** True when the client reached us over https (directly or via a trusted proxy). */
  secure: boolean
  start: number
  route?: string
  userId?: string
  /** The client sent HEAD; Elysia sees a GET (see head.ts). */
  head?: boolean
  /** The catalogue code of an error answer, so statistics can tell a refusal from a fault. */
  errorCode?: string
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

export type RequestContext = {
  /** Called by the listener with the socket's view of the connection. */
  attach(req: Request, peer: { ip: string; tls: boolean }): RequestMeta
  /** Meta for a request; requests built in tests get a loopback peer. */
  meta(req: Request): RequestMeta
  /** Gives `derived`, a copy of `req` made to be handled in its place, the same meta. */
  share(req: Request, derived: Request): RequestMeta
}

export function createRequestContext(trustedProxies: readonly string[]): RequestContext {
  const trusted = cidrMatcher(trustedProxies)
  const metas = new WeakMap<Request, RequestMeta>()

  const attach = (req: Request, peer: { ip: string; tls: boolean }): RequestMeta => {
    const ip = clientIp(peer.ip, req.headers.get('x-forwarded-for'), trusted)
    let secure = peer.tls
    if (trusted(peer.ip)) {
      const proto = req.headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase()
      if (proto === 'https') secure = true
      else if (proto === 'http') secure = false
    }
    const incoming = req.headers.get('x-request-id')
    const meta: RequestMeta = { id: incoming && REQUEST_ID.test(incoming) ? incoming : requestId(), ip, secure, start: performance.now() }
    metas.set(req, meta)
    return meta
  }

  const meta = (req: Request): RequestMeta => metas.get(req) ?? attach(req, { ip: '127.0.0.1', tls: new URL(req.url).protocol === 'https:' })

  return {
    attach,
    meta,
    share(req, derived) {
      const m = meta(req)
      metas.set(derived, m)
      return m
    },
  }
}
