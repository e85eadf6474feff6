// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The path for backends of type `s3`: a verified call goes upstream
 * re-signed with the backend's own keys (allowlisted headers, the body in
 * its verified form, the copy source re-encoded), and the upstream's answer
 * comes back as the call's reply.
 *
 * - Successful answers keep the upstream's headers but hop-by-hop ones, its
 *   request ids and CORS (headers.ts) and its exact Content-Length; bodies
 *   up to SMALL_RESPONSE are read whole (one write costs measurably less CPU
 *   under Bun than a stream of them), larger ones are written to the client
 *   as they arrive, with no web stream in between.
 * - Error answers become an `S3Error`: the S3 code, message, a few
 *   client-relevant fields and the allowlisted error headers survive; the
 *   upstream's request ids, host ids and any echo of the proxy's own signing
 *   (AWS puts the signer's access key id and string-to-sign into
 *   SignatureDoesNotMatch) do not. An upstream that refuses the backend's own
 *   keys is the operator's problem, not the client's: that becomes a 502.
 * - A client that goes away aborts the upstream call; a body that fails its
 *   signature, digest or length check aborts it too (it is never ended
 *   cleanly), and the call fails with the body's S3 error.
 */
import type { Readable } from 'node:stream'
import type { Registry, S3Settings } from '../backends/registry.ts'
import type { Logger } from '../lib/log.ts'
import { uriEncode } from '../s3/canonical.ts'
import { createS3Client, type S3Client } from '../s3/client.ts'
import { readErrorDocument } from '../s3/error-document.ts'
import { TransportError } from '../s3/wire.ts'
import type { Answer } from '../s3/transport.ts'
import { child } from '../s3/xml.ts'
import { bodyError, clientGone } from './body.ts'
import type { S3Call, S3Path, S3Reply } from './call.ts'
import { isAuthParam, METHOD_OF } from './classify.ts'
import { badGateway, notImplemented, S3Error, serviceUnavailable } from './errors.ts'
import { forwardable, passErrorHeader, passResponseHeader, withoutAwsChunked } from './headers.ts'

/** Responses up to this size (with a Content-Length) are read whole and written at once. */
const SMALL_RESPONSE = 64 * 1024
/**
 * No progress for this long fails a forwarded request. Longer than the driver's: a client's
 * CopyObject or CompleteMultipartUpload may keep the upstream busy for minutes before it
 * answers (what fetch's own idle timeout allowed before).
 */
const IDLE_MS = 300_000
const KEPT_ERROR_FIELDS = [
  'Key',
  'BucketName',
  'ArgumentName',
  'ArgumentValue',
  'ActualObjectSize',
  'RangeRequested',
  'Condition',
  'UploadId',
  'PartNumber',
  'MinSizeAllowed',
  'ProposedSize',
  'MaxSizeAllowed',
  'VersionId',
]
/** Upstream refusals of the backend's own credentials. */
const SIGNING_FAILURES: ReadonlySet<string> = new Set([
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
  'AuthorizationHeaderMalformed',
  'RequestTimeTooSkewed',
  'InvalidToken',
  'ExpiredToken',
])

/** Request headers that pass the allowlist; checksum headers describing an aws-chunked trailer are left behind. */
function outboundHeaders(call: S3Call): Headers {
  const out = new Headers()
  const decoded = call.body.kind === 'stream' && call.body.decoded
  call.headers.forEach((value, name) => {
    if (!forwardable(name)) return
    if (decoded && (name.startsWith('x-amz-checksum-') || name === 'x-amz-sdk-checksum-algorithm')) return
    const v = name === 'content-encoding' ? withoutAwsChunked(value) : value
    if (v !== undefined) out.set(name, v)
  })
  const src = call.copySource
  if (src)
    out.set(
      'x-amz-copy-source',
      `/${src.bucket}/${uriEncode(src.key, { encodeSlash: false })}${src.versionId ? `?versionId=${uriEncode(src.versionId, { encodeSlash: true })}` : ''}`,
    )
  return out
}

/** Wraps a body stream so its own failure is known (fetch reports it only as a generic error). */
function watched(body: ReadableStream<Uint8Array>, failed: (err: unknown) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller): Promise<void> {
        try {
          const r = await reader.read()
          if (r.done) controller.close()
          else controller.enqueue(r.value)
        } catch (err) {
          failed(err)
          controller.error(err)
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  )
}

/** The client's view of an upstream error answer. */
async function upstreamError(call: S3Call, answer: Answer, logger: Logger): Promise<S3Error> {
  const doc = await readErrorDocument(answer)
  const extras: Array<[string, string]> = []
  for (const name of KEPT_ERROR_FIELDS) {
    const v = child(doc.element, name)?.text
    if (v !== undefined && v.length <= 1024) extras.push([name, v])
  }
  const status = answer.status
  if ((status === 401 || status === 403) && SIGNING_FAILURES.has(doc.code)) {
    logger.error('backend refused the proxy signature', { request_id: call.requestId, backend: call.backendId, code: doc.code })
    return new S3Error(502, 'InternalError', 'The storage backend refused the proxy; the administrator has been told.', 'upstream-auth')
  }
  const headers: Record<string, string> = {}
  for (const name in answer.headers) if (passErrorHeader(name)) headers[name] = answer.headers[name]!
  return new S3Error(status, doc.code, doc.message, status >= 500 ? 'upstream-error' : 'upstream-refused', headers, extras)
}

