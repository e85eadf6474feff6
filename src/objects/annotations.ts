// SPDX-License-Identifier: AGPL-3.0-or-later
/** Tags, user metadata and versions of one object; the deleted keys of a folder. */
import type { Listing } from '../access/view.ts'
import type { AuditOrigin } from '../audit/model.ts'
import { fail } from '../http/errors.ts'
import { storage } from '../storage/errors.ts'
import { validateKey, validateListPrefix } from '../storage/validate.ts'
import { audited } from './audit.ts'
import { objectDTO, type DeletedKeysDTO, type ObjectDTO, type VersionsDTO } from './model.ts'
import { validateMetadata, validateTags } from './rules.ts'
import type { ObjectDeps, Target } from './target.ts'

const NO_SUCH_OBJECT = 'No such object.'
const version = (v?: string): { versionId?: string } => (v ? { versionId: v } : {})

function requireTagging(t: Target): void {
  if (!t.backend.capabilities.tagging) throw fail('not_supported', 'This backend does not support object tags.')
}

export async function getTags(d: ObjectDeps, t: Target, key: string, versionId?: string): Promise<{ tags: Record<string, string> }> {
  validateKey(key)
  requireTagging(t)
  return { tags: await storage(t.backend.getObjectTags(t.bucket, key, version(versionId)), d.logger, { notFound: NO_SUCH_OBJECT }) }
}

export function setTags(d: ObjectDeps, t: Target, origin: AuditOrigin, key: string, tags: Record<string, string>, versionId?: string): Promise<void> {
  validateKey(key)
  validateTags(tags)
  requireTagging(t)
  return audited(
    d.audit,
    origin,
    { action: 'object.tags.set', backend: t.bid, bucket: t.bucket, key, detail: { tags, ...(versionId ? { version_id: versionId } : {}) } },
    () => storage(t.backend.putObjectTags(t.bucket, key, tags, version(versionId)), d.logger, { notFound: NO_SUCH_OBJECT, invalid: 'invalid_tag' }),
  )
}

/**
 * Replaces the user metadata by copying the object onto itself. Every driver's
 * copy keeps the content type when only the metadata is replaced (the
 * original reset it); other system headers (Cache-Control,
 * Content-Disposition…) are kept as far as the driver's copy keeps them.
 */
export function setMetadata(
  d: ObjectDeps,
  t: Target,
  origin: AuditOrigin,
  key: string,
  metadata: Record<string, string>,
  signal?: AbortSignal,
): Promise<ObjectDTO> {
  validateKey(key)
  const clean = validateMetadata(metadata)
  return audited(d.audit, origin, { action: 'object.metadata.set', backend: t.bid, bucket: t.bucket, key, detail: { metadata: clean } }, async () =>
    objectDTO(
      await storage(t.backend.copyObject({ bucket: t.bucket, key }, { bucket: t.bucket, key }, { metadata: clean, signal }), d.logger, {
        notFound: NO_SUCH_OBJECT,
        invalid: 'invalid_metadata',
      }),
    ),
  )
}

export async function listVersions(d: ObjectDeps, t: Target, key: string): Promise<VersionsDTO> {
  validateKey(key)
  if (!t.backend.capabilities.versioning) throw fail('not_supported', 'This backend does not keep object versions.')
  const versions = await storage(t.backend.listObjectVersions(t.bucket, key), d.logger)
  return {
    versions: versions.map((v) => ({
      key: v.key,
      version_id: v.versionId,
      is_latest: v.isLatest,
      ...(v.isDeleteMarker ? { is_delete_marker: true } : {}),
      size: v.size,
      ...(v.etag ? { etag: v.etag } : {}),
      ...(v.storageClass ? { storage_class: v.storageClass } : {}),
      ...(v.lastModified ? { last_modified: v.lastModified.toISOString() } : {}),
    })),
  }
}

/**
 * Whether deletes can be undone here, and what was deleted directly under
 * `prefix` (empty where the backend keeps no versions). Above granted folders
 * (the listing shows only the way down to them), nothing deleted there is the
 * caller's to see.
 */
export async function listDeletedKeys(d: ObjectDeps, t: Target, prefix: string, listing: Listing | undefined): Promise<DeletedKeysDTO> {
  validateListPrefix(prefix)
  if (!t.backend.capabilities.versioning) return { versioned: false, deleted: [] }
  const [versioned, markers] = await Promise.all([
    storage(t.backend.getVersioning(t.bucket), d.logger),
    listing?.mode === 'within' ? [] : storage(t.backend.listDeletedKeys(t.bucket, prefix), d.logger),
  ])
  return {
    versioned,
    deleted: markers.map((m) => ({ key: m.key, version_id: m.versionId, ...(m.lastModified ? { last_modified: m.lastModified.toISOString() } : {}) })),
  }
}
