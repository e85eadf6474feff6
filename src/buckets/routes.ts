// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia, t } from 'elysia'
import { NEED } from '../access/needs.ts'
import type { AccessService } from '../access/service.ts'
import { WRITE } from '../access/view.ts'
import type { Guard } from '../auth/guard.ts'
import { BackendParams, BucketDTO, BucketListDTO, BucketParams, CreateBucketBody } from './model.ts'
import type { BucketService } from './service.ts'

export function bucketRoutes(d: { guard: Guard; buckets: BucketService; access: AccessService }) {
  const tags = ['buckets']
  return new Elysia()
    .use(d.guard)
    .get('/api/backends/:bid/buckets', ({ params, granted }) => d.buckets.list(params.bid, granted.view), {
      access: 'any',
      needs: NEED.backend,
      params: BackendParams,
      response: { 200: BucketListDTO },
      detail: { tags, summary: 'The buckets of a backend you may see, with their tracked sizes (sizes only where you may read the whole bucket)' },
    })
    .post(
      '/api/backends/:bid/buckets',
      async ({ actor, params, body, set, origin }) => {
        const out = await d.buckets.create(origin, params.bid, body.name, body.region)
        await d.access.creatorGrant(actor, params.bid, out.name, origin)
        set.status = 201
        return out
      },
      {
        access: 'writer',
        needs: NEED.createBucket,
        params: BackendParams,
        body: CreateBucketBody,
        response: { 201: t.Object({ name: t.String() }) },
        detail: {
          tags,
          summary: 'Create a bucket (409 bucket_exists when taken)',
          description:
            'Admins, and users with read-write on the whole backend. The creator is granted read-write on the new bucket, which stays when the backend grant goes.',
        },
      },
    )
    .delete(
      '/api/backends/:bid/buckets/:bucket',
      async ({ params, set, origin }) => {
        await d.buckets.remove(origin, params.bid, params.bucket)
        set.status = 204
      },
      {
        access: 'admin',
        needs: NEED.wholeBucket(WRITE),
        params: BucketParams,
        detail: { tags, summary: 'Delete an empty bucket (409 bucket_not_empty otherwise); its grants go with it' },
      },
    )
}