async function replyOf(call: S3Call, answer: Answer): Promise<S3Reply> {
  const headers: Record<string, string> = {}
  for (const name in answer.headers) if (passResponseHeader(name)) headers[name] = answer.headers[name]!
  const status = answer.status
  if (call.inbound.method === 'HEAD' || status === 204 || status === 304) {
    await answer.discard()
    return { status, headers, body: { kind: 'empty' } }
  }
  const length = answer.contentLength < 0 ? undefined : answer.contentLength
  if (length !== undefined && length <= SMALL_RESPONSE) return { status, headers, body: { kind: 'bytes', bytes: await answer.bytes(SMALL_RESPONSE) } }
  return { status, headers, body: { kind: 'stream', length, stream: answer.stream() } }
}

const keepParam = (key: string): boolean => key !== 'x-id' && !isAuthParam(key)

export function createForwarder(d: { registry: Registry; logger: Logger }): S3Path {
  // The registry swaps a backend's settings object when the backend changes, which retires its client.
  const clients = new WeakMap<S3Settings, S3Client>()
  function upstream(backendId: string): S3Client {
    const settings = d.registry.upstream(backendId)
    if (!settings) throw serviceUnavailable('The storage backend of this credential is unavailable.')
    let client = clients.get(settings)
    if (!client) {
      client = createS3Client(settings, { idleMs: IDLE_MS })
      clients.set(settings, client)
    }
    return client
  }

  return {
    async serve(call: S3Call): Promise<S3Reply> {
      // The engine serves it; forwarded, RGW 16.2 would answer it as a plain GET of the object.
      if (call.op === 'GetObjectAttributes') throw notImplemented('GetObjectAttributes is not forwarded to S3 backends.')
      const up = upstream(call.backendId)
      const method = METHOD_OF[call.op]
      const headers = outboundHeaders(call)
      const b = call.body
      // A streamed body can fail (or its client go) on the way up: that stops the upstream call too.
      const stop = b.kind === 'stream' ? new AbortController() : undefined
      const signal = stop ? AbortSignal.any([call.signal, stop.signal]) : call.signal
      let failure: unknown
      const failed = (err: unknown): void => {
        failure ??= err
        stop?.abort()
      }
      let body: ReadableStream<Uint8Array> | Uint8Array | Readable | undefined
      if (b.kind === 'whole') body = b.bytes
      else if (b.kind === 'stream' && b.source) body = nodeBody(b.source, failed, () => stop?.abort())
      else if (b.kind === 'stream') body = watched(b.stream, failed)
      if (b.kind !== 'empty') headers.set('content-length', String(b.kind === 'whole' ? b.bytes.byteLength : b.length))
      else if (method === 'PUT' || method === 'POST') headers.set('content-length', '0')
      const payloadHash = b.kind === 'whole' || b.kind === 'stream' ? b.sha256 : undefined
      let answer: Answer
      try {
        answer = await up.send({
          method,
          bucket: call.bucket,
          ...(call.key !== undefined ? { key: call.key } : {}),
          query: outboundQuery(call.inbound.params, keepParam),
          headers,
          ...(payloadHash ? { payloadHash } : {}),
          ...(body !== undefined ? { body } : {}),
          signal,
        })
      } catch (err) {
        if (failure !== undefined) throw bodyError(failure)
        if (signal.aborted) throw clientGone()
        d.logger.warn('upstream request failed', {
          request_id: call.requestId,
          backend: call.backendId,
          error: (err as Error).message,
          code: (err as { code?: string }).code ?? '',
        })
        if (err instanceof TransportError && (err.kind === 'unreachable' || err.kind === 'timeout')) throw serviceUnavailable()
        throw badGateway()
      }
      if (answer.status >= 400) throw await upstreamError(call, answer, d.logger)
      return replyOf(call, answer)
    },
  }
}

/** A node body handed to the transport as it is; its failure is noted, and a client that goes away stops the call. */
function nodeBody(source: Readable, failed: (err: unknown) => void, gone: () => void): Readable {
  source.once('error', failed)
  source.once('aborted', gone)
  return source
}

/** AWS URI-encodes decoded query parameters for the outbound request, dropping presigned-URL auth and SDK hints. */
export function outboundQuery(params: ReadonlyArray<{ key: string; value: string }>, keep: (key: string) => boolean): string {
  let out = ''
  for (const p of params) {
    if (!keep(p.key)) continue
    out += (out === '' ? '' : '&') + uriEncode(p.key, { encodeSlash: true }) + '=' + uriEncode(p.value, { encodeSlash: true })
  }
  return out
}
