// SPDX-License-Identifier: AGPL-3.0-or-later
/** Object routes that change data (writer: admin or user, with read-write access to what they name). */
import { Elysia } from 'elysia'
import { NEED } from '../access/needs.ts'
import { WRITE } from '../access/view.ts'
import { BucketParams } from '../buckets/model.ts'
import { setMetadata, setTags } from './annotations.ts'
import { copyObject } from './copy.ts'
import { bulkDelete, deleteObject } from './delete.ts'
import {
  BUCKET_PATH,
  BulkDeleteBody,
  BulkDeleteDTO,
  CopyBody,
  CopyDTO,
  CopyPrefixBody,
  DeletePrefixBody,
  FolderBody,
  KeyQuery,
  MetadataBody,
  ObjectDTO,
  TagsBody,
  UploadQuery,
} from './model.ts'
import { copyPrefix, deletePrefix } from './prefix-jobs.ts'
import type { ObjectRouteDeps } from './routes.ts'
import { target } from './target.ts'
import { createFolder, FORM_UPLOAD_MAX, upload } from './upload.ts'

const UPLOAD = [
  `Two shapes. Raw (preferred):`,
  `\`POST …/object?key=<key>\` with the file as the body, its type as Content-Type (or \`content_type\` in the query) and Content-Length required (411 length_required); streamed to the backend, no size limit.`,
  `Form: multipart/form-data with \`file\`, optional \`key\` (default: the file name) and \`content_type\`, at most ${FORM_UPLOAD_MAX / 1024 / 1024} MiB.`,
  `\`If-None-Match: *\` refuses to overwrite (412 object_exists). 507 quota_exceeded when the bucket's hard cap would be passed.`,
].join(' ')

export function objectWriteRoutes(d: ObjectRouteDeps) {
  const tags = ['objects']
  const at = (p: { bid: string; bucket: string }) => target(d.registry, p.bid, p.bucket)
  return new Elysia()
    .use(d.guard)
    .post(
      `${BUCKET_PATH}/object`,
      async ({ params, query, request, set, origin }) => {
        const out = await upload(d, at(params), origin, {
          query,
          headers: request.headers,
          body: request.body,
          signal: request.signal,
        })
        set.status = 201
        return out
      },
      {
        access: 'writer',
        needs: NEED.upload,
        parse: 'none',
        params: BucketParams,
        query: UploadQuery,
        response: { 201: ObjectDTO },
        detail: { tags, summary: 'Upload an object', description: UPLOAD },
      },
    )
    .delete(
      `${BUCKET_PATH}/object`,
      async ({ params, query, set, origin }) => {
        await deleteObject(d, at(params), origin, query.key, query.version_id)
        set.status = 204
      },
      {
        access: 'writer',
        needs: NEED.key(WRITE),
        params: BucketParams,
        query: KeyQuery,
        detail: { tags, summary: 'Delete an object (404 when there is none)' },
      },
    )
    .post(`${BUCKET_PATH}/objects/delete`, ({ params, body, origin }) => bulkDelete(d, at(params), origin, body.keys), {
      access: 'writer',
      needs: NEED.bodyKeys,
      params: BucketParams,
      body: BulkDeleteBody,
      response: { 200: BulkDeleteDTO },
      detail: { tags, summary: 'Delete up to 1000 keys; failures are reported per key' },
    })
    .post(`${BUCKET_PATH}/objects/delete-prefix`, ({ params, body, request, origin }) => deletePrefix(d, at(params), origin, body.prefix, request.signal), {
      access: 'writer',
      needs: NEED.bodyPrefix(WRITE),
      params: BucketParams,
      body: DeletePrefixBody,
      detail: {
        tags,
        summary: 'Delete everything under a folder, streaming NDJSON progress',
        description: 'Events: start{prefix}, object{key}, error{key,code,message}, done{deleted,failed,cancelled?}. Stops when the client disconnects.',
      },
    })
    .post(`${BUCKET_PATH}/objects/copy-prefix`, ({ params, body, request, origin }) => copyPrefix(d, at(params), origin, body, request.signal), {
      access: 'writer',
      needs: NEED.copyPrefix,
      params: BucketParams,
      body: CopyPrefixBody,
      detail: {
        tags,
        summary: 'Copy everything under a folder (same or another bucket/backend), streaming NDJSON progress',
        description:
          'Events: start{src_prefix,dst_prefix}, object{src,dst,size}, error{src,dst,code,message}, done{copied,failed,bytes,cancelled?}. A destination inside the source (same bucket) is refused. Stops when the client disconnects.',
      },
    })
    .post(
      `${BUCKET_PATH}/objects/folder`,
      async ({ params, body, request, set, origin }) => {
        const out = await createFolder(d, at(params), origin, body.key, request.signal)
        set.status = 201
        return out
      },
      {
        access: 'writer',
        needs: NEED.folder,
        params: BucketParams,
        body: FolderBody,
        response: { 201: ObjectDTO },
        detail: { tags, summary: 'Create a folder (a zero-byte "key/" placeholder)' },
      },
    )
    .post(`${BUCKET_PATH}/object/copy`, ({ params, body, request, origin }) => copyObject(d, at(params), origin, body, request.signal), {
      access: 'writer',
      needs: NEED.copy,
      params: BucketParams,
      body: CopyBody,
      response: { 200: CopyDTO },
      detail: { tags, summary: 'Copy one object (server-side within a backend, streamed across backends)' },
    })
    .put(
      `${BUCKET_PATH}/object/tags`,
      async ({ params, query, body, set, origin }) => {
        await setTags(d, at(params), origin, query.key, body.tags, query.version_id)
        set.status = 204
      },
      {
        access: 'writer',
        needs: NEED.key(WRITE),
        params: BucketParams,
        query: KeyQuery,
        body: TagsBody,
        detail: { tags, summary: 'Replace an object’s tags (≤10; key 1–128, value ≤256 characters)' },
      },
    )
    .put(
      `${BUCKET_PATH}/object/metadata`,
      ({ params, query, body, request, origin }) => setMetadata(d, at(params), origin, query.key, body.metadata, request.signal),
      {
        access: 'writer',
        needs: NEED.key(WRITE),
        params: BucketParams,
        query: KeyQuery,
        body: MetadataBody,
        response: { 200: ObjectDTO },
        detail: { tags, summary: 'Replace an object’s user metadata (its Content-Type is kept)' },
      },
    )
}
