// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Quotas and usage for writes through the S3 listener, whichever path serves
 * them. Before any body byte is read (`admit`), the bucket's hard cap is
 * checked for PutObject (and a POST Object, once its file is spooled),
 * UploadPart, CopyObject and UploadPartCopy (source size from the copy range
 * or a HEAD), and CompleteMultipartUpload (the sum of the uploaded parts); a
 * refusal is 507 QuotaExceeded. DeleteObjects' listed keys are sized once
 * its document is read (`measure`). After a successful write or delete
 * (`settle`), usage is adjusted at once (when the bucket is capped or
 * size-tracked), so the dashboard and the next check see it without waiting
 * for a scan; CompleteMultipartUpload and CopyObject can fail inside a 200,
 * so their answer is read first. Only capped or tracked buckets pay for the
 * extra HEAD/ListParts calls this needs.
 */
import { BackendError, type Backend } from '../backends/backend.ts'
import { children, parseXml, textOf } from '../s3/xml.ts'
import { AppError } from '../http/errors.ts'
import type { QuotaService } from '../quotas/service.ts'
import type { S3Call, S3Reply } from './call.ts'
import type { Operation } from './classify.ts'
import { S3Error, serviceUnavailable } from './errors.ts'
import type { CopySource } from './scope.ts'

export type StorageGate = Pick<QuotaService, 'assertCanWrite' | 'writeTerms' | 'adjust'>

/** What a write will change in usage once it succeeded, decided before it runs. */
export type Pending =
  | { kind: 'adjust'; bytes: number; objects: number }
  /** DeleteObjects: the sizes of the keys its document lists (known after `measure`). */
  | { kind: 'delete-many'; sizes: Map<string, number> }

/** What `admit` needs to know about a write, all of it from the request line and headers. */
export type WritePlan = {
  op: Operation
  backendId: string
  bucket: string
  key?: string
  bytes: number
  copySource?: CopySource
  copyRange?: number
  uploadId?: string
  versionId?: string
}

type Keyed = { key: string; versionId?: string }

const MAX_DELETE_KEYS = 1000
/** Operations that change a bucket's usage (reads never pay for the lookups). */
const COUNTED: ReadonlySet<Operation> = new Set(['PutObject', 'CopyObject', 'UploadPartCopy', 'CompleteMultipartUpload', 'DeleteObject', 'DeleteObjects'])

function quotaError(err: unknown): S3Error {
  if (err instanceof S3Error) return err
  if (err instanceof AppError) {
    if (err.code === 'quota_exceeded') return new S3Error(507, 'QuotaExceeded', err.message, 'quota-exceeded')
    if (err.code === 'not_found') return new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist.', 'upstream-refused')
    return serviceUnavailable(err.message)
  }
  if (err instanceof BackendError) {
    if (err.kind === 'not_found' || err.kind === 'bucket_not_found')
      return new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', 'upstream-refused')
    if (err.kind === 'unavailable') return serviceUnavailable()
  }
  return new S3Error(502, 'InternalError', 'The storage backend failed to answer the request.', 'upstream-error')
}

function listed(doc: string, parent: string): Keyed[] {
  try {
    return children(parseXml(doc), parent).map((o) => {
      const versionId = textOf(o, 'VersionId')
      return { key: textOf(o, 'Key') ?? '', ...(versionId ? { versionId } : {}) }
    })
  } catch {
    return []
  }
}

const id = (k: Keyed): string => `${k.key}\u0000${k.versionId ?? ''}`

/** A reply's body as text, and the reply again with that body in bytes (it was read). */
async function readReply(reply: S3Reply): Promise<{ text: string; reply: S3Reply }> {
  const b = reply.body
  const bytes = b.kind === 'bytes' ? b.bytes : b.kind === 'stream' ? new Uint8Array(await new Response(b.stream).arrayBuffer()) : new Uint8Array(0)
  return { text: Buffer.from(bytes).toString('utf8'), reply: { ...reply, body: { kind: 'bytes', bytes } } }
}

