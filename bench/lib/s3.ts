// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Direct S3 calls for the "upstream alone" side of a comparison: path-style
 * requests signed with our own SigV4 signer (src/s3/sign.ts: no SDK
 * overhead) and UNSIGNED-PAYLOAD, as the s3 driver signs its own calls, sent
 * with the same keep-alive `fetch` the dashboard side uses.
 *
 * @example
 * const s3 = s3Client(s3Env())
 * await s3.call('PUT', 'bench', 'a/b.bin', { body: new Uint8Array(1024) })
 * const res = await s3.call('GET', 'bench', '', { query: { 'list-type': '2', prefix: 'a/' } })
 */
import { uriEncode } from '../../src/s3/canonical.ts'
import { signRequest } from '../../src/s3/sign.ts'

export type S3Target = { endpoint: string; region: string; accessKey: string; secretKey: string }

export type S3CallOptions = {
  query?: Record<string, string>
  headers?: Record<string, string>
  body?: Uint8Array<ArrayBuffer> | string
  signal?: AbortSignal
}

export type S3Client = {
  /** Builds and signs the request without sending it (to keep signing out of a timed section, or to inspect it). */
  request(method: string, bucket: string, key: string, o?: S3CallOptions): { url: string; init: RequestInit }
  call(method: string, bucket: string, key: string, o?: S3CallOptions): Promise<Response>
  /** Deletes `keys` in batches of 1000 (DeleteObjects). */
  deleteKeys(bucket: string, keys: string[]): Promise<void>
  /** Every key under `prefix` (ListObjectsV2, all pages). */
  listKeys(bucket: string, prefix: string): Promise<string[]>
  /** Deletes every version and delete marker in the bucket (ListObjectVersions, then DeleteObjects by version id). */
  deleteAllVersions(bucket: string): Promise<void>
  /** Empties the bucket (every version) and deletes it; a failure is ignored, as cleanup after a run. */
  removeBucket(bucket: string): Promise<void>
}

const unescapeXml = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')

const encodeQuery = (q: Record<string, string>): string =>
  Object.entries(q)
    .map(([k, v]) => `${uriEncode(k, { encodeSlash: true })}=${uriEncode(v, { encodeSlash: true })}`)
    .join('&')

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** A built request's headers as a plain object, for clients other than fetch (node:http transfers). */
export function headersOf(init: RequestInit): Record<string, string> {
  return Object.fromEntries(new Headers(init.headers).entries())
}

export function s3Client(t: S3Target): S3Client {
  const base = new URL(t.endpoint)
  const request: S3Client['request'] = (method, bucket, key, o = {}) => {
    const pathname = `/${bucket}${key ? `/${uriEncode(key, { encodeSlash: false })}` : ''}`
    const search = o.query && Object.keys(o.query).length ? `?${encodeQuery(o.query)}` : ''
    const headers = new Headers(o.headers)
    signRequest({
      method,
      url: { host: base.host, pathname, search },
      headers,
      payloadHash: 'UNSIGNED-PAYLOAD',
      accessKeyId: t.accessKey,
      secretKey: t.secretKey,
      region: t.region,
    })
    return {
      url: `${base.protocol}//${base.host}${pathname}${search}`,
      init: { method, headers, ...(o.body !== undefined ? { body: o.body } : {}), ...(o.signal ? { signal: o.signal } : {}) },
    }
  }
  const call: S3Client['call'] = (method, bucket, key, o) => {
    const r = request(method, bucket, key, o)
    return fetch(r.url, r.init)
  }
  const deleteBatch = async (bucket: string, batch: Array<{ key: string; versionId?: string }>): Promise<void> => {
    const objects = batch.map((o) => `<Object><Key>${xmlEscape(o.key)}</Key>${o.versionId ? `<VersionId>${xmlEscape(o.versionId)}</VersionId>` : ''}</Object>`)
    const body = `<Delete><Quiet>true</Quiet>${objects.join('')}</Delete>`
    const md5 = new Bun.CryptoHasher('md5').update(body).digest('base64')
    const res = await call('POST', bucket, '', { query: { delete: '' }, headers: { 'content-md5': md5, 'content-type': 'application/xml' }, body })
    const text = await res.text()
    if (res.status !== 200 || text.includes('<Error>')) throw new Error(`DeleteObjects failed: ${res.status} ${text.slice(0, 300)}`)
  }
  return {
    request,
    call,
    async deleteKeys(bucket, keys) {
      for (let i = 0; i < keys.length; i += 1000)
        await deleteBatch(
          bucket,
          keys.slice(i, i + 1000).map((key) => ({ key })),
        )
    },
    async removeBucket(bucket) {
      await this.deleteAllVersions(bucket).catch(() => {})
      await call('DELETE', bucket, '').then(
        (r) => r.arrayBuffer(),
        () => undefined,
      )
    },
    async deleteAllVersions(bucket) {
      for (;;) {
        const res = await call('GET', bucket, '', { query: { versions: '', 'max-keys': '1000' } })
        const xml = await res.text()
        if (res.status !== 200) throw new Error(`ListObjectVersions failed: ${res.status} ${xml.slice(0, 300)}`)
        const found = [...xml.matchAll(/<(?:Version|DeleteMarker)>.*?<Key>([^<]*)<\/Key>.*?<VersionId>([^<]*)<\/VersionId>/g)].map((m) => ({
          key: unescapeXml(m[1]!),
          versionId: unescapeXml(m[2]!),
        }))
        if (found.length === 0) return
        await deleteBatch(bucket, found)
      }
    },
    async listKeys(bucket, prefix) {
      const keys: string[] = []
      let token: string | undefined
      do {
        const res = await call('GET', bucket, '', { query: { 'list-type': '2', prefix, ...(token ? { 'continuation-token': token } : {}) } })
        const xml = await res.text()
        if (res.status !== 200) throw new Error(`ListObjectsV2 failed: ${res.status} ${xml.slice(0, 300)}`)
        for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(unescapeXml(m[1]!))
        token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? /<NextContinuationToken>([^<]*)</.exec(xml)?.[1] : undefined
      } while (token)
      return keys
    },
  }
}
