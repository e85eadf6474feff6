// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia, t } from 'elysia'
import type { Guard } from '../auth/guard.ts'
import { PinBody, PinDTO, PinParams } from './model.ts'
import type { PinService } from './service.ts'

const tags = ['me']

export function pinRoutes(d: { guard: Guard; pins: PinService }) {
  return new Elysia()
    .use(d.guard)
    .get('/api/me/pins', ({ actor }) => ({ pins: d.pins.list(actor) }), {
      access: 'any',
      response: { 200: t.Object({ pins: t.Array(PinDTO) }) },
      detail: { tags, summary: 'Your pinned buckets, oldest first' },
    })
    .post(
      '/api/me/pins',
      ({ actor, body, set }) => {
        set.status = 201
        return d.pins.add(actor, body)
      },
      { access: 'writer', body: PinBody, response: { 201: PinDTO }, detail: { tags, summary: 'Pin a bucket (idempotent)' } },
    )
    .delete(
      '/api/me/pins/:bid/:bucket',
      ({ actor, params, set }) => {
        d.pins.remove(actor, params.bid, params.bucket)
        set.status = 204
      },
      { access: 'writer', params: PinParams, detail: { tags, summary: 'Unpin a bucket (idempotent)' } },
    )
}