export function createQuotaGate(gate: StorageGate, backendOf: (id: string) => Backend) {
  async function sizeOf(backend: Backend, bucket: string, key: string, versionId?: string): Promise<number | null> {
    try {
      // bucketKnown: the write that follows fails on a missing bucket anyway, so one HEAD will do.
      return (await backend.headObject(bucket, key, { ...(versionId ? { versionId } : {}), bucketKnown: true })).size
    } catch (err) {
      if (err instanceof BackendError && err.kind === 'not_found') return null
      throw err
    }
  }

  /** PutObject / PostObject: `bytes` replacing whatever is at `key`. */
  async function put(p: WritePlan, capped: boolean): Promise<Pending> {
    const prior = capped ? await sizeOf(backendOf(p.backendId), p.bucket, p.key!) : undefined
    if (capped) await gate.assertCanWrite(p.backendId, p.bucket, p.bytes, typeof prior === 'number' ? { replacing: prior } : undefined)
    return { kind: 'adjust', bytes: p.bytes - (prior ?? 0), objects: typeof prior === 'number' ? 0 : 1 }
  }

  /** CopyObject / UploadPartCopy: the source's size (or the copied range) is what is added. */
  async function copy(p: WritePlan, whole: boolean, capped: boolean): Promise<Pending | undefined> {
    const src = p.copySource!
    const size = p.copyRange ?? (await sizeOf(backendOf(p.backendId), src.bucket, src.key, src.versionId))
    if (size === null) throw new S3Error(404, 'NoSuchKey', 'The specified copy source does not exist.', 'upstream-refused')
    if (capped) await gate.assertCanWrite(p.backendId, p.bucket, size)
    return whole ? { kind: 'adjust', bytes: size, objects: 1 } : undefined
  }

  /**
   * CompleteMultipartUpload: the sum of the parts uploaded so far. An upload the storage no longer
   * lists adds nothing: when its object is there it may have been completed already, which RGW
   * and AWS answer with success again, so the storage decides; when not, it is NoSuchUpload.
   */
  async function complete(p: WritePlan, capped: boolean): Promise<Pending | undefined> {
    let sum = 0
    const backend = backendOf(p.backendId)
    try {
      for (const part of await backend.listParts(p.bucket, p.key!, p.uploadId!)) sum += part.size
    } catch (err) {
      if (!(err instanceof BackendError && err.kind === 'not_found')) throw err
      if ((await sizeOf(backend, p.bucket, p.key!)) !== null) return undefined
      throw new S3Error(404, 'NoSuchUpload', 'The specified multipart upload does not exist.', 'upstream-refused')
    }
    if (capped) await gate.assertCanWrite(p.backendId, p.bucket, sum)
    return { kind: 'adjust', bytes: sum, objects: 1 }
  }

  /** DeleteObject: the size that will be freed, when known. */
  async function remove(p: WritePlan): Promise<Pending | undefined> {
    const size = await sizeOf(backendOf(p.backendId), p.bucket, p.key!, p.versionId)
    return size === null ? undefined : { kind: 'adjust', bytes: -size, objects: -1 }
  }

  async function adjust(bid: string, bucket: string, bytes: number, objects: number): Promise<void> {
    if (bytes !== 0 || objects !== 0) await gate.adjust(bid, bucket, bytes, objects)
  }

  return {
    /** The cap check (and the later adjustment) for one write, before its body is read; failures come out as S3 errors. */
    async admit(p: WritePlan): Promise<Pending | undefined> {
      try {
        if (p.op !== 'UploadPart' && !COUNTED.has(p.op)) return undefined
        const terms = await gate.writeTerms(p.backendId, p.bucket)
        const capped = terms.hardBytes > 0
        if (p.op === 'UploadPart') {
          // Only the cap matters: usage grows when the upload completes.
          if (capped) await gate.assertCanWrite(p.backendId, p.bucket, p.bytes)
          return undefined
        }
        if (!terms.counted) return undefined
        switch (p.op) {
          case 'PutObject':
            return await put(p, capped)
          case 'CopyObject':
          case 'UploadPartCopy':
            return await copy(p, p.op === 'CopyObject', capped)
          case 'CompleteMultipartUpload':
            return await complete(p, capped)
          case 'DeleteObject':
            return await remove(p)
          case 'DeleteObjects':
            return { kind: 'delete-many', sizes: new Map() }
          default:
            return undefined
        }
      } catch (err) {
        throw quotaError(err)
      }
    },

    /** DeleteObjects: sizes of the keys its (whole) document lists, looked up 16 at a time. */
    async measure(call: S3Call, pending: Pending | undefined): Promise<void> {
      if (pending?.kind !== 'delete-many' || call.body.kind !== 'whole') return
      const requested = listed(Buffer.from(call.body.bytes).toString('utf8'), 'Object')
      if (requested.length > MAX_DELETE_KEYS)
        throw new S3Error(400, 'MalformedXML', `At most ${MAX_DELETE_KEYS} keys can be deleted in one request.`, 'bad-request')
      const backend = backendOf(call.backendId)
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < requested.length) {
          const k = requested[next++]!
          const size = await sizeOf(backend, call.bucket, k.key, k.versionId).catch(() => null)
          if (size !== null) pending.sizes.set(id(k), size)
        }
      }
      await Promise.all(Array.from({ length: Math.min(16, requested.length) }, worker))
    },

    /** Adjusts usage after a success; returns the reply (read whole when its body had to be looked at). */
    async settle(call: S3Call, reply: S3Reply, pending: Pending | undefined): Promise<S3Reply> {
      if (!pending || reply.status >= 300) return reply
      if (pending.kind === 'adjust') {
        // CompleteMultipartUpload and CopyObject can fail inside a 200, with an <Error> document.
        if (call.op !== 'CompleteMultipartUpload' && call.op !== 'CopyObject') {
          await adjust(call.backendId, call.bucket, pending.bytes, pending.objects)
          return reply
        }
        const read = await readReply(reply)
        if (!read.text.includes('<Error>')) await adjust(call.backendId, call.bucket, pending.bytes, pending.objects)
        return read.reply
      }
      const read = await readReply(reply)
      let deleted = listed(read.text, 'Deleted')
      const document = call.body.kind === 'whole' ? Buffer.from(call.body.bytes).toString('utf8') : ''
      // Quiet mode lists only failures: everything else was deleted.
      if (/<Quiet>\s*true\s*<\/Quiet>/i.test(document)) {
        const failed = new Set(listed(read.text, 'Error').map(id))
        deleted = listed(document, 'Object').filter((k) => !failed.has(id(k)))
      }
      let bytes = 0
      let objects = 0
      for (const k of deleted) {
        const size = pending.sizes.get(id(k))
        if (size === undefined) continue
        bytes += size
        objects++
      }
      await adjust(call.backendId, call.bucket, -bytes, -objects)
      return read.reply
    },
  }
}
