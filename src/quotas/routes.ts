// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia } from 'elysia'
import { NEED } from '../access/needs.ts'
import { READ, WRITE } from '../access/view.ts'
import type { Guard } from '../auth/guard.ts'
import { BucketParams } from '../buckets/model.ts'
import { QuotaBody, QuotaDTO } from './model.ts'
import type { QuotaService } from './service.ts'

const tags = ['bucket settings']
const path = '/api/backends/:bid/buckets/:bucket/quota'

/**
 * Reading a quota is open to every signed-in role that can see the bucket:
 * the bucket browser shows soft/hard banners to whoever is about to upload.
 * Usage figures come with it only for those who may read the whole bucket,
 * as in the bucket list. Changing one is admin-only.
 */
export function quotaRoutes(d: { guard: Guard; quotas: QuotaService }) {
  return new Elysia()
    .use(d.guard)
    .get(path, ({ params, granted }) => d.quotas.get(params.bid, params.bucket, { usage: granted.view.levelAt(params.bid, params.bucket, '') >= READ }), {
      access: 'any',
      needs: NEED.bucket,
      params: BucketParams,
      response: { 200: QuotaDTO },
      detail: { tags, summary: "A bucket's quota and last known usage" },
    })
    .put(path, ({ actor, params, body, origin }) => d.quotas.set(actor, params.bid, params.bucket, body, origin), {
      access: 'admin',
      needs: NEED.wholeBucket(WRITE),
      params: BucketParams,
      body: QuotaBody,
      response: { 200: QuotaDTO },
      detail: { tags, summary: 'Set soft and/or hard caps in bytes' },
    })
    .delete(
      path,
      async ({ params, set, origin }) => {
        await d.quotas.remove(params.bid, params.bucket, origin)
        set.status = 204
      },
      { access: 'admin', needs: NEED.wholeBucket(WRITE), params: BucketParams, detail: { tags, summary: 'Remove the quota' } },
    )
    .post(`${path}/recompute`, ({ params }) => d.quotas.recompute(params.bid, params.bucket), {
      access: 'admin',
      needs: NEED.wholeBucket(WRITE),
      params: BucketParams,
      response: { 200: QuotaDTO },
      detail: { tags, summary: 'Count the bucket now (waits up to 30 s; the count continues in the background after that)' },
    })
}
