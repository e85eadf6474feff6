// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * An app on one storage kind — the fs driver in a temp dir, or the real Ceph
 * RGW — with an admin, a user and a readonly client and a fresh bucket
 * created through the API. Every object and bucket suite runs once per kind.
 */
import { rmSync } from 'node:fs'
import type { Backend } from '../../src/backends/backend.ts'
import type { AppOptions } from '../../src/app.ts'
import { testApp, type Client, type TestApp } from '../helpers/app.ts'
import { backendDoc, KINDS, type Kind } from '../helpers/kinds.ts'

export { KINDS, type Kind }

let n = 0
/** A fresh bucket name, unique across runs (RGW keeps buckets between runs if a test dies). */
export function bucketName(tag: string): string {
  return `o-${tag}-${Date.now().toString(36)}-${(++n).toString(36)}${Math.random().toString(36).slice(2, 6)}`.slice(0, 63)
}

export type Env = {
  t: TestApp
  kind: Kind
  bid: string
  admin: Client
  user: Client
  reader: Client
  bucket: string
  /** `/api/backends/<bid>/buckets/<bucket>` */
  base: string
  backend(id?: string): Backend
  /** Creates another bucket through the API (removed by close()). */
  newBucket(tag: string, bid?: string): Promise<string>
  /** Raw upload through the API as the user; returns the response. */
  put(key: string, body: string | Uint8Array, opts?: { bucket?: string; type?: string; headers?: Record<string, string> }): Promise<Response>
  close(): Promise<void>
}

async function emptyAndDelete(backend: Backend, bucket: string): Promise<void> {
  try {
    for (const u of await backend.listMultipartUploads(bucket, {})) await backend.abortMultipartUpload(bucket, u.key, u.uploadId).catch(() => {})
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
    // Already gone.
  }
}

/**
 * An app with the `kind` backend as `bid`, plus `also` backends (used by the
 * cross-backend tests), and one bucket on `bid`.
 */
export async function objectEnv(
  kind: Kind,
  o: { also?: Array<{ kind: Kind; id: string }>; app?: Record<string, unknown>; opts?: AppOptions } = {},
): Promise<Env> {
  const bid = kind === 'fs' ? 'local' : 'rgw'
  const specs = [{ kind, id: bid }, ...(o.also ?? [])].map((s) => backendDoc(s.kind, s.id))
  const t = await testApp(
    { backends: specs.map((s) => s.doc), ratelimit: { api_per_minute: 0 }, quotas: { scan_interval: '0' }, ...o.app },
    { env: Object.assign({}, ...specs.map((s) => s.env)), ...o.opts },
  )
  const [admin, user, reader] = [await t.user('admin'), await t.user('user'), await t.user('readonly')]
  const created: Array<{ bid: string; bucket: string }> = []
  const newBucket = async (tag: string, on = bid): Promise<string> => {
    const name = bucketName(tag)
    const res = await t.call('POST', `/api/backends/${on}/buckets`, { as: admin, json: { name } })
    if (res.status !== 201) throw new Error(`bucket create failed: ${res.status} ${await res.text()}`)
    created.push({ bid: on, bucket: name })
    return name
  }
  const bucket = await newBucket(kind)
  const base = `/api/backends/${bid}/buckets/${bucket}`
  return {
    t,
    kind,
    bid,
    admin,
    user,
    reader,
    bucket,
    base,
    backend: (id = bid) => t.s.registry.get(id),
    newBucket,
    put: (key, body, p = {}) =>
      t.call('POST', `/api/backends/${bid}/buckets/${p.bucket ?? bucket}/object?key=${encodeURIComponent(key)}`, {
        as: user,
        body: body as BodyInit,
        headers: {
          'content-type': p.type ?? 'application/octet-stream',
          'content-length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength),
          ...p.headers,
        },
      }),
    async close() {
      for (const c of created) await emptyAndDelete(t.s.registry.get(c.bid), c.bucket)
      await t.close()
      for (const s of specs) if (s.root) rmSync(s.root, { recursive: true, force: true })
    },
  }
}

/** `?key=…` with the key encoded. */
export const q = (key: string, extra = ''): string => `?key=${encodeURIComponent(key)}${extra}`

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  const text = await res.text()
  try {
    return JSON.parse(text) as T
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 200)}`)
  }
}

export async function ndjson(res: Response): Promise<Array<Record<string, unknown>>> {
  return (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** The audit rows of one action, newest first, after flushing the queue. */
export async function auditRows(
  t: TestApp,
  action: string,
): Promise<Array<{ action: string; status: string; key: string | null; bucket: string | null; detail: Record<string, unknown> }>> {
  await t.s.audit.flush()
  return (
    (await t.s.db.all('SELECT action, status, object_key AS key, bucket, detail FROM audit_events WHERE action = ? ORDER BY id DESC', [action])) as Array<{
      action: string
      status: string
      key: string | null
      bucket: string | null
      detail: string | null
    }>
  ).map((r) => ({ ...r, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : {} }))
}
