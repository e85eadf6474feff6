// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Sends the upstream's answer to the client. Successful bodies stream with
 * the upstream's exact Content-Length. Error documents are re-rendered: the
 * S3 code, message and a few client-relevant fields survive, while the
 * upstream's request ids, host ids and any echo of the proxy's own signing
 * (AWS puts the signer's access key id and string-to-sign into
 * SignatureDoesNotMatch) do not. An upstream that refuses the backend's own
 * keys is the operator's problem, not the client's: that becomes a 502.
 *
 * Object bodies from GetObject carry a sandboxing CSP and nosniff: the proxy
 * shares a site with the dashboard (same host, other port), so an HTML
 * object opened from a presigned or anonymous URL must not run script.
 */
import { child, parseXml, textOf } from '../backends/s3/xml.ts'
import type { Logger } from '../lib/log.ts'
import { pump } from '../http/node-server.ts'
import { CONTENT_CSP, PDF_CSP } from '../http/security-headers.ts'
import { errorXml, statusError } from './errors.ts'
import { baseHeaders, sendBody, type Exchange } from './exchange.ts'
import { passErrorHeader, passResponseHeader } from './headers.ts'

const ERROR_BODY_LIMIT = 64 * 1024
/** Responses up to this size (with a Content-Length) are read whole and written at once. */
const SMALL_RESPONSE = 64 * 1024
const KEPT_ERROR_FIELDS = ['Key', 'BucketName', 'ArgumentName', 'ArgumentValue', 'ActualObjectSize', 'RangeRequested', 'Condition', 'UploadId', 'PartNumber', 'MinSizeAllowed', 'ProposedSize', 'MaxSizeAllowed', 'VersionId']
/** Upstream refusals of the backend's own credentials. */
const SIGNING_FAILURES: ReadonlySet<string> = new Set(['SignatureDoesNotMatch', 'InvalidAccessKeyId', 'AuthorizationHeaderMalformed', 'RequestTimeTooSkewed', 'InvalidToken', 'ExpiredToken'])

function objectCsp(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/pdf' ? PDF_CSP : CONTENT_CSP
}

async function readCapped(body: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!body) return ''
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > ERROR_BODY_LIMIT) break
      chunks.push(value)
    }
  } finally {
    reader.cancel().catch(() => {})
  }
  return Buffer.concat(chunks).toString('utf8')
}

async function relayError(x: Exchange, response: Response, logger: Logger): Promise<void> {
  const text = await readCapped(response.body)
  let { code, message } = statusError(response.status)
  const extras: Array<[string, string]> = []
  try {
    const doc = parseXml(text)
    if (doc.name === 'Error' && textOf(doc, 'Code')) {
      code = textOf(doc, 'Code')!
      message = textOf(doc, 'Message') ?? ''
      for (const name of KEPT_ERROR_FIELDS) {
        const v = child(doc, name)?.text
        if (v !== undefined && v.length <= 1024) extras.push([name, v])
      }
    }
  } catch {
    // Not an S3 error document (a proxy in front of the backend, say): the status alone tells.
  }
  let status = response.status
  if ((status === 401 || status === 403) && SIGNING_FAILURES.has(code)) {
    logger.error('backend refused the proxy signature', { request_id: x.id, backend: x.backendId, code })
    status = 502
    code = 'InternalError'
    message = 'The storage backend refused the proxy; the administrator has been told.'
    extras.length = 0
    x.reason = 'upstream-auth'
  } else x.reason = status >= 500 ? 'upstream-error' : 'upstream-refused'
  const headers: Record<string, string> = {}
  if (x.reason !== 'upstream-auth') {
    response.headers.forEach((value, name) => {
      if (passErrorHeader(name)) headers[name] = value
    })
  }
  headers['content-type'] = 'application/xml'
  sendBody(x, status, errorXml(code, message || code, x.inb?.resource ?? '/', x.id, extras), headers)
}

export async function relay(x: Exchange, response: Response, logger: Logger): Promise<void> {
  const method = x.req.method
  if (response.status >= 400) return relayError(x, response, logger)
  const headers = baseHeaders(x)
  response.headers.forEach((value, name) => {
    if (passResponseHeader(name)) headers[name] = value
  })
  if ((x.op === 'GetObject' || x.op === 'HeadObject') && response.status < 300) headers['content-security-policy'] = objectCsp(response.headers.get('content-type'))
  x.status = response.status
  const length = Number(response.headers.get('content-length') ?? NaN)
  if (method !== 'HEAD' && response.body && length <= SMALL_RESPONSE) {
    // Read whole: one write instead of a stream of them costs measurably less CPU under Bun.
    const body = new Uint8Array(await response.arrayBuffer())
    x.res.writeHead(response.status, headers)
    x.bytesOut += body.byteLength
    x.res.end(body)
    return
  }
  x.res.writeHead(response.status, headers)
  if (method === 'HEAD' || !response.body || response.status === 204 || response.status === 304) {
    response.body?.cancel().catch(() => {})
    x.res.end()
    return
  }
  x.bytesOut += await pump(response.body, x.res, x.abort.signal)
  if (x.abort.signal.aborted) x.res.destroy()
  else x.res.end()
}
