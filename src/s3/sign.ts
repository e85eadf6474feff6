// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Outbound SigV4 signing, used to re-sign a forwarded request with the backend's own keys (and
 * to presign URLs). It shares canonical.ts with the verifier, so what we sign is canonicalised
 * exactly the way we would verify it, and the signing-key cache with it too.
 */
import {
  ALGORITHM,
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  formatAmzDate,
  hmac,
  parseQuery,
  scopeString,
  stringToSign,
  uriEncode,
  UNSIGNED_PAYLOAD,
} from './canonical.ts'
import { cachedSigningKey } from './signing-key.ts'

/**
 * Headers never signed by default. Hop-by-hop headers and User-Agent may be changed or added
 * by the HTTP client on the way out. Content-Length is left out on purpose: the proxy streams
 * bodies whose framing fetch decides (a decoded aws-chunked length, or chunked transfer), and
 * signing it buys nothing, since the payload hash (or UNSIGNED-PAYLOAD) is what binds the body.
 */
const UNSIGNED_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'connection',
  'content-length',
  'expect',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
])

export type SignRequestInput = {
  method: string
  /**
   * Already canonical and properly encoded; the path is canonicalised again for signing anyway.
   * A URL works, but so does a plain object: a URL would normalise away `.`/`..` segments,
   * which are legitimate S3 key characters, before they are signed.
   */
  url: Pick<URL, 'host' | 'pathname' | 'search'>
  /** Mutated: host, x-amz-date, x-amz-content-sha256 (and x-amz-security-token) and authorization are set. */
  headers: Headers
  /** 'UNSIGNED-PAYLOAD' or the hex SHA-256 of the body. */
  payloadHash: string
  accessKeyId: string
  secretKey: string
  region: string
  service?: string
  now?: Date
  /** Headers to sign (absent ones are skipped); host, x-amz-date and x-amz-content-sha256 are always signed. Default: every present header except the unsigned list. */
  signedHeaderNames?: string[]
  sessionToken?: string
}

/**
 * Signs a request in place with an Authorization header.
 *
 * @example
 * const headers = new Headers({ 'content-type': 'text/plain' })
 * signRequest({ method: 'PUT', url, headers, payloadHash: 'UNSIGNED-PAYLOAD', accessKeyId, secretKey, region: 'us-east-1' })
 * await fetch(url, { method: 'PUT', headers, body })
 */
export function signRequest(input: SignRequestInput): void {
  const { headers, url } = input
  const amzDate = formatAmzDate(input.now ?? new Date())
  const scope = { date: amzDate.slice(0, 8), region: input.region, service: input.service ?? 's3' }
  headers.delete('authorization')
  headers.set('host', url.host)
  headers.set('x-amz-date', amzDate)
  headers.set('x-amz-content-sha256', input.payloadHash)
  if (input.sessionToken !== undefined) headers.set('x-amz-security-token', input.sessionToken)

  const names = new Set<string>(['host', 'x-amz-date', 'x-amz-content-sha256'])
  if (input.sessionToken !== undefined) names.add('x-amz-security-token')
  if (input.signedHeaderNames !== undefined) {
    for (const name of input.signedHeaderNames) if (headers.has(name)) names.add(name.toLowerCase())
  } else {
    for (const name of headers.keys()) if (!UNSIGNED_HEADERS.has(name)) names.add(name)
  }
  const signed = [...names].sort()

  const canonical = canonicalRequest({
    method: input.method,
    uri: canonicalUri(url.pathname),
    query: canonicalQuery(parseQuery(url.search.slice(1))),
    headers: canonicalHeaders(signed, (name) => headers.get(name)),
    signedHeaders: signed.join(';'),
    payloadHash: input.payloadHash,
  })
  const key = cachedSigningKey(input.accessKeyId, input.secretKey, scope)
  const signature = hmac(key, stringToSign(amzDate, scope, canonical)).toString('hex')
  headers.set('authorization', `${ALGORITHM} Credential=${input.accessKeyId}/${scopeString(scope)}, SignedHeaders=${signed.join(';')}, Signature=${signature}`)
}

export type PresignInput = {
  method: string
  url: URL
  accessKeyId: string
  secretKey: string
  region: string
  service?: string
  now?: Date
  /** 1..604800 seconds. */
  expiresSeconds: number
}

/**
 * A presigned URL that signs only `host` and UNSIGNED-PAYLOAD, like the SDK presigners.
 *
 * @example
 * const link = presignUrl({ method: 'GET', url: new URL('http://127.0.0.1:7480/bucket/key'), accessKeyId, secretKey, region: 'us-east-1', expiresSeconds: 3600 })
 */
export function presignUrl(input: PresignInput): URL {
  if (!Number.isInteger(input.expiresSeconds) || input.expiresSeconds < 1 || input.expiresSeconds > 604800) {
    throw new RangeError('expiresSeconds must be an integer from 1 to 604800')
  }
  const amzDate = formatAmzDate(input.now ?? new Date())
  const scope = { date: amzDate.slice(0, 8), region: input.region, service: input.service ?? 's3' }
  const auth =
    `X-Amz-Algorithm=${ALGORITHM}` +
    `&X-Amz-Credential=${uriEncode(`${input.accessKeyId}/${scopeString(scope)}`, { encodeSlash: true })}` +
    `&X-Amz-Date=${amzDate}&X-Amz-Expires=${input.expiresSeconds}&X-Amz-SignedHeaders=host`
  const url = new URL(input.url)
  const query = url.search.length > 1 ? url.search.slice(1) + '&' + auth : auth
  const canonical = canonicalRequest({
    method: input.method,
    uri: canonicalUri(url.pathname),
    query: canonicalQuery(parseQuery(query)),
    headers: 'host:' + url.host + '\n',
    signedHeaders: 'host',
    payloadHash: UNSIGNED_PAYLOAD,
  })
  const key = cachedSigningKey(input.accessKeyId, input.secretKey, scope)
  url.search = '?' + query + '&X-Amz-Signature=' + hmac(key, stringToSign(amzDate, scope, canonical)).toString('hex')
  return url
}
