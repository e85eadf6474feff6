// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A running Stowage with the S3 proxy on real loopback ports, an RGW backend
 * (`rgw`), an fs backend (`local`), signed-in clients, and helpers to mint
 * virtual credentials through the API and to talk to the proxy with the AWS
 * SDK or hand-signed requests.
 */
import { rmSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { S3Client } from '@aws-sdk/client-s3'
import { serve, type Running } from '../../src/server.ts'
import { signRequest } from '../../src/s3/sign.ts'
import { testApp, type Client, type TestApp } from '../helpers/app.ts'
import { s3Env } from '../helpers/s3.ts'
import type { Backend } from '../../src/backends/backend.ts'
import type { Logger } from '../../src/lib/log.ts'

export type Cred = {
  access_key: string
  secret_key: string
  buckets: Array<{ bucket: string; access: string }>
  endpoint_url: string
  bucket_urls: Record<string, string>
}

export type ProxyEnv = {
  t: TestApp
  running: Running
  admin: Client
  user: Client
  reader: Client
  /** http://127.0.0.1:<proxy port> */
  endpoint: string
  rgw: Backend
  /** The directory of the `local` fs backend. */
  fsRoot: string
  /** Creates a bucket on RGW (removed, with its objects, by close()). */
  bucket(tag: string): Promise<string>
  /** Mints a credential through the admin API (or as `as` through self-service). */
  mint(body: Record<string, unknown>, as?: Client): Promise<Cred>
  sdk(cred: { access_key: string; secret_key: string }, opts?: { region?: string }): S3Client
  /** A request signed with signRequest (header auth), sent to the proxy. */
  signed(
    cred: { access_key: string; secret_key: string },
    method: string,
    path: string,
    opts?: { headers?: Record<string, string>; body?: Uint8Array | string; payloadHash?: string; now?: Date },
  ): Promise<Response>
  close(): Promise<void>
}

let n = 0
export function bucketName(tag: string): string {
  return `p-${tag}-${Date.now().toString(36)}-${(++n).toString(36)}${Math.random().toString(36).slice(2, 6)}`.slice(0, 63)
}

export async function emptyBucket(b: Backend, bucket: string): Promise<void> {
  try {
    for (const u of await b.listMultipartUploads(bucket, {})) await b.abortMultipartUpload(bucket, u.key, u.uploadId).catch(() => {})
    for (;;) {
      const page = await b.listObjects(bucket, { delimiter: '', maxKeys: 1000 })
      if (page.objects.length > 0)
        await b.deleteObjects(
          bucket,
          page.objects.map((o) => ({ key: o.key })),
        )
      if (!page.isTruncated) break
    }
    await b.deleteBucket(bucket)
  } catch {
    // Already gone.
  }
}

export async function proxyEnv(
  o: { s3_proxy?: Record<string, unknown>; app?: Record<string, unknown>; now?: () => number; logger?: Logger } = {},
): Promise<ProxyEnv> {
  const s3 = s3Env()
  const fsRoot = mkdtempSync(join(tmpdir(), 'stowage-proxy-fs-'))
  const t = await testApp(
    {
      server: { listen: '127.0.0.1:0' },
      backends: [
        { id: 'rgw', type: 's3', endpoint: s3.endpoint, region: s3.region, access_key_env: 'RGW_AK', secret_key_env: 'RGW_SK', path_style: true },
        { id: 'local', type: 'fs', root: fsRoot },
      ],
      s3_proxy: { enabled: true, listen: '127.0.0.1:0', ...o.s3_proxy },
      ratelimit: { api_per_minute: 0 },
      quotas: { scan_interval: '0' },
      ...o.app,
    },
    { env: { RGW_AK: s3.accessKey, RGW_SK: s3.secretKey }, ...(o.now ? { now: o.now } : {}), ...(o.logger ? { logger: o.logger } : {}) },
  )
  const running = await serve(t.s)
  const [admin, user, reader] = [await t.user('admin'), await t.user('user'), await t.user('readonly')]
  const rgw = t.s.registry.get('rgw')
  const created: string[] = []
  const endpoint = `http://127.0.0.1:${running.proxy!.port}`

  const env: ProxyEnv = {
    t,
    running,
    admin,
    user,
    reader,
    endpoint,
    rgw,
    fsRoot,
    async bucket(tag) {
      const name = bucketName(tag)
      await rgw.createBucket(name)
      created.push(name)
      return name
    },
    async mint(body, as) {
      const res = await t.call('POST', as ? '/api/me/s3-credentials' : '/api/admin/s3-credentials', { as: as ?? admin, json: { backend_id: 'rgw', ...body } })
      if (res.status !== 201) throw new Error(`mint failed: ${res.status} ${await res.text()}`)
      return (await res.json()) as Cred
    },
    sdk(cred, opts = {}) {
      return new S3Client({
        endpoint,
        region: opts.region ?? 'us-east-1',
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: cred.access_key, secretAccessKey: cred.secret_key },
      })
    },
    signed(cred, method, path, opts = {}) {
      const url = new URL(endpoint + path)
      const headers = new Headers(opts.headers)
      const body = typeof opts.body === 'string' ? new TextEncoder().encode(opts.body) : opts.body
      if (body) headers.set('content-length', String(body.length))
      signRequest({
        method,
        url: { host: url.host, pathname: path.split('?')[0]!, search: url.search },
        headers,
        payloadHash: opts.payloadHash ?? 'UNSIGNED-PAYLOAD',
        accessKeyId: cred.access_key,
        secretKey: cred.secret_key,
        region: 'us-east-1',
        now: opts.now,
      })
      return fetch(`${endpoint}${path}`, { method, headers, body, decompress: false } as BunFetchRequestInit)
    },
    async close() {
      for (const b of created) await emptyBucket(rgw, b)
      await running.stop()
      rmSync(t.dir, { recursive: true, force: true })
      rmSync(fsRoot, { recursive: true, force: true })
    },
  }
  return env
}

/**
 * A request head signed for the S3 listener (UNSIGNED-PAYLOAD), to send over a raw socket. The path
 * is signed as written: a URL object would resolve dot segments first.
 */
export function signedHead(env: ProxyEnv, c: Cred, method: string, path: string, headers: Record<string, string> = {}): string {
  const host = `127.0.0.1:${env.running.proxy!.port}`
  const h = new Headers({ ...headers, host })
  signRequest({
    method,
    url: { host, pathname: path, search: '' },
    headers: h,
    payloadHash: 'UNSIGNED-PAYLOAD',
    accessKeyId: c.access_key,
    secretKey: c.secret_key,
    region: 'us-east-1',
  })
  let out = `${method} ${path} HTTP/1.1\r\n`
  h.forEach((v, k) => (out += `${k}: ${v}\r\n`))
  return out + '\r\n'
}
