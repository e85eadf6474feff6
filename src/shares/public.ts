// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The public side of share links (/s/{code}/info, /unlock, /raw), for people
 * without an account. Every request starts with the same work whether the
 * code exists or not: one SHA-256 and one indexed lookup (codes.ts).
 *
 * Counting (docs/shares.md "What counts as a download"): a GET for bytes from
 * a client without a live download grant is a new download. It is counted
 * atomically in SQLite before any byte is sent, given back if the backend
 * fails before the response starts, and answered with a grant cookie
 * (unlock.ts). Requests carrying a live grant — a video player's Range
 * requests, the page's preview, the download button — are served without
 * counting and without touching the per-IP limit. HEAD never counts.
 *
 * Per-IP limit (`ratelimit.share_per_minute`): info, unlock and every request
 * for bytes without a live grant count; grant-holders' requests do not, so a
 * viewer scrubbing through a video is never throttled.
 */
import { rateLimitKey } from '../lib/cidr.ts'
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { Passwords } from '../auth/password.ts'
import type { Registry } from '../backends/registry.ts'
import type { RequestContext } from '../http/context.ts'
import { AppError, fail } from '../http/errors.ts'
import { auditOrigin } from '../http/origin.ts'
import { CONTENT_CSP } from '../http/security-headers.ts'
import type { Logger } from '../lib/log.ts'
import { SlidingWindowLimiter } from '../lib/rate-limit.ts'
import { contentDisposition } from '../objects/content-safety.ts'
import { readObject } from '../objects/download.ts'
import { zipObjects } from '../objects/zip.ts'
import type { StorageAccounting } from '../quotas/gate.ts'
import { validateKey } from '../storage/validate.ts'
import { codeHash } from './codes.ts'
import { basename, describeShare, neutral, shareTarget } from './info.ts'
import type { InfoQuery, RawQuery } from './model.ts'
import type { PageTokens } from './page-token.ts'
import { shareStatus } from './service.ts'
import type { ShareRow, ShareStore } from './store.ts'
import type { ShareCookies } from './unlock.ts'

const WRONG_PASSWORD_WINDOW_MS = 15 * 60_000

export type PublicShareDeps = {
  store: ShareStore
  registry: Registry
  audit: AuditRecorder
  accounting: StorageAccounting
  passwords: Passwords
  cookies: ShareCookies
  pageTokens: PageTokens
  context: RequestContext
  logger: Logger
  perMinute: number
  wrongPasswordLimit: number
  /** Whether the share's creator may still read its target (asked on every request). */
  stillShared: (row: ShareRow) => Promise<boolean>
  now: () => number
}

