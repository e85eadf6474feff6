// SPDX-License-Identifier: AGPL-3.0-or-later
/** Request and response shapes of the object and multipart routes (anchor.md §4.3). */
import { t } from 'elysia'
import type { ObjectInfo } from '../backends/backend.ts'
import { pageLimit, type PageSize } from '../http/paging.ts'

const Key = t.String({ description: 'Object key: 1–1024 bytes, no control or bidi-override characters, no ".." segment.' })
const VersionId = t.String({ maxLength: 1024 })

export const KeyQuery = t.Object({ key: Key, version_id: t.Optional(VersionId) })

export const ObjectDTO = t.Object({
  key: t.String(),
  size: t.Number(),
  etag: t.Optional(t.String()),
  content_type: t.Optional(t.String()),
  storage_class: t.Optional(t.String()),
  version_id: t.Optional(t.String()),
  last_modified: t.Optional(t.String({ format: 'date-time' })),
  metadata: t.Optional(t.Record(t.String(), t.String())),
})
export type ObjectDTO = typeof ObjectDTO.static

export function objectDTO(o: ObjectInfo): ObjectDTO {
  return {
    key: o.key,
    size: o.size,
    ...(o.etag ? { etag: o.etag } : {}),
    ...(o.contentType ? { content_type: o.contentType } : {}),
    ...(o.storageClass ? { storage_class: o.storageClass } : {}),
    ...(o.versionId ? { version_id: o.versionId } : {}),
    ...(o.lastModified ? { last_modified: o.lastModified.toISOString() } : {}),
    ...(o.metadata && Object.keys(o.metadata).length ? { metadata: o.metadata } : {}),
  }
}

export const LIST_PAGE: PageSize = { max: 1000, fallback: 1000 }
export const ListQuery = t.Object({
  prefix: t.Optional(t.String({ description: 'Only keys starting with this.' })),
  delimiter: t.Optional(t.String({ maxLength: 16, description: 'Absent: "/" (one level). Present but empty: a flat listing.' })),
  token: t.Optional(t.String({ maxLength: 4096, description: 'next_continuation_token of the previous page.' })),
  max_keys: pageLimit(LIST_PAGE, 'max_keys'),
})

export const ListDTO = t.Object({
  prefix: t.String(),
  delimiter: t.String(),
  common_prefixes: t.Array(t.String()),
  is_truncated: t.Boolean(),
  next_continuation_token: t.Optional(t.String()),
  objects: t.Array(ObjectDTO),
})

export const GetQuery = t.Object({
  key: Key,
  version_id: t.Optional(VersionId),
  disposition: t.Optional(
    t.UnionEnum(['attachment', 'inline'], { description: 'Default attachment. Inline is honoured only for inert types (see the route description).' }),
  ),
})

export const UploadQuery = t.Object({
  key: t.Optional(Key),
  content_type: t.Optional(t.String({ maxLength: 255 })),
})

export const FolderBody = t.Object({ key: Key })

export const CopyBody = t.Object({
  src_key: Key,
  dst_key: Key,
  dst_bucket: t.Optional(t.String({ maxLength: 255 })),
  dst_backend: t.Optional(t.String({ maxLength: 64 })),
  version_id: t.Optional(VersionId),
  metadata: t.Optional(t.Record(t.String(), t.String(), { description: 'Replaces the user metadata; absent copies it.' })),
})

export const CopyDTO = t.Object({ backend: t.String(), bucket: t.String(), object: ObjectDTO })

export const BulkDeleteBody = t.Object({
  keys: t.Array(t.Object({ key: t.String(), version_id: t.Optional(VersionId) }), { minItems: 1, maxItems: 1000 }),
})

export const BulkDeleteDTO = t.Object({
  deleted: t.Array(t.Object({ key: t.String(), version_id: t.Optional(t.String()) })),
  errors: t.Array(t.Object({ key: t.String(), version_id: t.Optional(t.String()), code: t.String(), message: t.String() })),
})

export const DeletePrefixBody = t.Object({ prefix: t.String({ description: 'A folder path ending in "/"; the empty prefix is refused.' }) })

export const CopyPrefixBody = t.Object({
  src_prefix: t.String(),
  dst_prefix: t.String(),
  dst_bucket: t.Optional(t.String({ maxLength: 255 })),
  dst_backend: t.Optional(t.String({ maxLength: 64 })),
  metadata: t.Optional(t.Record(t.String(), t.String())),
})

export const ZipQuery = t.Object({
  key: t.Array(t.String(), { minItems: 1, description: 'Repeat for each key (at most 1000); a key ending in "/" adds everything under it.' }),
})

export const TagsBody = t.Object({ tags: t.Record(t.String(), t.String()) })
export const TagsDTO = TagsBody
export const MetadataBody = t.Object({ metadata: t.Record(t.String(), t.String()) })

export const VersionsDTO = t.Object({
  versions: t.Array(
    t.Object({
      key: t.String(),
      version_id: t.String(),
      is_latest: t.Boolean(),
      is_delete_marker: t.Optional(t.Boolean()),
      size: t.Number(),
      etag: t.Optional(t.String()),
      storage_class: t.Optional(t.String()),
      last_modified: t.Optional(t.String({ format: 'date-time' })),
    }),
  ),
})
export type VersionsDTO = typeof VersionsDTO.static

export const DeletedKeysDTO = t.Object({
  versioned: t.Boolean({ description: 'Whether the bucket keeps versions now, so a delete can be undone.' }),
  deleted: t.Array(
    t.Object({
      key: t.String(),
      version_id: t.String({ description: 'The delete marker; deleting this version brings the key back.' }),
      last_modified: t.Optional(t.String({ format: 'date-time' })),
    }),
    { description: 'Keys directly under the prefix whose latest version is a delete marker, at most 1000.' },
  ),
})
export type DeletedKeysDTO = typeof DeletedKeysDTO.static
export type ListDTO = typeof ListDTO.static

export const MultipartCreatedDTO = t.Object({ bucket: t.String(), key: t.String(), upload_id: t.String() })
export const PartDTO = t.Object({ part_number: t.Integer(), etag: t.String(), size: t.Number() })
export const PartListDTO = t.Object({ parts: t.Array(PartDTO) })

/** NDJSON events of POST …/objects/delete-prefix, one a line. */
export type DeletePrefixEvent =
  | { event: 'start'; prefix: string }
  | { event: 'object'; key: string }
  | { event: 'error'; key?: string; code: string; message: string }
  | { event: 'done'; deleted: number; failed: number; cancelled?: boolean }

/** NDJSON events of POST …/objects/copy-prefix, one a line. */
export type CopyPrefixEvent =
  | { event: 'start'; src_prefix: string; dst_prefix: string }
  | { event: 'object'; src: string; dst: string; size: number }
  | { event: 'error'; src?: string; dst?: string; code: string; message: string }
  | { event: 'done'; copied: number; failed: number; bytes: number; cancelled?: boolean }

export const BUCKET_PATH = '/api/backends/:bid/buckets/:bucket'
