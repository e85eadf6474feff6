// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia } from 'elysia'
import { NEED } from '../access/needs.ts'
import { READ, WRITE } from '../access/view.ts'
import type { Guard } from '../auth/guard.ts'
import { BucketParams } from '../buckets/model.ts'
import { PrefixSizeDTO, PrefixSizeQuery, TrackingBody, TrackingDTO } from './model.ts'
import type { SizeService } from './service.ts'

const tags = ['bucket sizes']
const base = '/api/backends/:bid/buckets/:bucket'

export function sizeRoutes(d: { guard: Guard; sizes: SizeService }) {
  return new Elysia()
    .use(d.guard)
    .get(`${base}/size-tracking`, ({ params }) => d.sizes.tracking(params.bid, params.bucket), {
      access: 'any',
      needs: NEED.bucket,
      params: BucketParams,
      response: { 200: TrackingDTO },
      detail: { tags, summary: "Whether the background scan keeps this bucket's size" },
    })
    .put(`${base}/size-tracking`, ({ actor, params, body, origin }) => d.sizes.setTracking(actor, params.bid, params.bucket, body.enabled, origin), {
      access: 'admin',
      needs: NEED.wholeBucket(WRITE),
      params: BucketParams,
      body: TrackingBody,
      response: { 200: TrackingDTO },
      detail: { tags, summary: 'Switch size tracking for one bucket (on by default)' },
    })
    .get(`${base}/prefix-size`, ({ params, query }) => d.sizes.prefixSize(params.bid, params.bucket, query.prefix), {
      access: 'any',
      needs: NEED.prefixQuery(READ),
      params: BucketParams,
      query: PrefixSizeQuery,
      response: { 200: PrefixSizeDTO },
      detail: { tags, summary: 'Bytes and objects under a prefix (cached 60 s; budget 5 s / 500 000 objects, else `truncated`)' },
    })
}
