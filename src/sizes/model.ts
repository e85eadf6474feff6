// SPDX-License-Identifier: AGPL-3.0-or-later
import { t } from 'elysia'

export const TrackingBody = t.Object({ enabled: t.Boolean() })

export const TrackingDTO = t.Object({
  enabled: t.Boolean(),
  updated_at: t.Optional(t.String({ format: 'date-time' })),
  updated_by: t.Optional(t.String()),
})
export type TrackingDTO = typeof TrackingDTO.static

export const PrefixSizeQuery = t.Object({
  prefix: t.Optional(t.String({ maxLength: 1024, description: 'Key prefix, usually a folder ending in "/"; empty or absent means the whole bucket.' })),
})

export const PrefixSizeDTO = t.Object({
  bytes: t.Number(),
  count: t.Number(),
  prefix: t.String(),
  computed_at: t.String({ format: 'date-time' }),
  truncated: t.Boolean({ description: 'True when the walk hit its time or object budget: bytes and count then cover only the first part of the prefix.' }),
})
export type PrefixSizeDTO = typeof PrefixSizeDTO.static
