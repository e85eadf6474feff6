// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A test app on one storage backend — the fs driver in a temp dir, or the
 * real Ceph RGW — plus helpers that create buckets and objects directly on
 * the backend (as another S3 client would, bypassing Stowage's accounting)
 * and clean them up afterwards. Shared by the quota, size, settings, pin,
 * search and dashboard suites, which all run against both kinds.
 */
import { rmSync } from 'node:fs'
import type { Backend } from '../../src/backends/backend.ts'
import type { AppOptions } from '../../src/app.ts'
import { testApp, type TestApp } from '../helpers/app.ts'
import { backendDoc, KINDS, type Kind } from '../helpers/kinds.ts'
import { testBucket } from '../helpers/s3.ts'

export { backendDoc, KINDS, type Kind }

export type StorageApp = {
  t: TestApp
  kind: Kind
  bid: string
  backend(): Backend
  /** Creates a fresh bucket directly on the backend; removed in cleanup(). */
  bucket(tag: string): Promise<string>
  /** Writes an object directly on the backend (not through Stowage). */
  put(bucket: string, key: string, data: string | Uint8Array): Promise<void>
  /** `/api/backends/<bid>/buckets/<bucket>` */
  base(bucket: string): string
  cleanup(): Promise<void>
}

export async function emptyAndDelete(backend: Backend, bucket: string): Promise<void> {
  try {
    for (;;) {
      const page = await backend.listObjects(bucket, { delimiter: '', maxKeys: 1000 })
      if (page.objects.length > 0)
        await backend.deleteObjects(
          bucket,
          page.objects.map((o) => ({ key: o.key })),
        )
      if (!page.isTruncated) break
    }
    await backend.deleteBucket(bucket)
  } catch {
    // Already gone, or a test broke the backend on purpose.
  }
}

export async function storageApp(
  kind: Kind,
  opts: { doc?: Record<string, unknown>; extraBackends?: Array<Record<string, unknown>>; env?: Record<string, string>; app?: AppOptions } = {},
): Promise<StorageApp> {
  const b = backendDoc(kind)
  const doc = { quotas: { scan_interval: '0' }, ratelimit: { api_per_minute: 0 }, ...opts.doc, backends: [b.doc, ...(opts.extraBackends ?? [])] }
  const t = await testApp(doc, { ...opts.app, env: { ...b.env, ...opts.env } })
  const bid = b.doc.id as string
  const created: string[] = []
  const backend = (): Backend => t.s.registry.get(bid)
  return {
    t,
    kind,
    bid,
    backend,
    async bucket(tag) {
      const name = testBucket(tag)
      await backend().createBucket(name)
      created.push(name)
      return name
    },
    async put(bucket, key, data) {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data
      await backend().putObject(bucket, key, new Blob([new Uint8Array(bytes)]).stream(), { size: bytes.byteLength })
    },
    base: (bucket) => `/api/backends/${bid}/buckets/${bucket}`,
    async cleanup() {
      const be = t.s.registry.entry(bid)?.backend
      if (be) for (const name of created) await emptyAndDelete(be, name)
      await t.close()
      if (b.root) rmSync(b.root, { recursive: true, force: true })
    },
  }
}

/** Polls until `check` returns a value (not undefined), or fails after `ms`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > until) throw new Error('condition not met in time')
    await Bun.sleep(50)
  }
}
