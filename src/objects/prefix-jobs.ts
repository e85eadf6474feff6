// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Recursive delete and copy under a prefix, streamed as NDJSON progress:
 * delete-prefix `start{prefix}` · `object{key}` · `error{key,code,message}` ·
 * `done{deleted,failed,cancelled?}`; copy-prefix `start{src_prefix,dst_prefix}`
 * · `object{src,dst,size}` · `error{src,dst,code,message}` ·
 * `done{copied,failed,bytes,cancelled?}`. Both stop when the client goes away
 * and say so in `done` and in the audit row, which lists the keys touched (up
 * to AUDIT_KEYS) and every failure (up to the same bound). `done` is sent only
 * once that row is committed; when it cannot be, the stream ends without it.
 */
import type { AuditOrigin, AuditStatus } from '../audit/model.ts'
import type { ObjectInfo } from '../backends/backend.ts'
import { fail } from '../http/errors.ts'
import { storage, storageError } from '../storage/errors.ts'
import { keyProblem, validatePrefix } from '../storage/validate.ts'
import { copyOne } from './copy.ts'
import type { CopyPrefixEvent, DeletePrefixEvent } from './model.ts'
import { eachLimited, ndjsonResponse } from './ndjson.ts'
import { recordDelete } from './quota.ts'
import { validateMetadata } from './rules.ts'
import { destination, type ObjectDeps, type Target } from './target.ts'

const AUDIT_KEYS = 1000
const COPY_CONCURRENCY = 4

async function requireBucket(d: ObjectDeps, t: Target): Promise<void> {
  if (!(await storage(t.backend.bucketExists(t.bucket), d.logger))) throw fail('not_found', 'No such bucket.')
}

/** Lists everything under `prefix`, page by page, until done or stopped. */
async function* walk(d: ObjectDeps, t: Target, prefix: string, signal: AbortSignal): AsyncGenerator<ObjectInfo[]> {
  let token: string | undefined
  do {
    if (signal.aborted) return
    const page = await storage(t.backend.listObjects(t.bucket, { prefix, delimiter: '', maxKeys: 1000, ...(token ? { token } : {}) }), d.logger)
    yield page.objects
    token = page.isTruncated ? page.nextToken : undefined
  } while (token)
}

function bounded<T>(list: T[], item: T): void {
  if (list.length < AUDIT_KEYS) list.push(item)
}

export async function deletePrefix(d: ObjectDeps, t: Target, origin: AuditOrigin, prefix: string, client: AbortSignal): Promise<Response> {
  if (prefix === '') throw fail('invalid_prefix', 'Refusing to delete a whole bucket: give a folder prefix.', [{ path: '/prefix' }])
  validatePrefix(prefix)
  await requireBucket(d, t)
  return ndjsonResponse<DeletePrefixEvent>(
    async (emit, signal) => {
      const keys: string[] = []
      const failures: Array<{ key: string; code: string }> = []
      let deleted = 0
      let failed = 0
      let status: AuditStatus = 'ok'
      await emit({ event: 'start', prefix })
      try {
        for await (const objects of walk(d, t, prefix, signal)) {
          if (signal.aborted || objects.length === 0) continue
          const sizes = new Map(objects.map((o) => [o.key, o.size]))
          const out = await storage(
            t.backend.deleteObjects(
              t.bucket,
              objects.map((o) => ({ key: o.key })),
            ),
            d.logger,
          )
          let bytes = 0
          for (const x of out.deleted) {
            deleted++
            bytes += sizes.get(x.key) ?? 0
            bounded(keys, x.key)
            await emit({ event: 'object', key: x.key })
          }
          for (const e of out.errors) {
            failed++
            bounded(failures, { key: e.key, code: e.code || 'delete_failed' })
            await emit({ event: 'error', key: e.key, code: e.code || 'delete_failed', message: 'The backend could not delete this object.' })
          }
          await recordDelete(d.accounting, t, bytes, out.deleted.length)
        }
      } catch (err) {
        const e = storageError(err)
        status = 'error'
        await emit({ event: 'error', code: e.code === 'not_found' ? e.code : 'list_failed', message: e.message })
      }
      const cancelled = signal.aborted
      await d.audit.record({
        ...origin,
        action: 'object.delete_prefix',
        backend: t.bid,
        bucket: t.bucket,
        key: prefix,
        status: status === 'ok' && failed > 0 ? 'error' : status,
        detail: { prefix, deleted, failed, cancelled, keys, keys_truncated: deleted > keys.length, failures },
      })
      await emit({ event: 'done', deleted, failed, ...(cancelled ? { cancelled: true } : {}) })
    },
    client,
    d.logger,
  )
}

