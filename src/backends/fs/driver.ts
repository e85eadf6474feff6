// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The `fs` backend: buckets are the directories under `root`, objects are the
 * files in them, so the same folder can be served over NAS protocols and
 * browsed through Stowage. How keys map to paths is in keys.ts, where
 * metadata lives in sidecar.ts, how writes stay atomic in write.ts, listing in
 * list.ts and multipart uploads in multipart.ts.
 *
 * What a directory cannot do is not offered: no object lock, bucket policy,
 * server-side encryption, storage classes or presigned URLs. Their setters
 * throw `not_supported`; the getters answer truthfully for a bucket with no
 * policy (null).
 *
 * Versioning, lifecycle rules and bucket tags are kept by the driver
 * (bucket-rules.ts); the versions themselves beside the bucket (versions.ts).
 * A sweep applies the rules (lifecycle.ts) and aborts multipart uploads left
 * unfinished for `abandonedUploadAfterMs`; it runs when the root opens and
 * then periodically (in a fleet, on the one replica holding the sweep's
 * lease).
 */
import { access, constants, readdir } from 'node:fs/promises'
import { BackendError, type Backend, type Capabilities } from '../backend.ts'
import * as buckets from './buckets.ts'
import { closeContext, openContext, type FsContext } from './context.ts'
import { startHashing } from './hash-thread.ts'
import { fsFailure } from './errors.ts'
import * as copy from './copy.ts'
import { fsBucketRules } from './bucket-rules.ts'
import { applyLifecycle, type LifecycleOutcome } from './lifecycle.ts'
import { fromBucketRules, toBucketRules } from '../lifecycle-rules.ts'
import { listPage } from './list.ts'
import { forgetListedUnder, listedView } from './listed.ts'
import * as multipart from './multipart.ts'
import { expireUploads, listUploads } from './uploads.ts'
import * as objects from './objects.ts'
import * as deletes from './delete.ts'
import { deletedKeys, keyVersions, versionPage } from './version-list.ts'

const CAPABILITIES: Capabilities = Object.freeze({
  versioning: true,
  object_lock: false,
  lifecycle: true,
  storage_classes: false,
  bucket_policy: false,
  cors: true,
  backend_cors: false,
  tagging: true,
  server_side_encrypt: false,
  admin_api: '',
  max_multipart_parts: multipart.MAX_PARTS,
  max_part_size_bytes: multipart.MAX_PART_BYTES,
  presign: false,
  checksums: true,
})

/** The sweep runs this often, or more often for short upload ages. */
const SWEEP_EVERY_MS = 60 * 60 * 1000

function unsupported(what: string): never {
  throw new BackendError('not_supported', `${what} is not supported by the fs backend`)
}

export type FsBackendOptions = {
  id: string
  root: string
  /** Abort multipart uploads older than this; 0 or absent keeps them until aborted. */
  abandonedUploadAfterMs?: number
  /** Told about sweeps that fail, which never fail a request. */
  onSweepError?: (err: unknown) => void
  /** Told what a lifecycle pass deleted or aborted, bucket by bucket (nothing when it did nothing). */
  onLifecycle?: (outcome: LifecycleOutcome) => void
  /** The sweep's clock (ms); Date.now when absent. */
  now?: () => number
  /** Runs the sweep due now if this process is the one of those sharing the root that does; runs it when absent. */
  leased?: (intervalMs: number, sweep: () => Promise<unknown>) => Promise<unknown>
}

/**
 * A Backend over the directory `root`, which must exist. Nothing touches the
 * disk until the first call.
 *
 * @example
 * const local = createFsBackend({ id: 'local', root: '/srv/storage' })
 * await local.putObject('photos', '2024/x.jpg', file.stream(), { size: file.size })
 */
