// SPDX-License-Identifier: AGPL-3.0-or-later
import { t } from 'elysia'

export const PinBody = t.Object({ backend_id: t.String({ minLength: 1, maxLength: 64 }), bucket: t.String({ minLength: 1, maxLength: 255 }) })
export type PinBody = typeof PinBody.static

export const PinDTO = t.Object({ backend_id: t.String(), bucket: t.String(), created_at: t.String({ format: 'date-time' }) })
export type PinDTO = typeof PinDTO.static
export const PinListDTO = t.Object({ pins: t.Array(PinDTO) })
