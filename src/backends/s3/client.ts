// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The driver's calls to its upstream, through the shared S3 client
 * (src/s3/client.ts): what the dashboard may send is checked first (bucket
 * names, header names and values), statuses outside `ok` become
 * BackendErrors carrying the upstream's error, and every call streams and
 * fails the same way.
 */
import { createHash } from 'node:crypto'
import { createS3Client, queryString } from '../../s3/client.ts'
import { readErrorDocument } from '../../s3/error-document.ts'
import type { Answer, Timeouts } from '../../s3/transport.ts'
import { backendError, fromThrown, fromUpstream, UpstreamError } from './errors.ts'

export type S3ClientOptions = {
  endpoint: string
  region: string
  accessKey: string
  secretKey: string
  pathStyle: boolean
  timeouts: Timeouts
}

type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE'

export type SendOptions = {
  method: Method
  bucket?: string
  key?: string
  /** In order; '' sends a bare flag (`?uploads`), undefined leaves the parameter out. */
  query?: Record<string, string | number | undefined>
  headers?: Record<string, string | undefined>
  body?: Uint8Array | string | ReadableStream<Uint8Array>
  /** Exact byte count of a stream body; S3 (RGW above all) needs Content-Length. */
  size?: number
  signal?: AbortSignal
  /** Statuses that count as success, default [200]. */
  ok?: number[]
}

/** Some S3 calls (DeleteObjects, PutBucketLifecycle) refuse a body without it. */
export function contentMd5(body: string): string {
  return createHash('md5').update(body).digest('base64')
}

export function headerValue(res: Answer, name: string): string | undefined {
  return res.headers[name]
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const HEADER_VALUE = /^[\x20-\x7e\t]*$/

// Anything outside this set could re-route the request (a bucket name is a path segment or a host label).
const SAFE_BUCKET = /^[A-Za-z0-9._-]{1,255}$/

export type S3Http = {
  /** Sends; the answer's body is the caller's to take (or discard). */
  send(o: SendOptions): Promise<Answer>
  /** Sends and drops the answer's body, for calls whose headers say it all. */
  call(o: SendOptions): Promise<Answer>
  /** Sends and reads the (small, XML or JSON) response body. */
  text(o: SendOptions): Promise<{ res: Answer; body: string }>
  close(): void
}

const TEXT_LIMIT = 64 * 1024 * 1024

export function createS3Http(o: S3ClientOptions): S3Http {
  let url: URL
  try {
    url = new URL(o.endpoint)
  } catch (err) {
    throw backendError('invalid', err, 'The S3 endpoint is not a valid URL.')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw backendError('invalid', undefined, 'The S3 endpoint must be an http:// or https:// URL.')
  const client = createS3Client({ endpoint: o.endpoint, region: o.region, accessKey: o.accessKey, secretKey: o.secretKey, pathStyle: o.pathStyle }, o.timeouts)

  async function send(s: SendOptions): Promise<Answer> {
    s.signal?.throwIfAborted()
    if (s.bucket !== undefined && !SAFE_BUCKET.test(s.bucket)) throw backendError('invalid', undefined, 'The bucket name is not valid.')
    if (s.key !== undefined && s.key === '') throw backendError('invalid', undefined, 'The object key is empty.')
    const headers = new Headers()
    if (s.headers) {
      for (const k in s.headers) {
        const v = s.headers[k]
        if (v === undefined) continue
        if (!HEADER_NAME.test(k)) throw backendError('invalid', undefined, `"${k}" cannot be sent as an HTTP header name.`)
        // The signature covers the bytes as sent; anything beyond ASCII would reach the
        // server re-encoded and fail as a misleading SignatureDoesNotMatch.
        if (!HEADER_VALUE.test(v))
          throw backendError('invalid', undefined, `The ${k.startsWith('x-amz-meta-') ? 'metadata' : k} value must be printable ASCII.`)
        // HTTP drops surrounding whitespace; signing it would not match what the server sees.
        headers.set(k, v.trim())
      }
    }
    const body = s.body
    if (s.method !== 'GET' && s.method !== 'HEAD') {
      // A body of unknown length would go out chunked, which RGW refuses (MissingContentLength).
      headers.set(
        'content-length',
        String(body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.byteLength : s.size),
      )
    }
    let res: Answer
    try {
      res = await client.send({
        method: s.method,
        ...(s.bucket !== undefined ? { bucket: s.bucket } : {}),
        ...(s.key !== undefined ? { key: s.key } : {}),
        ...(s.query ? { query: queryString(s.query) } : {}),
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(s.signal ? { signal: s.signal } : {}),
      })
    } catch (err) {
      throw fromThrown(err, s.signal)
    }
    if (!(s.ok ?? [200]).includes(res.status)) {
      const doc = await readErrorDocument(res)
      throw fromUpstream(new UpstreamError(res.status, doc.code, doc.message, doc.requestId, res.headers['x-amz-delete-marker'] === 'true'))
    }
    return res
  }

  async function call(s: SendOptions): Promise<Answer> {
    const res = await send(s)
    await res.discard()
    return res
  }

  async function text(s: SendOptions): Promise<{ res: Answer; body: string }> {
    const res = await send(s)
    try {
      return { res, body: await res.text(TEXT_LIMIT) }
    } catch (err) {
      throw fromThrown(err, s.signal)
    }
  }

  return { send, call, text, close: () => client.close() }
}
