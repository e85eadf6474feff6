// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia } from 'elysia'
import { NEED } from '../access/needs.ts'
import { WRITE } from '../access/view.ts'
import type { Guard } from '../auth/guard.ts'
import { BucketParams } from '../buckets/model.ts'
import type { CorsService } from './cors.ts'
import { CorsDTO, LifecycleDTO, PolicyDTO, VersioningDTO } from './model.ts'
import type { BucketSettings } from './service.ts'

const tags = ['bucket settings']
const base = '/api/backends/:bid/buckets/:bucket'
const params = BucketParams
const needs = NEED.wholeBucket(WRITE)

/** Bucket settings are admin-only, reads included: a policy or CORS rule set says who else can reach the data. */
export function bucketSettingsRoutes(d: { guard: Guard; settings: BucketSettings; cors: CorsService }) {
  return new Elysia()
    .use(d.guard)
    .get(`${base}/versioning`, ({ params: p }) => d.settings.versioning(p.bid, p.bucket), {
      access: 'admin',
      needs,
      params,
      response: { 200: VersioningDTO },
      detail: { tags, summary: 'Versioning state (501 on backends without versioning)' },
    })
    .put(`${base}/versioning`, ({ params: p, body, origin }) => d.settings.setVersioning(p.bid, p.bucket, body.enabled, origin), {
      access: 'admin',
      needs,
      params,
      body: VersioningDTO,
      response: { 200: VersioningDTO },
      detail: { tags, summary: 'Enable or suspend versioning' },
    })
    .get(`${base}/cors`, ({ params: p }) => d.cors.get(p.bid, p.bucket), {
      access: 'admin',
      needs,
      params,
      response: { 200: CorsDTO },
      detail: { tags, summary: 'CORS rules the S3 proxy answers for this bucket' },
    })
    .put(
      `${base}/cors`,
      async ({ actor, params: p, body, set, origin }) => {
        await d.cors.set(actor, p.bid, p.bucket, body.rules, origin)
        set.status = 204
      },
      { access: 'admin', needs, params, body: CorsDTO, detail: { tags, summary: 'Replace the CORS rules (an empty list removes them)' } },
    )
    .get(`${base}/policy`, ({ params: p }) => d.settings.policy(p.bid, p.bucket), {
      access: 'admin',
      needs,
      params,
      response: { 200: PolicyDTO },
      detail: { tags, summary: 'Bucket policy ("" when none; 501 on backends without policies)' },
    })
    .put(
      `${base}/policy`,
      async ({ params: p, body, set, origin }) => {
        await d.settings.setPolicy(p.bid, p.bucket, body.policy, origin)
        set.status = 204
      },
      { access: 'admin', needs, params, body: PolicyDTO, detail: { tags, summary: 'Set the bucket policy (a JSON document, at most 256 KiB)' } },
    )
    .delete(
      `${base}/policy`,
      async ({ params: p, set, origin }) => {
        await d.settings.deletePolicy(p.bid, p.bucket, origin)
        set.status = 204
      },
      { access: 'admin', needs, params, detail: { tags, summary: 'Remove the bucket policy' } },
    )
    .get(`${base}/lifecycle`, ({ params: p }) => d.settings.lifecycle(p.bid, p.bucket), {
      access: 'admin',
      needs,
      params,
      response: { 200: LifecycleDTO },
      detail: { tags, summary: 'Lifecycle rules (501 on backends without lifecycle support)' },
    })
    .put(`${base}/lifecycle`, ({ params: p, body, origin }) => d.settings.setLifecycle(p.bid, p.bucket, body.rules, origin), {
      access: 'admin',
      needs,
      params,
      body: LifecycleDTO,
      response: { 200: LifecycleDTO },
      detail: { tags, summary: 'Replace the lifecycle rules (an empty list removes them)' },
    })
    .delete(
      `${base}/lifecycle`,
      async ({ params: p, set, origin }) => {
        await d.settings.deleteLifecycle(p.bid, p.bucket, origin)
        set.status = 204
      },
      { access: 'admin', needs, params, detail: { tags, summary: 'Remove all lifecycle rules' } },
    )
}
