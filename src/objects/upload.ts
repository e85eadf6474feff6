// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Single-request uploads and folder placeholders. Two request shapes share one
 * write path:
 * - raw: `POST …/object?key=…` with the bytes as the body, `Content-Type` the
 *   object's type and `Content-Length` required; streamed to the backend with
 *   no size limit (use it from the UI);
 * - form: multipart/form-data with `file`, `key`?, `content_type`?; read as a
 *   stream, the file spooled (memory, then a temp file), limited to
 *   FORM_UPLOAD_MAX bytes. Without `?key=` the key comes from the form, so
 *   the caller needs read-write on the whole bucket (access/needs.ts).
 * Quota is asked before any byte moves and usage adjusted after.
 */
import type { AuditOrigin } from '../audit/model.ts'
import { fail } from '../http/errors.ts'
import { storage } from '../storage/errors.ts'
import { validateKey } from '../storage/validate.ts'
import { audited } from './audit.ts'
import { readForm } from './form-data.ts'
import { objectDTO, type ObjectDTO } from './model.ts'
import { assertWrite, priorSize, recordWrite, type Prior } from './quota.ts'
import { declaredLength, emptyStream, exactLength } from './streams.ts'
import { headOrNull, type ObjectDeps, type Target } from './target.ts'

const MiB = 1024 * 1024
export const FORM_UPLOAD_MAX = 64 * MiB

const CONTENT_TYPE = /^[\x21-\x7e]+\/[\x21-\x7e]+(\s*;[\x20-\x7e]*)?$/

function contentTypeOf(...candidates: Array<string | undefined | null>): string {
  for (const c of candidates) {
    const v = c?.trim()
    if (!v) continue
    if (v.length > 255 || !CONTENT_TYPE.test(v)) throw fail('bad_request', 'The content type is not valid.')
    return v
  }
  return 'application/octet-stream'
}

type Write = {
  key: string
  body: ReadableStream<Uint8Array> | null
  size: number
  contentType: string
  ifNoneMatch: boolean
  signal: AbortSignal
}

/** The shared write: conflict check, quota, exact-length streaming put, usage update. */
async function write(d: ObjectDeps, t: Target, w: Write): Promise<ObjectDTO> {
  let prior: Prior
  if (w.ifNoneMatch) {
    if (await headOrNull(t, w.key, d.logger, { bucketKnown: true })) throw fail('object_exists')
    prior = null
  } else {
    prior = await priorSize(d.accounting, t, w.key, d.logger)
  }
  await assertWrite(d.accounting, t, w.size, prior)
  const body = exactLength(w.body, w.size)
  let put
  try {
    put = await storage(
      t.backend.putObject(t.bucket, w.key, body.stream, {
        size: w.size,
        contentType: w.contentType,
        ...(w.ifNoneMatch ? { ifNoneMatch: '*' as const } : {}),
        signal: w.signal,
      }),
      d.logger,
      { precondition: 'object_exists', clientFault: () => body.problem() !== undefined || w.signal.aborted },
    )
  } catch (err) {
    const problem = body.problem()
    if (problem) throw problem
    if (w.signal.aborted) throw fail('bad_request', 'The upload was interrupted.')
    throw err
  }
  await recordWrite(d.accounting, t, w.size, prior)
  const written = { key: w.key, size: w.size, contentType: w.contentType, ...put }
  // A driver that does not say when it wrote (a local disk) is asked; that costs no upstream call.
  return objectDTO(put.lastModified ? written : ((await headOrNull(t, w.key, d.logger, { bucketKnown: true }).catch(() => null)) ?? written))
}

export type UploadRequest = {
  query: { key?: string; content_type?: string }
  headers: Headers
  body: ReadableStream<Uint8Array> | null
  signal: AbortSignal
}

/** POST …/object in either shape (chosen by the request's Content-Type). */
export async function upload(d: ObjectDeps, t: Target, origin: AuditOrigin, req: UploadRequest): Promise<ObjectDTO> {
  const type = req.headers.get('content-type') ?? ''
  const ifNoneMatch = req.headers.get('if-none-match')?.trim() === '*'
  if (/^multipart\/form-data\b/i.test(type)) return uploadForm(d, t, origin, req, type, ifNoneMatch)
  const key = req.query.key
  if (key === undefined) throw fail('bad_request', 'Give the object key in the `key` query parameter.', [{ path: '/key', message: 'required' }])
  validateKey(key)
  const size = declaredLength(req.headers)
  if (size === undefined) throw fail('length_required')
  const contentType = contentTypeOf(req.query.content_type, type)
  return audited(
    d.audit,
    origin,
    { action: 'object.upload', backend: t.bid, bucket: t.bucket, key, detail: { size, content_type: contentType, via: 'raw' } },
    () => write(d, t, { key, body: req.body, size, contentType, ifNoneMatch, signal: req.signal }),
  )
}

async function uploadForm(d: ObjectDeps, t: Target, origin: AuditOrigin, req: UploadRequest, type: string, ifNoneMatch: boolean): Promise<ObjectDTO> {
  const declared = declaredLength(req.headers)
  if (declared !== undefined && declared > FORM_UPLOAD_MAX + MiB)
    throw fail('too_large', `Form uploads are limited to ${FORM_UPLOAD_MAX} bytes; use the raw upload or multipart for larger files.`, {
      limit: FORM_UPLOAD_MAX,
    })
  const form = await readForm(req.body, type, { fileBytes: FORM_UPLOAD_MAX, fieldBytes: 8 * 1024, totalBytes: FORM_UPLOAD_MAX + MiB, fileField: 'file' })
  try {
    if (!form.file) throw fail('bad_request', 'The form has no `file` part.', [{ path: '/file', message: 'required' }])
    const named = form.fields.get('key')
    // The guard checked `?key=` (or the whole bucket without it): the key it checked is the key written.
    if (req.query.key !== undefined && named && named !== req.query.key)
      throw fail('bad_request', 'The form names another key than `?key=`; give the key once.', [{ path: '/key', message: 'differs from the query' }])
    const key = validateKey(req.query.key ?? (named || form.file.filename))
    const contentType = contentTypeOf(form.fields.get('content_type'), req.query.content_type, form.file.contentType)
    const size = form.file.spool.size
    const body = await form.file.spool.stream()
    return await audited(
      d.audit,
      origin,
      { action: 'object.upload', backend: t.bid, bucket: t.bucket, key, detail: { size, content_type: contentType, via: 'form' } },
      () => write(d, t, { key, body, size, contentType, ifNoneMatch, signal: req.signal }),
    )
  } finally {
    await form.file?.spool.dispose()
  }
}

/** POST …/objects/folder: a zero-byte `key/` placeholder. */
export function createFolder(d: ObjectDeps, t: Target, origin: AuditOrigin, key: string, signal: AbortSignal): Promise<ObjectDTO> {
  const folder = validateKey(key.endsWith('/') ? key : `${key}/`)
  return audited(d.audit, origin, { action: 'object.folder', backend: t.bid, bucket: t.bucket, key: folder }, () =>
    write(d, t, { key: folder, body: emptyStream(), size: 0, contentType: 'application/x-directory', ifNoneMatch: false, signal }),
  )
}
