// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * id → Backend, from two sources: config.yaml (read-only in the UI) and the
 * database (admin CRUD, secrets sealed). Health probes run at boot and every
 * minute, each with a 5 s budget, in the background: a backend that is down
 * never delays start-up or other backends.
 *
 * In a fleet, one replica probes (the holder of the `backend-probes` lease)
 * and stores the results in backend_health; the others read them each
 * minute instead of probing. A backend added, changed or removed on one
 * replica is announced on the `stowage_backends` channel and reloaded on all.
 */
import type { AppConfig } from '../config/load.ts'
import { fail } from '../http/errors.ts'
import type { Database } from '../db/database.ts'
import type { Changes } from '../db/changes.ts'
import type { Leases } from '../db/lease.ts'
import type { Logger } from '../lib/log.ts'
import type { Sealer } from '../lib/seal.ts'
import { BackendError, type Backend } from './backend.ts'
import { setIndexBudget } from './fs/dir-index.ts'
import { createFsBackend } from './fs/driver.ts'
import type { LifecycleOutcome } from './fs/lifecycle.ts'
import { emptyHealth, recordProbe, type Health } from './health.ts'
import { createS3Backend } from './s3/driver.ts'
import type { BackendRow, BackendStore } from './store.ts'

export const PROBE_INTERVAL_MS = 60_000
const PROBE_TIMEOUT_MS = 5_000

export type BackendSource = 'config' | 'db'

export type BackendEntry = {
  id: string
  name: string
  type: 's3' | 'fs'
  source: BackendSource
  enabled: boolean
  endpoint: string
  region: string
  pathStyle: boolean
  accessKey?: string
  /** Undefined when disabled or when its secret cannot be opened. */
  backend?: Backend
  health: Health
  row?: BackendRow
}

export type S3Settings = { id: string; endpoint: string; region: string; accessKey: string; secretKey: string; pathStyle: boolean }

export type Registry = Awaited<ReturnType<typeof createRegistry>>

const CHANNEL = 'stowage_backends'

export function sealContext(id: string): string {
  return `backend:${id}`
}

