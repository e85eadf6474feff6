// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia } from 'elysia'
import type { Guard } from '../auth/guard.ts'
import { DashboardDTO } from './model.ts'
import type { DashboardService } from './service.ts'

export function dashboardRoutes(d: { guard: Guard; dashboard: DashboardService }) {
  return new Elysia().use(d.guard).get('/api/admin/dashboard', () => d.dashboard.get(), {
    access: 'admin',
    response: { 200: DashboardDTO },
    detail: { tags: ['admin: dashboard'], summary: 'Request statistics (24 h, in memory) and storage by backend and top buckets' },
  })
}
