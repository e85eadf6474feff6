// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia, t } from 'elysia'
import type { Guard } from '../auth/guard.ts'
import type { RequestContext } from '../http/context.ts'
import { auditOrigin } from '../http/origin.ts'
import { BackendParams, BucketDTO, BucketPathParams, CreateBucketBody } from './model.ts'
import type { BucketService } from './service.ts'

export function bucketRoutes(d: { guard: Guard; context: RequestContext; buckets: BucketService }) {
  const tags = ['buckets']
  return new Elysia()
    .use(d.guard)
    .get('/api/backends/:bid/buckets', ({ params }) => d.buckets.list(params.bid), {
      access: 'any',
      params: BackendParams,
      response: { 200: t.Object({ buckets: t.Array(BucketDTO) }) },
      detail: { tags, summary: 'Buckets of a backend, with their tracked sizes' },
    })
    .post(
      '/api/backends/:bid/buckets',
      async ({ actor, params, body, request, set }) => {
        const out = await d.buckets.create(auditOrigin(d.context, request, actor), params.bid, body.name, body.region)
        set.status = 201
        return out
      },
      {
        access: 'admin',
        params: BackendParams,
        body: CreateBucketBody,
        response: { 201: t.Object({ name: t.String() }) },
        detail: { tags, summary: 'Create a bucket (409 bucket_exists when taken)' },
      },
    )
    .delete(
      '/api/backends/:bid/buckets/:bucket',
      async ({ actor, params, request, set }) => {
        await d.buckets.remove(auditOrigin(d.context, request, actor), params.bid, params.bucket)
        set.status = 204
      },
      { access: 'admin', params: BucketPathParams, detail: { tags, summary: 'Delete an empty bucket (409 bucket_not_empty otherwise)' } },
    )
}
