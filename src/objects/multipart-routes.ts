// SPDX-License-Identifier: AGPL-3.0-or-later
/** Multipart upload routes: list/inspect (any role, read access), create/part/complete/abort (writer, read-write access). */
import { Elysia, t } from 'elysia'
import { NEED } from '../access/needs.ts'
import { READ, WRITE } from '../access/view.ts'
import { BucketParams } from '../buckets/model.ts'
import { integerParam } from '../http/paging.ts'
import { BUCKET_PATH, MultipartCreatedDTO, ObjectDTO, PartDTO, PartListDTO } from './model.ts'
import { abortUpload, completeUpload, createUpload, listParts, listUploads, MAX_PART_BYTES, MAX_PARTS, uploadPart } from './multipart.ts'
import type { ObjectRouteDeps } from './routes.ts'
import { target } from './target.ts'

const UploadQuery = t.Object({ key: t.String(), upload_id: t.String() })
const ifNoneMatch = (h: Headers): boolean => h.get('if-none-match')?.trim() === '*'

export function multipartRoutes(d: ObjectRouteDeps) {
  const tags = ['multipart']
  const at = (p: { bid: string; bucket: string }) => target(d.registry, p.bid, p.bucket)
  return new Elysia()
    .use(d.guard)
    .get(`${BUCKET_PATH}/multipart`, ({ params, query }) => listUploads(d, at(params), query.prefix), {
      access: 'any',
      needs: NEED.prefixQuery(READ),
      params: BucketParams,
      query: t.Object({ prefix: t.Optional(t.String()) }),
      response: {
        200: t.Object({ uploads: t.Array(t.Object({ key: t.String(), upload_id: t.String(), initiated: t.Optional(t.String({ format: 'date-time' })) })) }),
      },
      detail: { tags, summary: 'Multipart uploads in progress' },
    })
    .post(
      `${BUCKET_PATH}/multipart`,
      async ({ params, query, body, request, set, origin }) => {
        const out = await createUpload(d, at(params), origin, query.key, body ?? {}, ifNoneMatch(request.headers))
        set.status = 201
        return out
      },
      {
        access: 'writer',
        needs: NEED.key(WRITE),
        params: BucketParams,
        query: t.Object({ key: t.String() }),
        // Not t.Optional: Elysia then validates only non-empty objects, so `[]`, `"x"` or `42` passed unchecked.
        body: t.Union(
          [t.Object({ content_type: t.Optional(t.String({ maxLength: 255 })), metadata: t.Optional(t.Record(t.String(), t.String())) }), t.Null()],
          { description: 'May be empty.' },
        ),
        response: { 201: MultipartCreatedDTO },
        detail: {
          tags,
          summary: 'Start a multipart upload',
          description: '`If-None-Match: *` refuses when the key exists (412 object_exists); send it again on complete to keep the guarantee.',
        },
      },
    )
    .get(`${BUCKET_PATH}/multipart/parts`, ({ params, query }) => listParts(d, at(params), query.key, query.upload_id), {
      access: 'any',
      needs: NEED.key(READ),
      params: BucketParams,
      query: UploadQuery,
      response: { 200: PartListDTO },
      detail: { tags, summary: 'Parts already uploaded (to resume after a reload)' },
    })
    .put(
      `${BUCKET_PATH}/multipart/parts/:part`,
      ({ params, query, request }) =>
        uploadPart(d, at(params), {
          key: query.key,
          uploadId: query.upload_id,
          partNumber: params.part,
          headers: request.headers,
          body: request.body,
          signal: request.signal,
        }),
      {
        access: 'writer',
        needs: NEED.key(WRITE),
        parse: 'none',
        params: t.Object({ ...BucketParams.properties, part: integerParam('part', 1, MAX_PARTS, 'Part number') }),
        query: UploadQuery,
        response: { 200: PartDTO },
        detail: {
          tags,
          summary: 'Upload one part (raw body, Content-Length required)',
          description: `Streamed to the backend as it arrives. Content-Length is required (411 length_required); a part may be at most the backend's max_part_size_bytes and never more than ${MAX_PART_BYTES / 1024 ** 3} GiB (413 too_large). Part numbers 1..${MAX_PARTS}.`,
        },
      },
    )
    .post(
      `${BUCKET_PATH}/multipart/complete`,
      ({ params, query, body, request, origin }) => completeUpload(d, at(params), origin, query.key, query.upload_id, body.parts, ifNoneMatch(request.headers)),
      {
        access: 'writer',
        needs: NEED.key(WRITE),
        params: BucketParams,
        query: UploadQuery,
        body: t.Object({
          parts: t.Array(t.Object({ PartNumber: t.Integer({ minimum: 1, maximum: MAX_PARTS }), ETag: t.String({ minLength: 1, maxLength: 256 }) }), {
            minItems: 1,
            maxItems: MAX_PARTS,
          }),
        }),
        response: { 200: ObjectDTO },
        detail: { tags, summary: 'Assemble the parts into the object' },
      },
    )
    .delete(
      `${BUCKET_PATH}/multipart`,
      async ({ params, query, set, origin }) => {
        await abortUpload(d, at(params), origin, query.key, query.upload_id)
        set.status = 204
      },
      {
        access: 'writer',
        needs: NEED.key(WRITE),
        params: BucketParams,
        query: UploadQuery,
        detail: { tags, summary: 'Abort a multipart upload and drop its parts' },
      },
    )
}