export async function createRegistry(d: {
  config: AppConfig
  db: Database
  changes: Changes
  store: BackendStore
  leases: Leases
  sealer: Sealer | undefined
  logger: Logger
}) {
  const entries = new Map<string, BackendEntry>()
  // The S3 proxy re-signs requests with a backend's own keys, which otherwise live only inside its driver.
  const signing = new Map<string, S3Settings>()
  setIndexBudget(d.config.fs.listing_cache_mib * 1024 * 1024)
  // Told when a backend's buckets change other than through a request (an fs lifecycle pass), so usage is counted again.
  const outsideChanges: Array<(backendId: string, bucket: string) => void> = []
  const fsOptions = (id: string) => ({
    id,
    abandonedUploadAfterMs: d.config.fs.abort_incomplete_uploads_after,
    onSweepError: (err: unknown) => d.logger.warn('fs sweep failed', { backend: id, error: (err as Error)?.message }),
    onLifecycle: (o: LifecycleOutcome) => {
      d.logger.info('lifecycle applied', { backend: id, bucket: o.bucket, expired: o.expired, aborted_uploads: o.aborted })
      for (const fn of outsideChanges) fn(id, o.bucket)
    },
    leased: (every: number, sweep: () => Promise<unknown>) => d.leases.run(`fs-upload-sweep:${id}`, every, sweep),
  })

  for (const b of d.config.backends) {
    const type = b.type === 'fs' ? 'fs' : 's3'
    const settings: S3Settings = {
      id: b.id,
      endpoint: b.endpoint,
      region: b.region,
      accessKey: d.config.secrets[b.access_key_env]!,
      secretKey: d.config.secrets[b.secret_key_env]!,
      pathStyle: b.path_style,
    }
    if (type === 's3') signing.set(b.id, settings)
    const backend = type === 'fs' ? createFsBackend({ ...fsOptions(b.id), root: b.root }) : createS3Backend(settings)
    entries.set(b.id, {
      id: b.id,
      name: b.name || b.id,
      type,
      source: 'config',
      enabled: true,
      endpoint: type === 'fs' ? '' : b.endpoint,
      region: b.region,
      pathStyle: b.path_style,
      backend,
      health: emptyHealth(),
    })
  }

  function fromRow(row: BackendRow, health = emptyHealth()): BackendEntry {
    const entry: BackendEntry = {
      id: row.id,
      name: row.name,
      type: 's3',
      source: 'db',
      enabled: row.enabled === 1,
      endpoint: row.endpoint,
      region: row.region,
      pathStyle: row.path_style === 1,
      accessKey: row.access_key,
      health,
      row,
    }
    if (!entry.enabled) return entry
    if (!d.sealer) {
      health.lastError = 'the master key is missing, so the secret key cannot be opened'
      return entry
    }
    try {
      const secretKey = d.sealer.open(row.secret_key_enc, sealContext(row.id))
      const settings: S3Settings = {
        id: row.id,
        endpoint: row.endpoint,
        region: row.region,
        accessKey: row.access_key,
        secretKey,
        pathStyle: row.path_style === 1,
      }
      entry.backend = createS3Backend(settings)
      signing.set(row.id, settings)
    } catch (err) {
      health.lastError = `cannot open the sealed secret key: ${(err as Error).message}`
      d.logger.error('backend secret unreadable', { backend: row.id, error: (err as Error).message })
    }
    return entry
  }

  for (const row of await d.store.list()) {
    if (entries.has(row.id)) {
      d.logger.warn('database backend shadowed by config backend with the same id', { backend: row.id })
      continue
    }
    entries.set(row.id, fromRow(row))
  }

  async function probe(entry: BackendEntry): Promise<Health> {
    if (!entry.backend) return entry.health
    const started = performance.now()
    const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS)
    try {
      await entry.backend.probe(signal)
      recordProbe(entry.health, { at: Date.now(), healthy: true, latencyMs: Math.round(performance.now() - started) })
    } catch (err) {
      const message = err instanceof BackendError ? err.message : signal.aborted ? 'probe timed out' : 'probe failed'
      recordProbe(entry.health, { at: Date.now(), healthy: false, latencyMs: Math.round(performance.now() - started), error: message })
    }
    await d.db
      .run(
        `INSERT INTO backend_health (backend_id, health, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (backend_id) DO UPDATE SET health = excluded.health, updated_at = excluded.updated_at`,
        [entry.id, JSON.stringify(entry.health), Date.now()],
      )
      .catch((err) => d.logger.warn('storing a backend probe failed', { backend: entry.id, error: (err as Error).message }))
    return entry.health
  }

  const probeAll = (): Promise<unknown> => Promise.allSettled([...entries.values()].map(probe))

  /** Takes the probe results another replica stored; backends it has not probed yet are probed here. */
  async function readHealth(): Promise<void> {
    const rows = await d.db.all<{ backend_id: string; health: string }>('SELECT backend_id, health FROM backend_health')
    const stored = new Map(rows.map((r) => [r.backend_id, JSON.parse(r.health) as Health]))
    await Promise.allSettled(
      [...entries.values()].map((e) => {
        const h = stored.get(e.id)
        if (!h || !e.backend) return probe(e)
        Object.assign(e.health, h)
      }),
    )
  }

  async function reload(id: string): Promise<void> {
    const old = entries.get(id)
    if (old?.source === 'config') return
    const row = await d.store.get(id)
    await old?.backend?.close()
    signing.delete(id)
    if (!row) {
      entries.delete(id)
      return
    }
    const entry = fromRow(row, old?.health ?? emptyHealth())
    entries.set(id, entry)
    await probe(entry)
  }
  const reloaded = (id: string) => reload(id).catch((err) => d.logger.warn('backend reload failed', { backend: id, error: (err as Error).message }))
  const resync = async () => {
    const ids = new Set([...entries.values()].filter((e) => e.source === 'db').map((e) => e.id))
    for (const row of await d.store.list()) ids.add(row.id)
    await Promise.all([...ids].map(reloaded))
  }
  const unlisten = await d.changes.on(CHANNEL, reloaded, () => void resync().catch(() => {}))

  return {
    /** Every entry, enabled or not, in id order. */
    entries: (): BackendEntry[] => [...entries.values()].sort((a, b) => a.id.localeCompare(b.id)),
    /** Enabled, usable backends only. */
    active: (): BackendEntry[] => [...entries.values()].filter((e) => e.backend).sort((a, b) => a.id.localeCompare(b.id)),
    entry: (id: string): BackendEntry | undefined => entries.get(id),
    /** Endpoint and keys of a usable s3 backend, for the S3 proxy's outbound signing; undefined for fs, disabled or unreadable ones. */
    upstream: (id: string): S3Settings | undefined => (entries.get(id)?.backend ? signing.get(id) : undefined),
    /** The usable backend with this id, or a `not_found` error. */
    get(id: string): Backend {
      const b = entries.get(id)?.backend
      if (!b) throw fail('not_found', 'No such backend.')
      return b
    },
    probe: (id: string): Promise<Health> => {
      const e = entries.get(id)
      if (!e) throw fail('not_found', 'No such backend.')
      return probe(e)
    },
    probeAll,
    start(): void {
      void d.leases
        .renew('backend-probes', PROBE_INTERVAL_MS)
        .then((mine) => (mine ? probeAll() : readHealth()))
        .catch(() => probeAll())
      d.leases.every('backend-probes', PROBE_INTERVAL_MS, probeAll, readHealth)
    },
    /** Re-reads one database backend after a change (or its removal), here and on every other replica. */
    reload: (id: string): Promise<void> => d.changes.announce(CHANNEL, id),
    /** Calls `fn` when a bucket's objects change other than through a request (an fs lifecycle pass). */
    onOutsideChange(fn: (backendId: string, bucket: string) => void): void {
      outsideChanges.push(fn)
    },
    /** A throwaway driver for "test connection"; the caller closes it. */
    build: (s: S3Settings): Backend => createS3Backend(s),
    async close(): Promise<void> {
      await unlisten()
      await Promise.allSettled([...entries.values()].map((e) => e.backend?.close()))
    },
  }
}
