// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Admin management of database backends. Only `s3` backends can be created
 * here: an `fs` backend reads the server's own disk, so it belongs to whoever
 * edits config.yaml, not to a dashboard admin. Secret keys are sealed with the
 * master key (bound to the backend id) and never returned.
 */
import type { AuditOrigin } from '../audit/model.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { Actor } from '../auth/actor.ts'
import { fail } from '../http/errors.ts'
import type { Sealer } from '../lib/seal.ts'
import { BackendError } from './backend.ts'
import { adminDTO } from './dto.ts'
import type { CreateBackendBody, PatchBackendBody, TestBackendBody } from './model.ts'
import { sealContext, type Registry } from './registry.ts'
import type { BackendRow, BackendStore } from './store.ts'

export function normaliseEndpoint(raw: string): string {
  let u: URL
  try {
    u = new URL(raw.trim())
  } catch {
    throw fail('invalid_backend', 'The endpoint must be a URL such as https://s3.example.com or http://10.0.0.5:9000.', [{ path: '/endpoint' }])
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw fail('invalid_backend', 'The endpoint must use http or https.', [{ path: '/endpoint' }])
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || u.username || u.password) {
    throw fail('invalid_backend', 'The endpoint must not have a path, query or credentials.', [{ path: '/endpoint' }])
  }
  return `${u.protocol}//${u.host}`
}

export type BackendAdmin = ReturnType<typeof createBackendAdmin>

export function createBackendAdmin(d: { registry: Registry; store: BackendStore; sealer: Sealer | undefined; audit: AuditRecorder; now?: () => number }) {
  const now = d.now ?? Date.now
  const sealer = (): Sealer => {
    if (!d.sealer) throw fail('secret_key_unset')
    return d.sealer
  }
  const dbEntry = (id: string) => {
    const e = d.registry.entry(id)
    if (!e) throw fail('not_found', 'No such backend.')
    if (e.source === 'config') throw fail('yaml_managed', 'This backend is defined in the config file; change it there.')
    return e
  }

  return {
    list: () => d.registry.entries().map(adminDTO),
    get(id: string) {
      const e = d.registry.entry(id)
      if (!e) throw fail('not_found', 'No such backend.')
      return adminDTO(e)
    },

    async create(actor: Actor, body: typeof CreateBackendBody.static, origin: AuditOrigin) {
      if (d.registry.entry(body.id)) throw fail('id_taken', 'A backend with that id exists.')
      const endpoint = normaliseEndpoint(body.endpoint)
      const t = now()
      const row: BackendRow = {
        id: body.id,
        name: body.name?.trim() || body.id,
        type: 's3',
        endpoint,
        region: body.region || 'us-east-1',
        path_style: body.path_style === false ? 0 : 1,
        access_key: body.access_key,
        secret_key_enc: sealer().seal(body.secret_key, sealContext(body.id)),
        enabled: body.enabled === false ? 0 : 1,
        created_at: t,
        created_by: actor.id,
        updated_at: t,
        updated_by: actor.id,
      }
      await d.store.insert(row)
      await d.registry.reload(row.id)
      d.audit.record({ ...origin, action: 'backend.create', backend: row.id, detail: { endpoint, region: row.region, type: 's3' } })
      return adminDTO(d.registry.entry(row.id)!)
    },

    async update(actor: Actor, id: string, body: typeof PatchBackendBody.static, origin: AuditOrigin) {
      const e = dbEntry(id)
      const row = { ...e.row! }
      const fields: string[] = []
      if (body.name !== undefined) ((row.name = body.name.trim() || id), fields.push('name'))
      if (body.endpoint !== undefined) ((row.endpoint = normaliseEndpoint(body.endpoint)), fields.push('endpoint'))
      if (body.region !== undefined) ((row.region = body.region || 'us-east-1'), fields.push('region'))
      if (body.path_style !== undefined) ((row.path_style = body.path_style ? 1 : 0), fields.push('path_style'))
      if (body.access_key !== undefined) ((row.access_key = body.access_key), fields.push('access_key'))
      if (body.secret_key !== undefined) ((row.secret_key_enc = sealer().seal(body.secret_key, sealContext(id))), fields.push('secret_key'))
      if (body.enabled !== undefined) ((row.enabled = body.enabled ? 1 : 0), fields.push('enabled'))
      row.updated_at = now()
      row.updated_by = actor.id
      await d.store.update(row)
      await d.registry.reload(id)
      d.audit.record({ ...origin, action: 'backend.update', backend: id, detail: { fields } })
      return adminDTO(d.registry.entry(id)!)
    },

    async remove(id: string, origin: AuditOrigin): Promise<void> {
      dbEntry(id)
      await d.store.delete(id)
      await d.registry.reload(id)
      d.audit.record({ ...origin, action: 'backend.delete', backend: id })
    },

    async test(body: typeof TestBackendBody.static, origin: AuditOrigin): Promise<{ healthy: boolean; latency_ms: number; error?: string }> {
      const endpoint = normaliseEndpoint(body.endpoint)
      const b = d.registry.build({
        id: 'test',
        endpoint,
        region: body.region || 'us-east-1',
        accessKey: body.access_key,
        secretKey: body.secret_key,
        pathStyle: body.path_style !== false,
      })
      const started = performance.now()
      let error: string | undefined
      try {
        await b.probe(AbortSignal.timeout(5000))
      } catch (err) {
        error = err instanceof BackendError ? err.message : 'the connection test failed'
      } finally {
        await b.close()
      }
      const latency = Math.round(performance.now() - started)
      d.audit.record({ ...origin, action: 'backend.test', status: error ? 'error' : 'ok', detail: { endpoint, healthy: !error } })
      return { healthy: !error, latency_ms: latency, ...(error ? { error } : {}) }
    },
  }
}
