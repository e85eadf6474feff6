// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia } from 'elysia'
import type { Guard } from '../auth/guard.ts'
import type { Metrics } from './registry.ts'

export function metricsRoutes(d: { guard: Guard; metrics: Metrics; refresh: () => Promise<void> }) {
  return new Elysia().use(d.guard).get(
    '/metrics',
    async () => {
      await d.refresh()
      return new Response(await d.metrics.registry.metrics(), { headers: { 'content-type': d.metrics.registry.contentType, 'cache-control': 'no-store' } })
    },
    { access: 'public', detail: { tags: ['health'], summary: 'Prometheus metrics (no auth: restrict it at your reverse proxy)' } },
  )
}