export type CopyPrefixRequest = { src_prefix: string; dst_prefix: string; dst_bucket?: string; dst_backend?: string; metadata?: Record<string, string> }

export async function copyPrefix(d: ObjectDeps, src: Target, origin: AuditOrigin, body: CopyPrefixRequest, client: AbortSignal): Promise<Response> {
  validatePrefix(body.src_prefix, 'src_prefix')
  validatePrefix(body.dst_prefix, 'dst_prefix')
  const metadata = body.metadata ? validateMetadata(body.metadata) : undefined
  const dst = destination(d.registry, src, { backend: body.dst_backend, bucket: body.dst_bucket })
  if (dst.bid === src.bid && dst.bucket === src.bucket && body.dst_prefix.startsWith(body.src_prefix)) {
    throw fail('invalid_prefix', 'The destination is inside the source; the copy would never end.', [{ path: '/dst_prefix' }])
  }
  await requireBucket(d, src)
  if (dst.bid !== src.bid || dst.bucket !== src.bucket) await requireBucket(d, dst)
  const cross = dst.bid !== src.bid
  return ndjsonResponse<CopyPrefixEvent>(
    async (emit, signal) => {
      const keys: string[] = []
      const failures: Array<{ src: string; code: string }> = []
      let copied = 0
      let failed = 0
      let bytes = 0
      let status: AuditStatus = 'ok'
      await emit({ event: 'start', src_prefix: body.src_prefix, dst_prefix: body.dst_prefix })
      const one = async (o: ObjectInfo): Promise<void> => {
        const dstKey = body.dst_prefix + o.key.slice(body.src_prefix.length)
        const problem = keyProblem(dstKey)
        try {
          if (problem) throw fail('invalid_key', `The destination key is not valid: ${problem}.`)
          const { size } = await copyOne(d, src, o.key, dst, dstKey, { info: o, ...(metadata ? { metadata } : {}), signal })
          copied++
          bytes += size
          bounded(keys, o.key)
          await emit({ event: 'object', src: o.key, dst: dstKey, size })
        } catch (err) {
          if (signal.aborted) return
          const e = storageError(err)
          failed++
          bounded(failures, { src: o.key, code: e.code })
          await emit({ event: 'error', src: o.key, dst: dstKey, code: e.code, message: e.message })
        }
      }
      try {
        for await (const objects of walk(d, src, body.src_prefix, signal)) await eachLimited(objects, COPY_CONCURRENCY, signal, one)
      } catch (err) {
        const e = storageError(err)
        status = 'error'
        await emit({ event: 'error', code: 'list_failed', message: e.message })
      }
      const cancelled = signal.aborted
      await d.audit.record({
        ...origin,
        action: cross ? 'object.transfer_prefix' : 'object.copy_prefix',
        backend: src.bid,
        bucket: src.bucket,
        key: body.src_prefix,
        status: status === 'ok' && failed > 0 ? 'error' : status,
        detail: {
          src_prefix: body.src_prefix,
          dst_prefix: body.dst_prefix,
          dst_backend: dst.bid,
          dst_bucket: dst.bucket,
          copied,
          failed,
          bytes,
          cancelled,
          keys,
          keys_truncated: copied > keys.length,
          failures,
        },
      })
      await emit({ event: 'done', copied, failed, bytes, ...(cancelled ? { cancelled: true } : {}) })
    },
    client,
    d.logger,
  )
}
