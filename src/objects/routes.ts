// SPDX-License-Identifier: AGPL-3.0-or-later
/** Read-only object routes (any signed-in role with read access to what they name). */
import { Elysia, t } from 'elysia'
import { NEED } from '../access/needs.ts'
import { READ } from '../access/view.ts'
import { BucketParams } from '../buckets/model.ts'
import type { Guard } from '../auth/guard.ts'
import type { RequestContext } from '../http/context.ts'
import { getTags, listDeletedKeys, listVersions } from './annotations.ts'
import { readObject } from './download.ts'
import { listObjects } from './list.ts'
import { BUCKET_PATH, DeletedKeysDTO, GetQuery, KeyQuery, ListDTO, ListQuery, ObjectDTO, objectDTO, TagsDTO, VersionsDTO, ZipQuery } from './model.ts'
import { storage } from '../storage/errors.ts'
import { validateKey } from '../storage/validate.ts'
import { target, type ObjectDeps } from './target.ts'
import { zipObjects } from './zip.ts'

export type ObjectRouteDeps = ObjectDeps & { guard: Guard; context: RequestContext }

const DOWNLOAD = [
  `The object's bytes with its exact Content-Length, ETag and Last-Modified.`,
  `One byte range (\`bytes=a-b\`, \`a-\`, \`-n\`) gives 206; several ranges give the whole object (200); an unsatisfiable or malformed byte range gives 416 \`bad_range\`.`,
  `If-None-Match / If-Modified-Since → 304, If-Match / If-Unmodified-Since → 412.`,
  `\`disposition=inline\` is honoured only for raster images, video, audio, PDF and plain text whose first bytes match their type; anything else (HTML, SVG, XML, scripts…) is sent as an attachment.`,
  `Every response carries a sandboxing CSP and nosniff.`,
].join(' ')

export function objectReadRoutes(d: ObjectRouteDeps) {
  const tags = ['objects']
  const at = (p: { bid: string; bucket: string }) => target(d.registry, p.bid, p.bucket)
  return new Elysia()
    .use(d.guard)
    .get(`${BUCKET_PATH}/objects`, ({ params, query, granted }) => listObjects(d, at(params), query, granted.listing), {
      access: 'any',
      needs: NEED.list,
      params: BucketParams,
      query: ListQuery,
      response: { 200: ListDTO },
      detail: { tags, summary: 'One page of objects and folders under a prefix' },
    })
    .get(
      `${BUCKET_PATH}/object`,
      ({ params, query, request }) =>
        readObject(
          at(params),
          d.context.meta(request).head ? 'HEAD' : 'GET',
          {
            key: query.key,
            ...(query.version_id ? { versionId: query.version_id } : {}),
            disposition: query.disposition ?? 'attachment',
            headers: request.headers,
            signal: request.signal,
          },
          d.logger,
        ),
      {
        access: 'any',
        needs: NEED.key(READ),
        params: BucketParams,
        query: GetQuery,
        detail: { tags, summary: 'Download an object', head: 'An object’s download headers, without the body', description: DOWNLOAD },
      },
    )
    .get(
      `${BUCKET_PATH}/object/info`,
      async ({ params, query }) => {
        const t = at(params)
        validateKey(query.key)
        return objectDTO(
          await storage(t.backend.headObject(t.bucket, query.key, query.version_id ? { versionId: query.version_id } : undefined), d.logger, {
            notFound: 'No such object.',
          }),
        )
      },
      {
        access: 'any',
        needs: NEED.key(READ),
        params: BucketParams,
        query: KeyQuery,
        response: { 200: ObjectDTO },
        detail: { tags, summary: 'An object’s size, type, ETag and user metadata' },
      },
    )
    .get(`${BUCKET_PATH}/objects/zip`, ({ params, query, request }) => zipObjects(d, at(params), query.key, request.signal), {
      access: 'any',
      needs: NEED.zipKeys,
      params: BucketParams,
      query: ZipQuery,
      detail: {
        tags,
        summary: 'A streamed zip of up to 1000 keys',
        description: 'Repeat `key`; a key ending in "/" adds everything under it. Unreadable keys are listed in `_errors.txt` inside the zip.',
      },
    })
    .get(`${BUCKET_PATH}/object/tags`, ({ params, query }) => getTags(d, at(params), query.key, query.version_id), {
      access: 'any',
      needs: NEED.key(READ),
      params: BucketParams,
      query: KeyQuery,
      response: { 200: TagsDTO },
      detail: { tags, summary: 'An object’s tags' },
    })
    .get(`${BUCKET_PATH}/object/versions`, ({ params, query }) => listVersions(d, at(params), query.key), {
      access: 'any',
      needs: NEED.key(READ),
      params: BucketParams,
      query: t.Object({ key: t.String() }),
      response: { 200: VersionsDTO },
      detail: { tags, summary: 'Versions of one key (501 not_supported without versioning)' },
    })
    .get(`${BUCKET_PATH}/objects/deleted`, ({ params, query, granted }) => listDeletedKeys(d, at(params), query.prefix ?? '', granted.listing), {
      access: 'any',
      needs: NEED.list,
      params: BucketParams,
      query: t.Object({ prefix: t.Optional(t.String({ description: 'The folder, ending in "/"; absent for the bucket root.' })) }),
      response: { 200: DeletedKeysDTO },
      detail: { tags, summary: 'Deleted keys of a folder that older versions can bring back, and whether the bucket keeps versions' },
    })
}
