// SPDX-License-Identifier: AGPL-3.0-or-later
import { t } from 'elysia'

export const QuotaBody = t.Object({
  soft_bytes: t.Optional(t.Integer({ description: 'Warn (audit event, UI banner) above this many bytes; 0 or absent means no soft cap.' })),
  hard_bytes: t.Optional(t.Integer({ description: 'Refuse writes (507) that would pass this many bytes; 0 or absent means no hard cap.' })),
})
export type QuotaBody = typeof QuotaBody.static

export const QuotaDTO = t.Object({
  configured: t.Boolean(),
  soft_bytes: t.Optional(t.Number()),
  hard_bytes: t.Optional(t.Number()),
  updated_at: t.Optional(t.String({ format: 'date-time' })),
  updated_by: t.Optional(t.String()),
  usage_bytes: t.Optional(t.Number()),
  object_count: t.Optional(t.Number()),
  computed_at: t.Optional(t.String({ format: 'date-time' })),
  has_usage: t.Boolean(),
})
export type QuotaDTO = typeof QuotaDTO.static
