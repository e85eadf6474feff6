// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The admin dashboard: request statistics from memory and storage figures
 * from the usage table, which covers every tracked bucket (not only buckets
 * with a quota, as in the original).
 */
import type { Registry } from '../backends/registry.ts'
import type { QuotaService } from '../quotas/service.ts'
import type { DashboardDTO } from './model.ts'
import type { RequestStats } from './stats.ts'

const TOP = 10

export type DashboardService = ReturnType<typeof createDashboardService>

export function createDashboardService(d: { stats: RequestStats; registry: Registry; accounting: QuotaService; scanIntervalMs: number }) {
  return {
    async get(): Promise<DashboardDTO> {
      const ids = d.registry
        .entries()
        .filter((e) => e.enabled)
        .map((e) => e.id)
      const known = new Set(ids)
      const rows = (await d.accounting.store.allUsage()).filter((r) => known.has(r.backend_id))
      const byBackend = new Map(ids.map((id) => [id, { backend_id: id, bytes: 0, objects: 0, buckets: 0 }]))
      for (const r of rows) {
        const b = byBackend.get(r.backend_id)!
        b.bytes += r.bytes
        b.objects += r.objects
        b.buckets++
      }
      const top = [...rows].sort((a, b) => b.bytes - a.bytes || a.backend_id.localeCompare(b.backend_id) || a.bucket.localeCompare(b.bucket)).slice(0, TOP)
      const oldest = rows.reduce<number | undefined>((min, r) => (min === undefined || r.computed_at < min ? r.computed_at : min), undefined)
      return {
        requests: d.stats.snapshot(),
        storage: {
          by_backend: [...byBackend.values()],
          top_buckets: top.map((r) => ({ backend_id: r.backend_id, bucket: r.bucket, bytes: r.bytes, objects: r.objects })),
          scan_interval_seconds: Math.round(d.scanIntervalMs / 1000),
          ...(oldest !== undefined ? { oldest_count_at: new Date(oldest).toISOString() } : {}),
        },
      }
    },
  }
}
