// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia, t } from 'elysia'
import { NEED } from '../access/needs.ts'
import type { Guard } from '../auth/guard.ts'
import { fail } from '../http/errors.ts'
import { BackendParams } from '../buckets/model.ts'
import { iso } from '../users/model.ts'
import type { BackendAdmin } from './admin-service.ts'
import { healthDTO, statusDTO } from './dto.ts'
import {
  AdminBackendDTO,
  AdminBackendListDTO,
  BackendListDTO,
  BackendStatusDTO,
  BackendTestDTO,
  CreateBackendBody,
  HealthDTO,
  PatchBackendBody,
  ProbeHistoryListDTO,
  TestBackendBody,
  type Capabilities,
} from './model.ts'
import type { BackendEntry, Registry } from './registry.ts'

/** A disabled or unreadable backend still has a status row; its capabilities are all off. */
const NO_CAPS: Capabilities = {
  versioning: false,
  object_lock: false,
  lifecycle: false,
  storage_classes: false,
  bucket_policy: false,
  cors: false,
  backend_cors: false,
  tagging: false,
  server_side_encrypt: false,
  admin_api: '',
  max_multipart_parts: 0,
  max_part_size_bytes: 0,
  presign: false,
  checksums: false,
}

function status(e: BackendEntry) {
  return statusDTO(e, e.backend?.capabilities ?? NO_CAPS)
}

export function backendRoutes(d: { guard: Guard; registry: Registry; admin: BackendAdmin }) {
  const tags = ['backends']
  const adminTags = ['admin: backends']
  const visible = (id: string): BackendEntry => {
    const e = d.registry.entry(id)
    if (!e || !e.enabled) throw fail('not_found', 'No such backend.')
    return e
  }
  return new Elysia()
    .use(d.guard)
    .get(
      '/api/backends',
      ({ granted }) => ({
        backends: d.registry
          .entries()
          .filter((e) => e.enabled && granted.view.backendVisible(e.id))
          .map(status),
      }),
      {
        access: 'any',
        needs: NEED.view,
        response: { 200: BackendListDTO },
        detail: { tags, summary: 'The backends you have access to, with health and capabilities' },
      },
    )
    .get('/api/backends/:bid', ({ params }) => status(visible(params.bid)), {
      access: 'any',
      needs: NEED.backend,
      params: BackendParams,
      response: { 200: BackendStatusDTO },
      detail: { tags, summary: 'One backend' },
    })
    .get(
      '/api/backends/:bid/health',
      async ({ params }) => {
        visible(params.bid)
        const h = await d.registry.probe(params.bid)
        return {
          healthy: h.healthy,
          ...(h.lastProbeAt ? { last_probe_at: iso(h.lastProbeAt)! } : {}),
          ...(h.lastError ? { last_error: h.lastError } : {}),
          latency_ms: h.latencyMs,
        }
      },
      { access: 'any', needs: NEED.backend, params: BackendParams, response: { 200: HealthDTO }, detail: { tags, summary: 'Probe a backend now' } },
    )
    .get('/api/admin/backends/health', () => ({ backends: d.registry.entries().map(healthDTO) }), {
      access: 'admin',
      response: { 200: ProbeHistoryListDTO },
      detail: { tags: adminTags, summary: 'All backends with their last 20 probes' },
    })
    .get('/api/admin/backends', () => ({ backends: d.admin.list() }), {
      access: 'admin',
      response: { 200: AdminBackendListDTO },
      detail: { tags: adminTags, summary: 'Backends from config and the database (secrets never included)' },
    })
    .post(
      '/api/admin/backends',
      async ({ actor, body, set, origin }) => {
        set.status = 201
        return d.admin.create(actor, body, origin)
      },
      { access: 'admin', body: CreateBackendBody, response: { 201: AdminBackendDTO }, detail: { tags: adminTags, summary: 'Add an S3 backend' } },
    )
    .post('/api/admin/backends/test', ({ body, origin }) => d.admin.test(body, origin), {
      access: 'admin',
      body: TestBackendBody,
      response: { 200: BackendTestDTO },
      detail: { tags: adminTags, summary: 'Try endpoint and credentials without saving' },
    })
    .get('/api/admin/backends/:bid', ({ params }) => d.admin.get(params.bid), {
      access: 'admin',
      params: BackendParams,
      response: { 200: AdminBackendDTO },
      detail: { tags: adminTags, summary: 'One backend' },
    })
    .patch('/api/admin/backends/:bid', ({ actor, params, body, origin }) => d.admin.update(actor, params.bid, body, origin), {
      access: 'admin',
      params: BackendParams,
      body: PatchBackendBody,
      response: { 200: AdminBackendDTO },
      detail: { tags: adminTags, summary: 'Change a database backend (an omitted secret is kept)' },
    })
    .delete(
      '/api/admin/backends/:bid',
      async ({ params, set, origin }) => {
        await d.admin.remove(params.bid, origin)
        set.status = 204
      },
      { access: 'admin', params: BackendParams, detail: { tags: adminTags, summary: 'Remove a database backend' } },
    )
}
