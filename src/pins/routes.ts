// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia, t } from 'elysia'
import { NEED } from '../access/needs.ts'
import { READ } from '../access/view.ts'
import type { Guard } from '../auth/guard.ts'
import { BucketParams } from '../buckets/model.ts'
import { PinBody, PinDTO, PinListDTO } from './model.ts'
import type { PinService } from './service.ts'

const tags = ['me']

export function pinRoutes(d: { guard: Guard; pins: PinService }) {
  return new Elysia()
    .use(d.guard)
    .get(
      '/api/me/pins',
      async ({ actor, granted }) => ({ pins: (await d.pins.list(actor)).filter((p) => granted.view.bucketLevel(p.backend_id, p.bucket) >= READ) }),
      {
        access: 'any',
        needs: NEED.view,
        response: { 200: PinListDTO },
        detail: { tags, summary: 'Your pinned buckets you still have access to, oldest first' },
      },
    )
    .post(
      '/api/me/pins',
      ({ actor, body, set }) => {
        set.status = 201
        return d.pins.add(actor, body)
      },
      {
        access: 'writer',
        needs: NEED.pin,
        body: PinBody,
        response: { 201: PinDTO },
        detail: { tags, summary: 'Pin a bucket you have access to (idempotent)' },
      },
    )
    .delete(
      '/api/me/pins/:bid/:bucket',
      async ({ actor, params, set }) => {
        await d.pins.remove(actor, params.bid, params.bucket)
        set.status = 204
      },
      // No grant needed: a pin of a bucket you lost access to must still be removable.
      { access: 'writer', params: BucketParams, detail: { tags, summary: 'Unpin a bucket (idempotent)' } },
    )
}
