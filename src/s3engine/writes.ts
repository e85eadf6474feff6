// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * PutObject (and PostObject, which the pipeline hands over as a PUT built
 * from the form), DeleteObject and DeleteObjects.
 *
 * A PUT streams its body into the driver, which commits nothing until the
 * whole body has arrived and every digest matched: Content-MD5, an
 * `x-amz-checksum-*` header, or the aws-chunked trailer the pipeline's
 * decoder has already verified (the driver computes the same algorithm and
 * stores it). Without Content-Type the object is `binary/octet-stream`, as
 * in S3. If-Match and If-None-Match are checked against the object the key
 * holds at the moment the new one replaces it.
 */
import { children, textOf } from '../s3/xml.ts'
import type { S3Reply } from '../s3proxy/call.ts'
import { bodyStream, parseDocument, readDocument } from './body.ts'
import { checkVersionId, emptyReply, keyOf, versionOf, writtenVersion, xmlReply, type OpContext } from './context.ts'
import { malformedXml, s3Failure } from './errors.ts'
import { expirationHeader } from './expiration.ts'
import { checksumOf, contentHeadersOf, md5Of, metadataOf, putConditions, refuseUnsupported, taggingOf } from './headers.ts'
import { doc, el, text, wrap } from './xml.ts'

/** DeleteObjects takes up to 1000 keys of up to 1 KiB each, plus the markup. */
const DELETE_DOCUMENT_LIMIT = 2 * 1024 * 1024

export async function putObject(c: OpContext): Promise<S3Reply> {
  const h = c.call.headers
  refuseUnsupported(h)
  const conditions = putConditions(h)
  const checksum = checksumOf(h)
  const md5 = md5Of(h)
  const tags = taggingOf(h)
  const { stream, size } = bodyStream(c.call.body)
  let done
  try {
    done = await c.backend.putObject(c.bucket, keyOf(c), stream, {
      size,
      contentType: h.get('content-type') ?? 'binary/octet-stream',
      metadata: metadataOf(h),
      headers: contentHeadersOf(h),
      ...(tags ? { tags } : {}),
      ...(md5 !== undefined ? { md5 } : {}),
      ...(checksum ? { checksum } : {}),
      ...conditions,
      signal: c.call.signal,
    })
  } catch (err) {
    throw s3Failure(err)
  }
  const headers: Record<string, string> = {
    etag: done.etag,
    ...writtenVersion(done.versionId),
    ...(await expirationHeader(c, { size: done.size ?? size ?? 0, lastModified: done.lastModified, tags: tags ?? {} })),
  }
  if (done.checksum) {
    headers[`x-amz-checksum-${done.checksum.algorithm}`] = done.checksum.value
    headers['x-amz-checksum-type'] = done.checksum.type
  }
  return emptyReply(200, headers)
}

export async function deleteObject(c: OpContext): Promise<S3Reply> {
  const versionId = versionOf(c)
  let done
  try {
    done = await c.backend.deleteObject(c.bucket, keyOf(c), versionId !== undefined ? { versionId } : {})
  } catch (err) {
    throw s3Failure(err)
  }
  const headers: Record<string, string> = {}
  if (done.versionId !== undefined) headers['x-amz-version-id'] = done.versionId
  if (done.deleteMarker) headers['x-amz-delete-marker'] = 'true'
  return emptyReply(204, headers)
}

type Requested = { key: string; versionId?: string }

function parseDelete(bytes: Uint8Array): { quiet: boolean; objects: Requested[] } {
  const root = parseDocument(bytes, 'Delete')
  const objects = children(root, 'Object').map((o) => {
    const key = textOf(o, 'Key')
    if (key === undefined || key === '') throw malformedXml()
    const versionId = textOf(o, 'VersionId')
    return versionId ? { key, versionId: checkVersionId(versionId) } : { key }
  })
  if (objects.length === 0 || objects.length > 1000) throw malformedXml()
  return { quiet: (textOf(root, 'Quiet') ?? '').trim().toLowerCase() === 'true', objects }
}

/** DeleteObjects: each key deleted (a missing one counts as deleted), verbose or quiet. */
export async function deleteObjects(c: OpContext): Promise<S3Reply> {
  const { quiet, objects } = parseDelete(await readDocument(c.call.body, DELETE_DOCUMENT_LIMIT, md5Of(c.call.headers)))
  let result
  try {
    result = await c.backend.deleteObjects(c.bucket, objects)
  } catch (err) {
    throw s3Failure(err)
  }
  let inner = ''
  if (!quiet)
    for (const d of result.deleted) {
      const marker = d.deleteMarker ? el('DeleteMarker', true) + el('DeleteMarkerVersionId', d.deleteMarkerVersionId ?? '') : ''
      inner += wrap('Deleted', el('Key', d.key) + (d.versionId ? el('VersionId', d.versionId) : '') + marker)
    }
  for (const e of result.errors)
    inner += wrap('Error', el('Key', e.key) + (e.versionId ? el('VersionId', e.versionId) : '') + el('Code', e.code) + `<Message>${text(e.message)}</Message>`)
  return xmlReply(doc('DeleteResult', inner))
}
