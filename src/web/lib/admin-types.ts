// SPDX-License-Identifier: AGPL-3.0-or-later
/** JSON shapes of the admin routes (backends, health, audit, dashboard), taken from the server's schemas (see types.ts). */
import type { Static } from '@sinclair/typebox'
import type { AuditEventDTO, AuditPageDTO, AuditStatus } from '../../audit/model.ts'
import type { AdminBackendDTO, BackendTestDTO, CreateBackendBody, PatchBackendBody, ProbeHistoryDTO } from '../../backends/model.ts'
import type { DashboardDTO } from '../../dashboard/model.ts'

export type { AuditStatus }

/** An entry of GET /api/admin/backends; the secret itself is never sent back. `config` rows come from the config file and cannot be changed here. */
export type AdminBackend = Static<typeof AdminBackendDTO>
/** The body of a create (every field) or an edit (any of them). */
export type BackendInput = Partial<Static<typeof CreateBackendBody> & Static<typeof PatchBackendBody>>
export type BackendTestResult = Static<typeof BackendTestDTO>
export type ProbeHistory = Static<typeof ProbeHistoryDTO>
export type AuditEvent = Static<typeof AuditEventDTO>
export type AuditPage = Static<typeof AuditPageDTO>
export type Dashboard = DashboardDTO
