// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Composition root: the only module that knows every feature. `createApp`
 * builds the database, stores, services and the Elysia app from a config, so
 * tests build isolated apps with a temp database and call `fetch` directly.
 */
import { hostname, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { Elysia } from 'elysia'
import { accessRoutes } from './access/routes.ts'
import { createAccessService, type AccessService } from './access/service.ts'
import { createGrantStore } from './access/store.ts'
import { createAuditRecorder, type AuditRecorder } from './audit/recorder.ts'
import { auditRoutes } from './audit/routes.ts'
import { createAuditStore } from './audit/store.ts'
import { createBackendAdmin } from './backends/admin-service.ts'
import { createRegistry, type Registry } from './backends/registry.ts'
import { backendRoutes } from './backends/routes.ts'
import { createBackendStore } from './backends/store.ts'
import { bucketRoutes } from './buckets/routes.ts'
import { createBucketService } from './buckets/service.ts'
import { multipartRoutes } from './objects/multipart-routes.ts'
import { objectReadRoutes } from './objects/routes.ts'
import { objectWriteRoutes } from './objects/write-routes.ts'
import { createAuthenticator, createGuard } from './auth/guard.ts'
import { createLoginService, type LoginService } from './auth/login.ts'
import { createPasswords, DEFAULT_HASH_PARAMS, type HashParams, type Passwords } from './auth/password.ts'
import { authRoutes } from './auth/routes.ts'
import { createSessions, type Sessions } from './auth/sessions.ts'
import { oidcRoutes } from './auth/oidc/routes.ts'
import { createOidc, type Oidc } from './auth/oidc/setup.ts'
import type { AppConfig } from './config/load.ts'
import { healthRoutes, type ReadinessCheck } from './health/routes.ts'
import { createRequestContext, type RequestContext } from './http/context.ts'
import { openapiRoutes } from './http/openapi.ts'
import { createPipeline, type Pipeline } from './http/pipeline.ts'
import { applyPlumbing } from './http/plumbing.ts'
import { spaRoutes } from './http/spa.ts'
import { createLogger, type Logger } from './lib/log.ts'
import { createSealer, deriveKey, keyFilePath, loadMasterKey, type Sealer } from './lib/seal.ts'
import { shareFeature } from './shares/setup.ts'
import { createMetrics, type Metrics } from './metrics/registry.ts'
import { metricsRoutes } from './metrics/routes.ts'
import type { Database } from './db/database.ts'
import { createChanges } from './db/changes.ts'
import { createLeases } from './db/lease.ts'
import { openStore } from './db/open.ts'
import { createQuotaService, type QuotaService } from './quotas/service.ts'
import { quotaRoutes } from './quotas/routes.ts'
import { createSizeService } from './sizes/service.ts'
import { sizeRoutes } from './sizes/routes.ts'
import { createCorsService, type CorsService } from './bucket-settings/cors.ts'
import { bucketSettingsRoutes } from './bucket-settings/routes.ts'
import { createBucketSettings } from './bucket-settings/service.ts'
import { createPinService } from './pins/service.ts'
import { createAnonymousService, type AnonymousService } from './credentials/anonymous.ts'
import { credentialRoutes } from './credentials/routes.ts'
import { createCredentialService, OWNER_TTL_MS, USERS_CHANNEL, type CredentialService } from './credentials/service.ts'
import { createCredentialStore } from './credentials/store.ts'
import { createS3Engine } from './s3engine/engine.ts'
import { createProxyService, type ProxyService } from './s3proxy/service.ts'
import { pinRoutes } from './pins/routes.ts'
import { createSearchService } from './search/service.ts'
import { searchRoutes } from './search/routes.ts'
import { createRequestStats } from './dashboard/stats.ts'
import { createDashboardService } from './dashboard/service.ts'
import { dashboardRoutes } from './dashboard/routes.ts'
import { userRoutes } from './users/routes.ts'
import { createUserService, type UserService } from './users/service.ts'
import { createUserStore, type UserStore } from './users/store.ts'
import { VERSION } from './version.ts'
import { within } from './sizes/walk.ts'

/** /readyz answers within this even when the database hangs (a load balancer's probe has its own timeout). */
const READY_PING_MS = 2_000

export type AppOptions = {
  logger?: Logger
  /** Lighter argon2 parameters for tests; production uses Bun's defaults. */
  hashParams?: HashParams
  /** Process-level metrics (CPU, memory); off in tests that build many apps. */
  defaultMetrics?: boolean
  now?: () => number
  /** Test-only (STOWAGE_TEST_LEASE_INTERVAL_MS): the interval of every fleet-wide job, see db/lease.ts. */
  leaseIntervalMs?: number
}

export type Stowage = {
  config: AppConfig
  db: Database
  app: Elysia
  /** The dashboard as a fetch handler: security headers and request id included (http/pipeline.ts). */
  fetch(req: Request): Promise<Response>
  /** What every dashboard request passes through; `serve()` hands its `onDone` to the listener. */
  pipeline: Pipeline
  context: RequestContext
  metrics: Metrics
  logger: Logger
  audit: AuditRecorder
  users: UserStore
  userService: UserService
  sessions: Sessions
  passwords: Passwords
  login: LoginService
  oidc: Oidc
  /** Undefined when no master key could be loaded or created. */
  sealer: Sealer | undefined
  secretKeyProblem: string | undefined
  registry: Registry
  /** Grants and the views compiled from them: who may touch which backend, bucket and folder. */
  access: AccessService
  /** Quotas and bucket usage: every write path asks it first and reports to it after. */
  accounting: QuotaService
  /** Per-bucket CORS rules for the S3 proxy (`cors.corsRules(backendId, bucket)`). */
  cors: CorsService
  /** Virtual S3 credentials and anonymous bindings, and the S3 proxy that serves them (listening only via `serve()`). */
  credentials: CredentialService
  anonymous: AnonymousService
  s3proxy: ProxyService
  close(): Promise<void>
}

export async function createApp(config: AppConfig, opts: AppOptions = {}): Promise<Stowage> {
  const logger = opts.logger ?? createLogger(config.log)
  const now = opts.now ?? Date.now
  const metrics = createMetrics({ defaults: opts.defaultMetrics ?? true })
  const dbPath = config.db.sqlite.path
  const sqlite = config.db.driver === 'sqlite'
  const migrated = await openStore(config)
  const db = migrated.db
  if (migrated.applied.length) logger.info('database migrated', { store: db.describe, applied: migrated.applied, version: migrated.version })

  const keyFile = keyFilePath(config.server.secret_key_file, dbPath)
  const key = loadMasterKey(config.masterKey, keyFile)
  const sealer = key.key ? createSealer(key.key) : undefined
  const secretKeyProblem = key.key ? undefined : key.problem
  if (key.key === undefined) logger.warn('no master key: sealed secrets are unavailable', { problem: key.problem })
  else if (key.origin === 'created') logger.info('created master key file', { path: keyFile })

  // Names this process among the replicas sharing the store (leases, change announcements).
  const replica = `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`
  const changes = createChanges(db, replica)
  const leases = createLeases({
    db,
    holder: replica,
    now,
    onError: (job, err) => logger.warn('background job failed', { job, error: (err as Error).message }),
    onRun: (job) => logger.debug('background job ran', { job, replica }),
    intervalMs: opts.leaseIntervalMs,
  })
  const context = createRequestContext(config.server.trusted_proxies)
  const auditStore = createAuditStore(db)
  const audit = createAuditRecorder(auditStore, metrics, logger)
  const users = createUserStore(db)
  const sessions = createSessions(db, { lifetimeMs: config.auth.session.lifetime, idleMs: config.auth.session.idle_timeout, now })
  const passwords = createPasswords(config.auth.local.password, opts.hashParams ?? DEFAULT_HASH_PARAMS)
  const staticOn = config.auth.static.enabled || config.auth.modes.includes('static')
  const staticAdmin = staticOn ? { username: config.auth.static.username, passwordHash: config.secrets[config.auth.static.password_hash_env]! } : undefined
  const login = createLoginService({
    users,
    sessions,
    passwords,
    audit,
    metrics,
    localEnabled: config.auth.modes.includes('local'),
    staticAdmin,
    lockout: { maxAttempts: config.auth.local.lockout.max_attempts, windowMs: config.auth.local.lockout.window },
    perIp: { limit: config.ratelimit.login_per_ip, windowMs: config.ratelimit.login_window },
    now,
  })
  const backendStore = createBackendStore(db)
  const registry = await createRegistry({ config, db, changes, store: backendStore, leases, sealer, logger })
  registry.start()
  const access = await createAccessService({
    store: createGrantStore(db),
    changes,
    users,
    registry,
    audit,
    defaultAccess: config.access.default,
    staticUsername: staticAdmin?.username,
    now,
  })
  const userService = createUserService({
    users,
    sessions,
    passwords,
    audit,
    preventReuse: config.auth.local.password.prevent_reuse,
    onUnlock: (name) => login.clearPhantom(name),
    onDelete: access.forgetUser,
    onAccountChange: (userId) => changes.announce(USERS_CHANNEL, userId),
    now,
  })
  const guardDeps = {
    sessions,
    users,
    context,
    staticUsername: staticAdmin?.username,
    apiPerMinute: config.ratelimit.api_per_minute,
    seed: crypto.randomUUID(),
    access,
  }
  const guard = createGuard(guardDeps)
  const authn = createAuthenticator(guardDeps)
  const oidc = createOidc(config, { users, sessions, audit, metrics, logger, context, access, now })

  const backendAdmin = createBackendAdmin({ registry, store: backendStore, sealer, audit, now })
  const accounting = createQuotaService({
    db,
    registry,
    audit,
    logger,
    now,
    scanIntervalMs: config.quotas.scan_interval,
    leases,
  })
  accounting.start()
  registry.onOutsideChange(accounting.recountLater)
  const cors = await createCorsService({ db, changes, registry, audit, logger, now })
  const pins = createPinService({ db, registry, now })
  accounting.onForget(cors.forget)
  accounting.onForget(pins.forget)
  accounting.onForget(access.forgetBucket)
  const credentialStore = createCredentialStore(db)
  const credentials = await createCredentialService({
    store: credentialStore,
    changes,
    ownerTtlMs: sqlite ? 0 : OWNER_TTL_MS,
    registry,
    sealer,
    audit,
    logger,
    now,
    staticUsername: staticAdmin?.username,
  })
  const anonymous = await createAnonymousService({ store: credentialStore, changes, registry, audit, logger, now, defaultRps: config.s3_proxy.anonymous_rps })
  accounting.onForget(anonymous.forget)
  const spoolDir = dbPath === ':memory:' ? tmpdir() : join(dirname(resolve(dbPath)), 'tmp')
  const engine = createS3Engine({
    backend: (id) => {
      const entry = registry.entry(id)
      return entry?.backend ? { backend: entry.backend, region: entry.region } : undefined
    },
  })
  const s3proxy = createProxyService({
    config,
    registry,
    credentials,
    anonymous,
    access,
    accounting,
    cors,
    audit,
    logger,
    now,
    spoolDir,
    promRegistry: metrics.registry,
    engine,
  })
  const requestStats = createRequestStats({ now, isBackend: (id) => registry.entry(id) !== undefined })

  const checks = (): ReadinessCheck[] => [
    {
      name: 'database',
      critical: true,
      run: async () => {
        await within(db.ping(), READY_PING_MS)
        return { ok: true, driver: db.dialect }
      },
    },
    { name: 'migrations', critical: true, run: () => ({ ok: migrated.version > 0, version: migrated.version }) },
    { name: 'secret_key', critical: false, run: () => (sealer ? { ok: true } : { ok: false, reason: secretKeyProblem }) },
    ...oidc.readiness(),
  ]

  // TypeBox normalisation: the default (exact-mirror) runs before validation and turns a string
  // sent where an object is expected into an object of its characters ({"tags":"no"} → {0:'n',1:'o'}).
  const root = new Elysia({ name: 'stowage', normalize: 'typebox' })
  applyPlumbing(root, { context, logger, publicUrl: config.server.public_url })
  const app = root
    .use(healthRoutes({ guard, checks }))
    .use(
      metricsRoutes({
        guard,
        metrics,
        refresh: async () => {
          metrics.sessionsActive.set(await sessions.countActive())
          if (sqlite && dbPath !== ':memory:') metrics.sqliteBytes.set(Bun.file(dbPath).size)
        },
      }),
    )
    .use(
      authRoutes({
        guard,
        context,
        login,
        sessions,
        authn,
        userService,
        audit,
        authConfig: () => {
          const sso = oidc.authConfig()
          return {
            modes: [...config.auth.modes],
            allow_self_registration: false,
            static_admin: Boolean(staticAdmin),
            password_min_length: config.auth.local.password.min_length,
            ...(sso ? { oidc: sso } : {}),
          }
        },
        logoutRedirect: oidc.logoutRedirect,
      }),
    )
    .use(oidcRoutes({ guard, context, oidc: oidc.service }))
    .use(userRoutes({ guard, users: userService }))
    .use(accessRoutes({ guard, access }))
    .use(auditRoutes({ guard, store: auditStore, recorder: audit }))
    .use(backendRoutes({ guard, registry, admin: backendAdmin }))
    .use(bucketRoutes({ guard, access, buckets: createBucketService({ registry, audit, accounting, logger, now }) }))
    .use(objectReadRoutes({ guard, context, registry, audit, accounting, logger }))
    .use(objectWriteRoutes({ guard, context, registry, audit, accounting, logger }))
    .use(multipartRoutes({ guard, context, registry, audit, accounting, logger }))
    .use(quotaRoutes({ guard, quotas: accounting }))
    .use(sizeRoutes({ guard, sizes: createSizeService({ registry, accounting, audit, logger, now }) }))
    .use(bucketSettingsRoutes({ guard, settings: createBucketSettings({ registry, audit, logger }), cors }))
    .use(pinRoutes({ guard, pins }))
    .use(searchRoutes({ guard, search: createSearchService({ registry, logger }) }))
    .use(credentialRoutes({ guard, credentials, anonymous, enabled: config.s3_proxy.enabled, urls: s3proxy.urls }))
    .use(
      dashboardRoutes({ guard, dashboard: createDashboardService({ stats: requestStats, registry, accounting, scanIntervalMs: config.quotas.scan_interval }) }),
    )
    .use(
      shareFeature({
        db,
        config,
        guard,
        context,
        registry,
        passwords,
        audit,
        accounting,
        access,
        logger,
        key: key.key ? deriveKey(key.key, 'share-unlock') : undefined,
        now,
      }),
    )
    .use(openapiRoutes({ guard, version: VERSION, routes: () => root.routes }))
    .use(spaRoutes({ guard }))

  leases.every('session-reap', 5 * 60_000, () => sessions.reap())
  if (config.audit.retention > 0) leases.every('audit-retention', 60 * 60_000, () => auditStore.deleteOlderThan(now() - config.audit.retention))
  const pipeline = createPipeline({
    handle: (req) => app.handle(req),
    context,
    audit,
    metrics,
    stats: requestStats,
    logger,
    accessLevel: config.log.access_level,
    now,
  })

  return {
    config,
    db,
    app: app as unknown as Elysia,
    fetch: pipeline.fetch,
    pipeline,
    context,
    metrics,
    logger,
    audit,
    users,
    userService,
    sessions,
    passwords,
    login,
    oidc,
    sealer,
    secretKeyProblem,
    registry,
    access,
    accounting,
    cors,
    credentials,
    anonymous,
    s3proxy,
    async close() {
      await leases.close()
      oidc.close()
      accounting.close()
      await registry.close()
      await audit.close()
      await cors.close()
      await credentials.close()
      await anonymous.close()
      await access.close()
      await db.close()
    },
  }
}
