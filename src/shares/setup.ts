// SPDX-License-Identifier: AGPL-3.0-or-later
/** Builds share links from the app's parts: the owners' routes and the public /s/{code} endpoints. */
import type { Database } from '../db/database.ts'
import { randomBytes } from 'node:crypto'
import { Elysia } from 'elysia'
import { allows } from '../access/decide.ts'
import type { AccessService } from '../access/service.ts'
import { READ } from '../access/view.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { Guard } from '../auth/guard.ts'
import type { Passwords } from '../auth/password.ts'
import type { Registry } from '../backends/registry.ts'
import type { AppConfig } from '../config/load.ts'
import type { RequestContext } from '../http/context.ts'
import type { Logger } from '../lib/log.ts'
import type { StorageAccounting } from '../quotas/gate.ts'
import { createPageTokens } from './page-token.ts'
import { createPublicShares } from './public.ts'
import { publicShareRoutes } from './public-routes.ts'
import { shareRoutes } from './routes.ts'
import { createShareService } from './service.ts'
import { createShareStore, type ShareRow } from './store.ts'
import { createShareCookies } from './unlock.ts'

export type ShareFeatureDeps = {
  db: Database
  config: AppConfig
  guard: Guard
  context: RequestContext
  registry: Registry
  passwords: Passwords
  audit: AuditRecorder
  accounting: StorageAccounting
  access: AccessService
  logger: Logger
  /** `deriveKey(master, 'share-unlock')`; undefined without a master key (cookies then last one process). */
  key: Uint8Array | undefined
  now: () => number
}

export function shareFeature(d: ShareFeatureDeps) {
  const store = createShareStore(d.db)
  const key = d.key ?? new Uint8Array(randomBytes(32))
  const stillShared = async (row: ShareRow): Promise<boolean> => {
    const view = await d.access.viewForUser(row.created_by)
    return view !== undefined && allows(view, [{ kind: 'path', backend: row.backend_id, bucket: row.bucket, path: row.object_key, level: READ }])
  }
  const shares = createShareService({
    store,
    registry: d.registry,
    passwords: d.passwords,
    audit: d.audit,
    logger: d.logger,
    policy: { maxLifetimeMs: d.config.shares.max_lifetime, requirePassword: d.config.shares.require_password },
    publicUrl: d.config.server.public_url,
    stillShared,
    now: d.now,
  })
  const pub = createPublicShares({
    store,
    registry: d.registry,
    audit: d.audit,
    accounting: d.accounting,
    passwords: d.passwords,
    cookies: createShareCookies(key, d.config.shares.unlock_ttl),
    pageTokens: createPageTokens(key),
    context: d.context,
    logger: d.logger,
    perMinute: d.config.ratelimit.share_per_minute,
    wrongPasswordLimit: d.config.shares.wrong_password_limit,
    stillShared,
    now: d.now,
  })
  return new Elysia().use(shareRoutes({ guard: d.guard, shares })).use(publicShareRoutes({ guard: d.guard, context: d.context, shares: pub }))
}
