// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * One signed request to the upstream. minio supplies SigV4, host/path
 * building (path or virtual-host style) and key escaping; status handling,
 * bodies and errors are ours, so every call streams and fails the same way.
 */
import { createHash } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import type { Readable } from 'node:stream'
import { Client } from 'minio'
import { backendError, fromThrown, fromUpstream } from './errors.ts'
import { CALL, createTransport, readUpstreamError, type CallContext, type Timeouts } from './transport.ts'

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
  body?: Buffer | string | Readable
  /** Exact byte count of a Readable body; S3 (RGW above all) needs Content-Length. */
  size?: number
  signal?: AbortSignal
  /** Statuses that count as success, default [200]. */
  ok?: number[]
}

/** Carries the per-call context from our options into the ones minio hands to the transport. */
class SignalingClient extends Client {
  protected override getRequestOptions(opts: Parameters<Client['getRequestOptions']>[0]): ReturnType<Client['getRequestOptions']> {
    const out = super.getRequestOptions(opts)
    return Object.assign(out, { [CALL]: (opts as { [CALL]?: CallContext })[CALL] })
  }
}

// minio fails a request whose status is not listed; ours are checked afterwards.
const EVERY_STATUS = Array.from({ length: 500 }, (_, i) => i + 100)

/** RFC 3986 encoding, as SigV4 canonicalises query values. */
export function uriEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** Some S3 calls (DeleteObjects, PutBucketLifecycle) refuse a body without it. */
export function contentMd5(body: string): string {
  return createHash('md5').update(body).digest('base64')
}

function buildQuery(query: SendOptions['query']): string {
  if (!query) return ''
  const parts: string[] = []
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue
    parts.push(v === '' ? uriEscape(k) : `${uriEscape(k)}=${uriEscape(String(v))}`)
  }
  return parts.join('&')
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const HEADER_VALUE = /^[\x20-\x7e\t]*$/

// Bucket names go into the path unescaped by minio; anything outside this set could re-route the request.
const SAFE_BUCKET = /^[A-Za-z0-9._-]{1,255}$/

export type S3Http = {
  send(o: SendOptions): Promise<http.IncomingMessage>
  /** Sends and reads the (small, XML or JSON) response body. */
  text(o: SendOptions): Promise<{ res: http.IncomingMessage; body: string }>
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
  const useSSL = url.protocol === 'https:'
  // One pool per backend: keep-alive saves a TCP (and TLS) handshake per call.
  // The idle timeout stays below common server keep-alive limits (RGW beast: 65 s)
  // so a pooled socket is rarely reused just as the server closes it.
  const agentOptions = { keepAlive: true, keepAliveMsecs: 10_000, maxSockets: 64, maxFreeSockets: 16, timeout: o.timeouts.idleMs, scheduling: 'lifo' as const }
  const agent = useSSL ? new https.Agent(agentOptions) : new http.Agent(agentOptions)
  const client = new SignalingClient({
    endPoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : undefined,
    useSSL,
    accessKey: o.accessKey,
    secretKey: o.secretKey,
    // Without a region minio looks it up over the network before presigning.
    region: o.region,
    pathStyle: o.pathStyle,
    // Only minio's own upload helpers use it (we stream instead); kept small in case they ever run.
    partSize: 16 * 1024 * 1024,
    transportAgent: agent,
    transport: createTransport(o.timeouts),
    // A retry would re-send a stream body that is already consumed.
    retryOptions: { disableRetry: true },
  })
  // Over plain http minio hashes every payload for the signature, which needs
  // the whole body in memory; UNSIGNED-PAYLOAD lets bodies stream.
  client.enableSHA256 = false

  async function send(s: SendOptions): Promise<http.IncomingMessage> {
    s.signal?.throwIfAborted()
    if (s.bucket !== undefined && !SAFE_BUCKET.test(s.bucket)) throw backendError('invalid', undefined, 'The bucket name is not valid.')
    if (s.key !== undefined && s.key === '') throw backendError('invalid', undefined, 'The object key is empty.')
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(s.headers ?? {})) {
      if (v === undefined) continue
      if (!HEADER_NAME.test(k)) throw backendError('invalid', undefined, `"${k}" cannot be sent as an HTTP header name.`)
      // minio signs the UTF-8 bytes while node:http sends latin1, so anything
      // beyond ASCII would surface as a misleading SignatureDoesNotMatch.
      if (!HEADER_VALUE.test(v)) throw backendError('invalid', undefined, `The ${k.startsWith('x-amz-meta-') ? 'metadata' : k} value must be printable ASCII.`)
      // HTTP drops surrounding whitespace; signing it would not match what the server sees.
      headers[k.toLowerCase()] = v.trim()
    }
    const body = s.body ?? ''
    if (s.method !== 'GET' && s.method !== 'HEAD') {
      // Node would otherwise send PUT/POST bodies chunked, which RGW refuses (MissingContentLength).
      headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : Buffer.isBuffer(body) ? body.length : s.size)
    }
    const call: CallContext = { signal: s.signal }
    let res: http.IncomingMessage
    try {
      res = await client.makeRequestStreamAsync(
        { method: s.method, bucketName: s.bucket, objectName: s.key, query: buildQuery(s.query), headers, [CALL]: call } as Parameters<Client['makeRequestStreamAsync']>[0],
        body,
        '',
        EVERY_STATUS,
        o.region,
      )
    } catch (err) {
      if (call.swallowed && !s.signal?.aborted) throw fromUpstream(await call.swallowed)
      throw fromThrown(err, s.signal)
    }
    if (!(s.ok ?? [200]).includes(res.statusCode ?? 0)) throw fromUpstream(await readUpstreamError(res))
    return res
  }

  async function text(s: SendOptions): Promise<{ res: http.IncomingMessage; body: string }> {
    const res = await send(s)
    const chunks: Buffer[] = []
    let size = 0
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        size += chunk.length
        if (size > TEXT_LIMIT) {
          res.destroy()
          throw backendError('failed', undefined, 'The storage backend sent an oversized response.')
        }
        chunks.push(chunk)
      }
    } catch (err) {
      throw fromThrown(err, s.signal)
    }
    return { res, body: Buffer.concat(chunks).toString('utf8') }
  }

  return { send, text, close: () => agent.destroy() }
}
