// SPDX-License-Identifier: AGPL-3.0-or-later
import { Elysia } from 'elysia'
import { NEED } from '../access/needs.ts'
import type { Guard } from '../auth/guard.ts'
import { SearchDTO, SearchQuery } from './model.ts'
import type { SearchService } from './service.ts'

export function searchRoutes(d: { guard: Guard; search: SearchService }) {
  return new Elysia().use(d.guard).get('/api/search', ({ query, request, granted }) => d.search.search(granted.view, query.q, query.limit, request.signal), {
    access: 'any',
    needs: NEED.view,
    query: SearchQuery,
    response: { 200: SearchDTO },
    detail: { tags: ['search'], summary: 'Bucket names and object keys you may read, across all backends (3 s budget per backend)' },
  })
}
