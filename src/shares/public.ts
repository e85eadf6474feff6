// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The public side of share links (/s/{code}/info, /unlock, /raw), for people
 * without an account. Every request starts with the same work whether the
 * code exists or not: one SHA-256 and one indexed lookup (codes.ts).
 *
 * Counting (docs/shares.md "Downloads and Range requests"): a request for
 * bytes from a client without a live download grant is a new download. It is
 * counted atomically in SQLite before any byte is sent, refunded if the
 * backend fails before the response starts, and answered with a grant cookie
 * (unlock.ts). Requests carrying a live grant — a video player's Range
 * requests, the page's preview, the download button — are served without
 * counting and without touching the per-IP limit.
 *
 * Per-IP limit (`ratelimit.share_per_minute`): info, unlock and every request
 * for bytes without a live grant count; grant-holders' requests do not, so a
 * viewer scrubbing through a video is never throttled.
 */
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { Passwords } from '../auth/password.ts'
import type { Registry } from '../backends/registry.ts'
import type { RequestContext } from '../http/context.ts'
import { AppError, fail } from '../http/errors.ts'
import { auditOrigin } from '../http/origin.ts'
import type { Logger } from '../lib/log.ts'
import { SlidingWindowLimiter } from '../lib/rate-limit.ts'
import { baseType, inlineFamily } from '../objects/content-safety.ts'
import { readObject } from '../objects/download.ts'
import type { Target } from '../objects/target.ts'
import { zipObjects } from '../objects/zip.ts'
import type { StorageAccounting } from '../quotas/gate.ts'
import { storage } from '../storage/errors.ts'
import { validateKey } from '../storage/validate.ts'
import { iso } from '../users/model.ts'
import { codeHash } from './codes.ts'
import type { InfoDTO, InfoQuery, PreviewKind, RawQuery, SharedFile } from './model.ts'
import type { PageTokens } from './page-token.ts'
import { downloadsLeft, shareStatus } from './service.ts'
import type { ShareRow, ShareStore } from './store.ts'
import type { ShareCookies } from './unlock.ts'

/** The recipient page previews text up to this size (anchor.md §4.4). */
export const TEXT_PREVIEW_MAX = 256 * 1024
const WRONG_PASSWORD_WINDOW_MS = 15 * 60_000
const GONE = 'The shared file is no longer available.'

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
  now: () => number
}

/** Headers on every share response: the code is in the URL, so no Referer may carry it anywhere. */
export const SHARE_HEADERS = { 'referrer-policy': 'no-referrer' } as const
const INFO_HEADERS = { ...SHARE_HEADERS, 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' }

const basename = (key: string): string => {
  const k = key.endsWith('/') ? key.slice(0, -1) : key
  return k.slice(k.lastIndexOf('/') + 1)
}

function previewKind(contentType: string | undefined, size: number): PreviewKind {
  const family = inlineFamily(contentType)
  if (family === null || (family === 'text' && size > TEXT_PREVIEW_MAX)) return 'none'
  return family
}

/** Hides where the bytes live: a missing bucket, backend or object all read as "no longer available". */
async function neutral<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof AppError && err.code === 'not_found') throw fail('not_found', GONE)
    throw err
  }
}

export type PublicShares = ReturnType<typeof createPublicShares>

