// SPDX-License-Identifier: AGPL-3.0-or-later
/** Owners' share-link routes: list (any role), create and revoke (writers). */
import { Elysia } from 'elysia'
import { NEED } from '../access/needs.ts'
import type { Guard } from '../auth/guard.ts'
import { CreateShareBody, ShareDTO, ShareIdParams, ShareListDTO, ShareListQuery, SharePolicyDTO } from './model.ts'
import type { ShareService } from './service.ts'

const tags = ['shares']

export function shareRoutes(d: { guard: Guard; shares: ShareService }) {
  return new Elysia()
    .use(d.guard)
    .get('/api/shares', ({ actor, query }) => d.shares.list(actor, query), {
      access: 'any',
      query: ShareListQuery,
      response: { 200: ShareListDTO },
      detail: { tags, summary: 'Your share links, newest first (`scope=all`: everyone’s, admins only)' },
    })
    .get('/api/shares/policy', () => d.shares.policy(), {
      access: 'any',
      response: { 200: SharePolicyDTO },
      detail: { tags, summary: 'The admin’s share policy (`shares.max_lifetime`, `shares.require_password`)' },
    })
    .post(
      '/api/shares',
      async ({ actor, body, set, origin }) => {
        const dto = await d.shares.create(actor, body, origin)
        set.status = 201
        return dto
      },
      {
        access: 'writer',
        needs: NEED.share,
        body: CreateShareBody,
        response: { 201: ShareDTO },
        detail: {
          tags,
          summary: 'Create a share link to an object or a folder',
          description:
            'You must be able to read it, and the object must exist (or the folder hold at least one file). `shares.max_lifetime` and `shares.require_password` apply. The link stops working (410 `access_revoked`) while you cannot read it any more.',
        },
      },
    )
    .delete(
      '/api/shares/:id',
      async ({ actor, params, set, origin }) => {
        await d.shares.revoke(actor, params.id, origin)
        set.status = 204
      },
      {
        access: 'writer',
        params: ShareIdParams,
        detail: { tags, summary: 'Revoke a share link (yours; any, for admins)', description: 'Idempotent. Someone else’s share answers 404.' },
      },
    )
}