export function createFsBackend(opts: FsBackendOptions): Backend {
  const maxAge = opts.abandonedUploadAfterMs ?? 0
  const sweepEveryMs = maxAge > 0 ? Math.max(60_000, Math.min(SWEEP_EVERY_MS, maxAge / 4)) : SWEEP_EVERY_MS
  let sweeper: ReturnType<typeof setInterval> | undefined
  const sweep = (c: FsContext): void => {
    const run = async (): Promise<void> => {
      const now = (opts.now ?? Date.now)()
      if (maxAge > 0) await expireUploads(c, (u) => u.initiated < now - maxAge)
      await applyLifecycle(c, now, (outcome) => opts.onLifecycle?.(outcome))
    }
    ;(opts.leased ? opts.leased(sweepEveryMs, run) : run()).catch((err: unknown) => opts.onSweepError?.(err))
  }
  // Opened on first use and retried after a failure, so a root that is not
  // mounted yet fails calls with `unavailable` until it appears.
  let opening: Promise<FsContext> | null = null
  const ctx = (): Promise<FsContext> => {
    opening ??= openContext(opts.root).then(
      (c) => {
        // Recovery may have put sidecars in place behind what listings knew.
        forgetListedUnder(c.root)
        if (c.directIo) startHashing()
        sweep(c)
        sweeper = setInterval(() => sweep(c), sweepEveryMs)
        sweeper.unref?.()
        return c
      },
      (err: unknown) => {
        opening = null
        throw err
      },
    )
    return opening
  }
  /** Runs an operation on the opened root; unexpected filesystem errors become BackendErrors. */
  const run = async <T>(what: string, fn: (c: FsContext) => Promise<T>): Promise<T> => {
    const c = await ctx()
    try {
      return await fn(c)
    } catch (err) {
      throw fsFailure(err, what)
    }
  }
  const requireBucket = (what: string, bucket: string): Promise<void> => run(what, (c) => buckets.requireBucket(c, bucket))

  const rules = fsBucketRules(ctx)

  return {
    id: opts.id,
    kind: 'fs',
    capabilities: CAPABILITIES,
    bucketRules: rules,

    probe: () =>
      run('probe', async (c) => {
        try {
          await access(c.root, constants.R_OK | constants.W_OK | constants.X_OK)
          await readdir(c.root)
        } catch (err) {
          throw new BackendError('unavailable', 'storage root is not a readable, writable directory', { cause: err })
        }
      }),

    listBuckets: () => run('list buckets', buckets.listBuckets),
    createBucket: (name) => run('create bucket', (c) => buckets.createBucket(c, name)),
    deleteBucket: (name) => run('delete bucket', (c) => buckets.deleteBucket(c, name)),
    bucketExists: (name) => run('stat bucket', (c) => buckets.bucketExists(c, name)),

    listObjects: (bucket, listOpts) =>
      run('list objects', async (c) => {
        await buckets.requireBucket(c, bucket)
        return listPage(c.bucketDir(bucket), listOpts, listedView(c, bucket))
      }),
    headObject: (bucket, key, o) => run('head object', (c) => objects.headObject(c, bucket, key, o?.versionId)),
    getObject: (bucket, key, o) => run('get object', (c) => objects.getObject(c, bucket, key, o ?? {})),
    putObject: (bucket, key, body, o) => run('put object', (c) => objects.putObject(c, bucket, key, body, o)),
    deleteObject: (bucket, key, o) => run('delete object', (c) => deletes.deleteObject(c, bucket, key, o?.versionId)),
    deleteObjects: (bucket, keys) => run('delete objects', (c) => deletes.deleteObjects(c, bucket, keys)),
    copyObject: (src, dst, o) => run('copy object', (c) => copy.copyObject(c, src, dst, o ?? {})),

    getObjectTags: (bucket, key, o) => run('get tags', (c) => objects.getObjectTags(c, bucket, key, o?.versionId)),
    putObjectTags: (bucket, key, tags, o) => run('put tags', (c) => objects.putObjectTags(c, bucket, key, tags, o?.versionId)),
    listObjectVersions: (bucket, key) =>
      run('list versions', async (c) => {
        await objects.prepare(c, bucket, key)
        return keyVersions(c, bucket, key)
      }),
    listDeletedKeys: (bucket, prefix) =>
      run('list deleted keys', async (c) => {
        await buckets.requireBucket(c, bucket)
        return deletedKeys(c, bucket, prefix)
      }),
    listVersionPage: (bucket, o) =>
      run('list versions', async (c) => {
        await buckets.requireBucket(c, bucket)
        return versionPage(c, bucket, o)
      }),

    createMultipartUpload: (bucket, key, o) => run('create upload', (c) => multipart.createUpload(c, bucket, key, o)),
    uploadPart: (bucket, key, id, n, body, o) => run('upload part', (c) => multipart.uploadPart(c, bucket, key, id, n, body, o)),
    uploadPartCopy: (dst, src, o) => run('copy part', (c) => multipart.uploadPartCopy(c, dst, src, o ?? {})),
    completeMultipartUpload: (bucket, key, id, parts, o) => run('complete upload', (c) => multipart.completeUpload(c, bucket, key, id, parts, o)),
    abortMultipartUpload: (bucket, key, id) => run('abort upload', (c) => multipart.abortUpload(c, bucket, key, id)),
    listMultipartUploads: (bucket, o) => run('list uploads', (c) => listUploads(c, bucket, o.prefix ?? '')),
    listParts: (bucket, key, id) => run('list parts', (c) => multipart.listParts(c, bucket, key, id)),

    getVersioning: (bucket) => run('get versioning', async () => (await rules.getVersioning(bucket)) === 'Enabled'),
    setVersioning: (bucket, enabled) => run('set versioning', () => rules.setVersioning(bucket, enabled ? 'Enabled' : 'Suspended')),
    getPolicy: async (bucket) => {
      await requireBucket('get policy', bucket)
      return null
    },
    setPolicy: async (bucket) => {
      await requireBucket('set policy', bucket)
      return unsupported('bucket policy')
    },
    deletePolicy: async (bucket) => {
      await requireBucket('delete policy', bucket)
      return unsupported('bucket policy')
    },
    getLifecycle: (bucket) => run('get lifecycle', async () => fromBucketRules((await rules.getLifecycle(bucket)) ?? [])),
    setLifecycle: (bucket, given) =>
      run('set lifecycle', () => (given.length === 0 ? rules.deleteLifecycle(bucket) : rules.setLifecycle(bucket, toBucketRules(given)))),
    deleteLifecycle: (bucket) => run('delete lifecycle', () => rules.deleteLifecycle(bucket)),
    // Files on disk are served only through Stowage, so the proxy's rules are the only ones there are.
    setCors: async (bucket) => {
      await requireBucket('set CORS', bucket)
      return unsupported('backend CORS')
    },

    close: async () => {
      clearInterval(sweeper)
      if (!opening) return
      const c = await opening.catch(() => null)
      opening = null
      if (c) await closeContext(c)
    },
  }
}