export function createPublicShares(d: PublicShareDeps) {
  const perIp = new SlidingWindowLimiter(d.perMinute, 60_000)
  const wrongPasswords = new SlidingWindowLimiter(d.wrongPasswordLimit, WRONG_PASSWORD_WINDOW_MS)

  const limit = (ip: string): void => {
    const r = perIp.hit(ip, d.now())
    if (!r.ok) throw fail('rate_limited', undefined, undefined, { 'retry-after': String(r.retryAfterSeconds) })
  }

  const lookup = (code: string): ShareRow | null => d.store.byCodeHash(codeHash(code))

  const target = (row: ShareRow): Target => {
    try {
      return { bid: row.backend_id, bucket: row.bucket, backend: d.registry.get(row.backend_id) }
    } catch {
      throw fail('not_found', GONE)
    }
  }

  /** Refuses revoked and expired shares, and exhausted ones unless this client is mid-download. */
  function checkLive(row: ShareRow | null, hasGrant: boolean): ShareRow {
    if (!row) throw fail('not_found')
    const status = shareStatus(row, d.now())
    if (status === 'revoked' || status === 'expired' || (status === 'exhausted' && !hasGrant)) throw fail(status)
    return row
  }

  const unlocked = (row: ShareRow, req: Request): boolean => row.password_hash === null || d.cookies.isUnlocked(req.headers.get('cookie'), row, d.now())

  async function describe(row: ShareRow, q: InfoQuery): Promise<InfoDTO> {
    const left = downloadsLeft(row)
    const common = {
      code: row.code,
      kind: row.kind,
      name: basename(row.object_key),
      ...(row.expires_at !== null ? { expires_at: iso(row.expires_at)! } : {}),
      has_password: row.password_hash !== null,
      ...(row.max_downloads !== null ? { max_downloads: row.max_downloads } : {}),
      download_count: row.download_count,
      ...(left !== undefined ? { downloads_left: left } : {}),
      disposition: row.disposition,
      raw_url: `/s/${row.code}/raw`,
    }
    const t = target(row)
    if (row.kind === 'object') {
      const info = await neutral(() => storage(t.backend.headObject(t.bucket, row.object_key), d.logger))
      return {
        ...common,
        size: info.size,
        ...(info.contentType ? { content_type: baseType(info.contentType) } : {}),
        ...(info.etag ? { etag: info.etag } : {}),
        ...(info.lastModified ? { last_modified: info.lastModified.toISOString() } : {}),
        preview_kind: previewKind(info.contentType, info.size),
      }
    }
    const token = q.token ? d.pageTokens.open(row.id, q.token) : undefined
    const page = await neutral(() =>
      storage(t.backend.listObjects(t.bucket, { prefix: row.object_key, delimiter: '', maxKeys: q.limit ?? 200, ...(token ? { token } : {}) }), d.logger),
    )
    const files: SharedFile[] = page.objects
      .filter((o) => !o.key.endsWith('/'))
      .map((o) => ({ name: o.key.slice(row.object_key.length), size: o.size, ...(o.lastModified ? { last_modified: o.lastModified.toISOString() } : {}) }))
    return {
      ...common,
      preview_kind: 'none',
      files,
      ...(page.isTruncated && page.nextToken ? { next_token: d.pageTokens.seal(row.id, page.nextToken) } : {}),
      zip_url: `/s/${row.code}/raw?zip=1`,
    }
  }

  const json = (body: unknown, extra: Record<string, string> = {}): Response => new Response(JSON.stringify(body), { headers: { ...INFO_HEADERS, ...extra } })

  function recordDownload(origin: AuditOrigin, row: ShareRow, key: string, status: 'ok' | 'denied' | 'error', detail: Record<string, unknown>): void {
    d.audit.record({ ...origin, action: 'share.download', status, backend: row.backend_id, bucket: row.bucket, key, detail: { share_id: row.id, ...detail } })
  }

  /** The full key a raw request asks for, or 'zip' for a whole folder. */
  function rawTarget(row: ShareRow, q: RawQuery): string | 'zip' {
    if (row.kind === 'object') {
      if (q.key !== undefined || q.zip !== undefined) throw fail('bad_request', 'This share is a single file.')
      return row.object_key
    }
    if (q.zip === '1') return 'zip'
    if (!q.key) throw fail('bad_request', 'Name a file of the folder with `key`, or ask for `zip=1`.', [{ path: '/key', message: 'required for folder shares' }])
    return validateKey(row.object_key + q.key)
  }

  async function serve(row: ShareRow, key: string | 'zip', q: RawQuery, req: Request): Promise<Response> {
    const t = target(row)
    if (key === 'zip') {
      const folder = basename(row.object_key) || 'shared'
      return neutral(() => zipObjects({ registry: d.registry, audit: d.audit, accounting: d.accounting, logger: d.logger }, t, [row.object_key], req.signal, { filename: `${folder}.zip`, stripPrefix: row.object_key }))
    }
    // Only Range is passed on: conditional headers could turn a counted download into a 304 with no bytes.
    const headers = new Headers()
    const range = req.headers.get('range')
    if (range) headers.set('range', range)
    return neutral(() => readObject(t, 'GET', { key, disposition: q.disposition ?? row.disposition, headers, signal: req.signal }, d.logger))
  }

  return {
    async info(code: string, q: InfoQuery, req: Request): Promise<Response> {
      limit(d.context.meta(req).ip)
      const found = lookup(code)
      const row = checkLive(found, found !== null && d.cookies.grantIssued(req.headers.get('cookie'), found, d.now()) !== null)
      if (!unlocked(row, req)) throw fail('password_required')
      return json(await describe(row, q))
    },

    async unlock(code: string, password: string, req: Request): Promise<Response> {
      const meta = d.context.meta(req)
      limit(meta.ip)
      const found = lookup(code)
      const row = checkLive(found, found !== null && d.cookies.grantIssued(req.headers.get('cookie'), found, d.now()) !== null)
      if (row.password_hash === null) return json(await describe(row, {}))
      const origin = auditOrigin(d.context, req)
      const who = `${row.id}|${meta.ip}`
      const over = wrongPasswords.check(who, d.now())
      if (!over.ok) {
        d.audit.record({ ...origin, action: 'share.unlock', status: 'denied', backend: row.backend_id, bucket: row.bucket, key: row.object_key, detail: { share_id: row.id, reason: 'rate_limited' } })
        throw fail('rate_limited', 'Too many wrong passwords; try again later.', undefined, { 'retry-after': String(over.retryAfterSeconds) })
      }
      if (!(await d.passwords.verify(password, row.password_hash))) {
        wrongPasswords.record(who, d.now())
        d.audit.record({ ...origin, action: 'share.unlock', status: 'denied', backend: row.backend_id, bucket: row.bucket, key: row.object_key, detail: { share_id: row.id, reason: 'wrong_password' } })
        throw fail('password_mismatch')
      }
      d.audit.record({ ...origin, action: 'share.unlock', backend: row.backend_id, bucket: row.bucket, key: row.object_key, detail: { share_id: row.id } })
      return json(await describe(row, {}), { 'set-cookie': d.cookies.unlock(row, { now: d.now(), secure: meta.secure }) })
    },

    async raw(code: string, q: RawQuery, req: Request): Promise<Response> {
      const meta = d.context.meta(req)
      const cookie = req.headers.get('cookie')
      const found = lookup(code)
      const issued = found ? d.cookies.grantIssued(cookie, found, d.now()) : null
      if (issued === null) limit(meta.ip)
      if (!found) throw fail('not_found')
      const origin = auditOrigin(d.context, req)
      const refuse = (err: AppError, key = found.object_key): never => {
        recordDownload(origin, found, key, 'denied', { counted: false, reason: err.code })
        throw err
      }
      let row: ShareRow
      try {
        row = checkLive(found, issued !== null)
      } catch (err) {
        return refuse(err as AppError)
      }
      // A grant was only ever issued to a client that had unlocked this share.
      if (issued === null && !unlocked(row, req)) refuse(fail('password_required'))
      const key = rawTarget(row, q)
      const auditKey = key === 'zip' ? row.object_key : key
      const what = { ...(key === 'zip' ? { zip: true } : {}), ...(row.kind === 'folder' && key !== 'zip' ? { file: q.key } : {}), ...(req.headers.get('range') ? { range: req.headers.get('range') } : {}) }

      let grantFrom = issued
      if (grantFrom === null) {
        const now = d.now()
        const taken = d.store.takeDownload(row.id, now)
        if (!taken) {
          const latest = d.store.get(row.id)!
          const status = shareStatus(latest, d.now())
          return refuse(fail(status === 'active' ? 'exhausted' : status), auditKey)
        }
        grantFrom = now
        let res: Response
        try {
          res = await serve(taken, key, q, req)
        } catch (err) {
          d.store.refundDownload(row.id)
          recordDownload(origin, row, auditKey, 'error', { counted: false, reason: err instanceof AppError ? err.code : 'internal', ...what })
          throw err
        }
        recordDownload(origin, row, auditKey, 'ok', { counted: true, download_count: taken.download_count, ...what })
        return decorate(res, row, grantFrom, meta.secure)
      }
      return decorate(await serve(row, key, q, req), row, grantFrom, meta.secure)
    },
  }

  function decorate(res: Response, row: ShareRow, issued: number, secure: boolean): Response {
    for (const [k, v] of Object.entries(SHARE_HEADERS)) res.headers.set(k, v)
    if (res.status < 300) res.headers.append('set-cookie', d.cookies.grant(row, { issued, now: d.now(), secure }))
    return res
  }
}