/** Headers on every share response: the code is in the URL, so no Referer may carry it anywhere. */
export const SHARE_HEADERS = { 'referrer-policy': 'no-referrer' } as const
const INFO_HEADERS = { ...SHARE_HEADERS, 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' }

/** Only Range is passed on: conditional headers could turn a counted download into a 304 without bytes. */
function rangeOnly(req: Request): Headers {
  const headers = new Headers()
  const range = req.headers.get('range')
  if (range) headers.set('range', range)
  return headers
}

export type PublicShares = ReturnType<typeof createPublicShares>

export function createPublicShares(d: PublicShareDeps) {
  const perIp = new SlidingWindowLimiter(d.perMinute, 60_000)
  const wrongPasswords = new SlidingWindowLimiter(d.wrongPasswordLimit, WRONG_PASSWORD_WINDOW_MS)

  const limit = (ip: string): void => {
    const r = perIp.hit(rateLimitKey(ip), d.now())
    if (!r.ok) throw fail('rate_limited', undefined, undefined, { 'retry-after': String(r.retryAfterSeconds) })
  }

  const lookup = (code: string): Promise<ShareRow | null> => d.store.byCodeHash(codeHash(code))
  const grantOf = (row: ShareRow | null, req: Request): number | null => (row ? d.cookies.grantIssued(req.headers.get('cookie'), row, d.now()) : null)
  const unlocked = (row: ShareRow, req: Request): boolean => row.password_hash === null || d.cookies.isUnlocked(req.headers.get('cookie'), row, d.now())
  const describe = (row: ShareRow, q: InfoQuery) => describeShare(row, q, d)
  const json = (body: unknown, extra: Record<string, string> = {}): Response => new Response(JSON.stringify(body), { headers: { ...INFO_HEADERS, ...extra } })

  /**
   * Refuses revoked and expired shares, exhausted ones unless this client is mid-download, and
   * shares whose creator can no longer read what they point at (410 `access_revoked`).
   */
  async function checkLive(row: ShareRow | null, hasGrant: boolean): Promise<ShareRow> {
    if (!row) throw fail('not_found')
    const status = shareStatus(row, d.now())
    if (status === 'revoked' || status === 'expired' || (status === 'exhausted' && !hasGrant)) throw fail(status)
    if (!(await d.stillShared(row))) throw fail('access_revoked')
    return row
  }

  /** The full key a raw request asks for, or 'zip' for a whole folder. */
  function rawTarget(row: ShareRow, q: RawQuery): string | 'zip' {
    if (row.kind === 'object') {
      if (q.key !== undefined || q.zip !== undefined) throw fail('bad_request', 'This share is a single file.')
      return row.object_key
    }
    if (q.zip === '1') return 'zip'
    if (!q.key)
      throw fail('bad_request', 'Name a file of the folder with `key`, or ask for `zip=1`.', [{ path: '/key', message: 'required for folder shares' }])
    return validateKey(row.object_key + q.key)
  }

  const zipName = (row: ShareRow): string => `${basename(row.object_key) || 'shared'}.zip`

  async function serve(row: ShareRow, key: string | 'zip', q: RawQuery, req: Request): Promise<Response> {
    const t = shareTarget(d.registry, row)
    if (key === 'zip') {
      return neutral(() =>
        zipObjects({ registry: d.registry, audit: d.audit, accounting: d.accounting, logger: d.logger }, t, [row.object_key], req.signal, {
          filename: zipName(row),
          stripPrefix: row.object_key,
        }),
      )
    }
    return neutral(() => readObject(t, 'GET', { key, disposition: q.disposition ?? row.disposition, headers: rangeOnly(req), signal: req.signal }, d.logger))
  }

  function decorate(res: Response, grant?: { row: ShareRow; issued: number; secure: boolean }): Response {
    for (const [k, v] of Object.entries(SHARE_HEADERS)) res.headers.set(k, v)
    if (grant && res.status < 300) res.headers.append('set-cookie', d.cookies.grant(grant.row, { issued: grant.issued, now: d.now(), secure: grant.secure }))
    return res
  }

  function recordDownload(origin: AuditOrigin, row: ShareRow, key: string, status: 'ok' | 'denied' | 'error', detail: Record<string, unknown>): void {
    d.audit.record({ ...origin, action: 'share.download', status, backend: row.backend_id, bucket: row.bucket, key, detail: { share_id: row.id, ...detail } })
  }

  function recordUnlock(origin: AuditOrigin, row: ShareRow, reason?: string): void {
    d.audit.record({
      ...origin,
      action: 'share.unlock',
      status: reason ? 'denied' : 'ok',
      backend: row.backend_id,
      bucket: row.bucket,
      key: row.object_key,
      detail: { share_id: row.id, ...(reason ? { reason } : {}) },
    })
  }

  return {
    async info(code: string, q: InfoQuery, req: Request): Promise<Response> {
      limit(d.context.meta(req).ip)
      const found = await lookup(code)
      const row = await checkLive(found, grantOf(found, req) !== null)
      if (!unlocked(row, req)) throw fail('password_required')
      return json(await describe(row, q))
    },

    async unlock(code: string, password: string, req: Request): Promise<Response> {
      const meta = d.context.meta(req)
      limit(meta.ip)
      const found = await lookup(code)
      const row = await checkLive(found, grantOf(found, req) !== null)
      if (row.password_hash === null) return json(await describe(row, {}))
      const origin = auditOrigin(d.context, req)
      const who = `${row.id}|${rateLimitKey(meta.ip)}`
      const over = wrongPasswords.check(who, d.now())
      if (!over.ok) {
        recordUnlock(origin, row, 'rate_limited')
        throw fail('rate_limited', 'Too many wrong passwords; try again later.', undefined, { 'retry-after': String(over.retryAfterSeconds) })
      }
      if (!(await d.passwords.verify(password, row.password_hash))) {
        wrongPasswords.record(who, d.now())
        recordUnlock(origin, row, 'wrong_password')
        throw fail('password_mismatch')
      }
      recordUnlock(origin, row)
      return json(await describe(row, {}), { 'set-cookie': d.cookies.unlock(row, { now: d.now(), secure: meta.secure }) })
    },

    async raw(code: string, q: RawQuery, req: Request): Promise<Response> {
      const meta = d.context.meta(req)
      const found = await lookup(code)
      const issued = grantOf(found, req)
      if (issued === null) limit(meta.ip)
      if (!found) throw fail('not_found')
      const origin = auditOrigin(d.context, req)
      const refuse = (err: AppError, key = found.object_key): never => {
        recordDownload(origin, found, key, 'denied', { counted: false, reason: err.code })
        throw err
      }
      let row: ShareRow
      try {
        row = await checkLive(found, issued !== null)
      } catch (err) {
        return refuse(err as AppError)
      }
      // A grant was only ever issued to a client that had unlocked this share.
      if (issued === null && !unlocked(row, req)) refuse(fail('password_required'))
      const key = rawTarget(row, q)
      if (issued !== null) return decorate(await serve(row, key, q, req), { row, issued, secure: meta.secure })

      const auditKey = key === 'zip' ? row.object_key : key
      const range = req.headers.get('range')
      const what = { ...(key === 'zip' ? { zip: true } : row.kind === 'folder' ? { file: q.key } : {}), ...(range ? { range } : {}) }
      const now = d.now()
      const taken = await d.store.takeDownload(row.id, now)
      if (!taken) {
        const status = shareStatus((await d.store.get(row.id))!, d.now())
        return refuse(fail(status === 'active' ? 'exhausted' : status), auditKey)
      }
      let res: Response
      try {
        res = await serve(taken, key, q, req)
      } catch (err) {
        await d.store.refundDownload(row.id)
        recordDownload(origin, row, auditKey, 'error', { counted: false, reason: err instanceof AppError ? err.code : 'internal', ...what })
        throw err
      }
      recordDownload(origin, row, auditKey, 'ok', { counted: true, download_count: taken.download_count, ...what })
      return decorate(res, { row, issued: now, secure: meta.secure })
    },

    /** What a GET would answer, without the body and without counting: download managers and link previews ask first. */
    async head(code: string, q: RawQuery, req: Request): Promise<Response> {
      const found = await lookup(code)
      const issued = grantOf(found, req)
      if (issued === null) limit(d.context.meta(req).ip)
      const row = await checkLive(found, issued !== null)
      if (issued === null && !unlocked(row, req)) throw fail('password_required')
      const key = rawTarget(row, q)
      if (key === 'zip') {
        return decorate(
          new Response(null, {
            headers: {
              'content-type': 'application/zip',
              'content-disposition': contentDisposition('attachment', zipName(row)),
              'content-security-policy': CONTENT_CSP,
              'x-content-type-options': 'nosniff',
              'cache-control': 'private, no-store',
            },
          }),
        )
      }
      const t = shareTarget(d.registry, row)
      return decorate(
        await neutral(() =>
          readObject(t, 'HEAD', { key, disposition: q.disposition ?? row.disposition, headers: rangeOnly(req), signal: req.signal }, d.logger),
        ),
      )
    },
  }
}
