// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * One S3 upstream: where a request goes (path-style `/bucket/key`, or
 * virtual-hosted `bucket.host/key`), its SigV4 signature with the upstream's
 * own keys, and the transport that sends it. The dashboard's driver and the
 * S3 listener's forwarder both send through this.
 *
 * Keys are AWS URI-encoded here and the signer canonicalises the same
 * string, so what is signed is exactly what is sent (`.`/`..` segments
 * included).
 */
import { uriEncode, UNSIGNED_PAYLOAD } from './canonical.ts'
import { signRequest } from './sign.ts'
import { createTransport, type Answer, type Outbound, type Timeouts } from './transport.ts'

export type S3Endpoint = {
  /** `http(s)://host[:port]`; a path, if any, is ignored. */
  endpoint: string
  region: string
  accessKey: string
  secretKey: string
  pathStyle: boolean
}

export type S3Request = {
  method: string
  bucket?: string
  key?: string
  /** Without '?', already AWS URI-encoded (`queryString` builds one). */
  query?: string
  /** Lower-case names; host, x-amz-date, x-amz-content-sha256 and authorization are added. Mutated. */
  headers: Headers
  /** The hex SHA-256 of the body when the caller has it (a client signed it); default UNSIGNED-PAYLOAD. */
  payloadHash?: string
  body?: Outbound['body']
  signal?: AbortSignal
}

export type S3Client = {
  readonly endpoint: S3Endpoint
  send(r: S3Request): Promise<Answer>
  close(): void
}

/**
 * A query string from parameters in order: '' sends a bare flag (`?uploads`), undefined leaves the parameter out.
 *
 * @example
 * queryString({ 'list-type': 2, prefix: 'a b/', 'continuation-token': undefined }) // 'list-type=2&prefix=a%20b%2F'
 */
export function queryString(params: Record<string, string | number | undefined>): string {
  let out = ''
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue
    out += (out === '' ? '' : '&') + uriEncode(k, { encodeSlash: true }) + (v === '' ? '' : '=' + uriEncode(String(v), { encodeSlash: true }))
  }
  return out
}

export function createS3Client(endpoint: S3Endpoint, timeouts: Timeouts): S3Client {
  const url = new URL(endpoint.endpoint)
  const origin = `${url.protocol}//${url.host}`
  const transport = createTransport(timeouts)

  return {
    endpoint,
    send(r: S3Request): Promise<Answer> {
      const key = r.key === undefined ? '' : uriEncode(r.key, { encodeSlash: false })
      let host = url.host
      let pathname: string
      if (endpoint.pathStyle || r.bucket === undefined) pathname = r.bucket === undefined ? '/' : `/${r.bucket}${r.key === undefined ? '' : '/' + key}`
      else {
        host = `${r.bucket}.${url.host}`
        pathname = `/${key}`
      }
      const search = r.query ? `?${r.query}` : ''
      // Identity: bytes and Content-Encoding pass through untouched.
      r.headers.set('accept-encoding', 'identity')
      signRequest({
        method: r.method,
        url: { host, pathname, search },
        headers: r.headers,
        payloadHash: r.payloadHash ?? UNSIGNED_PAYLOAD,
        accessKeyId: endpoint.accessKey,
        secretKey: endpoint.secretKey,
        region: endpoint.region,
      })
      return transport.send({
        method: r.method,
        origin: host === url.host ? origin : `${url.protocol}//${host}`,
        path: pathname + search,
        headers: r.headers,
        ...(r.body !== undefined ? { body: r.body } : {}),
        ...(r.signal ? { signal: r.signal } : {}),
      })
    },
    close: () => transport.close(),
  }
}
