// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The S3 proxy pipeline, per request:
 *
 *  1. request id, in-flight gauge; parse the target (path-style or virtual-hosted);
 *  2. CORS preflight (OPTIONS) — answered before authentication;
 *  3. browser POST Object (multipart/form-data to a bucket) — its own auth;
 *  4. global rate limit (before any crypto, so floods are cheap to shed);
 *  5. no SigV4 material and anonymous access on → anonymous read path;
 *  6. SigV4 verification (header or presigned), credential lookup (unknown,
 *     disabled, expired and owner-less keys all fail as InvalidAccessKeyId);
 *  7. per-key rate limit; operation allowlist; ListBuckets from the scope;
 *  8. bucket scope (+ write access), copy-source scope, ACL headers;
 *  9. hard quota before writes; forward re-signed; relay; adjust usage;
 * 10. metrics and an access-log line always; audit for every write, error and
 *     denial, and a sample (`audit.sampling.proxy_success_read_rate`) of
 *     successful reads.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { Registry } from '../backends/registry.ts'
import type { AppConfig } from '../config/load.ts'
import type { AnonymousService } from '../credentials/anonymous.ts'
import type { CredentialService, ResolvedCredential } from '../credentials/service.ts'
import type { CorsRule } from '../bucket-settings/model.ts'
import { headersOf } from '../http/node-server.ts'
import { cidrMatcher } from '../lib/cidr.ts'
import { requestId } from '../lib/ids.ts'
import type { Logger } from '../lib/log.ts'
import { handleBucketWrite } from './bucket-write.ts'
import { ANONYMOUS_OPS, classify, isAuthParam } from './classify.ts'
import { preflightHeaders, responseCorsHeaders } from './cors.ts'
import { accessDenied, internalError, S3Error, serviceUnavailable, slowDown } from './errors.ts'
import { claimedAccessKey, clientIp, sendBody, sendError, type Exchange } from './exchange.ts'
import { forward } from './forward.ts'
import { checkAclHeaders, checkResponseOverrides } from './headers.ts'
import { createLimits } from './limits.ts'
import { listBucketsXml } from './list-buckets.ts'
import type { ProxyMetrics } from './metrics.ts'
import { preparePayload } from './payload.ts'
import { handlePostObject, isPostObject } from './post-object.ts'
import { createQuotaGate, type StorageGate } from './quota.ts'
import { relay } from './relay.ts'
import { parseInbound, type Inbound } from './request.ts'
import { checkScope, copyRangeSize, parseCopySource } from './scope.ts'
import { hasSignature, verifyRequest, s3ErrorStatus } from './sigv4/verify.ts'
import { uriEncode } from './sigv4/canonical.ts'
import { outboundQuery, upstreamFor, type Upstream } from './upstream.ts'

export type ProxyDeps = {
  config: AppConfig
  registry: Registry
  credentials: CredentialService
  anonymous: AnonymousService
  accounting: StorageGate
  cors: { corsRules(backendId: string, bucket: string): readonly CorsRule[] }
  audit: AuditRecorder
  metrics: ProxyMetrics
  logger: Logger
  now: () => number
  /** Where POST Object spools file parts larger than memory allows. */
  spoolDir: string
}

export type S3Proxy = ReturnType<typeof createS3Proxy>

const ANONYMOUS_ONLY = 'Anonymous access is read-only: GetObject, HeadObject, HeadBucket and listings.'

export function createS3Proxy(d: ProxyDeps) {
  const cfg = d.config.s3_proxy
  const readSample = d.config.audit.sampling.proxy_success_read_rate
  const accessLevel = d.config.log.access_level
  const trusted = cidrMatcher(d.config.server.trusted_proxies)
  const limits = createLimits({ globalRps: cfg.global_rps, perKeyRps: cfg.per_key_rps })
  const quota = createQuotaGate(d.accounting)

  function upstream(backendId: string): Upstream {
    const settings = d.registry.upstream(backendId)
    if (!settings) throw serviceUnavailable('The storage backend of this credential is unavailable.')
    return upstreamFor(settings)
  }

  function rulesFor(backendId: string, bucket: string): readonly CorsRule[] {
    return d.cors.corsRules(backendId, bucket)
  }

  function decorateCors(x: Exchange, backendId: string, bucket: string): void {
    const origin = x.req.headers.origin
    if (origin === undefined) return
    const rules = rulesFor(backendId, bucket)
    if (rules.length > 0) x.cors = responseCorsHeaders(rules, origin, x.req.method!)
  }

  function preflight(x: Exchange): void {
    x.authMode = 'cors'
    x.op = 'CORSPreflight'
    const origin = x.req.headers.origin
    const method = x.req.headers['access-control-request-method']
    const bucket = x.inb!.bucket
    if (origin === undefined || method === undefined || bucket === undefined) {
      throw new S3Error(400, 'BadRequest', 'Insufficient information. Origin request header needed.', 'bad-preflight')
    }
    const rules: CorsRule[] = []
    for (const e of d.registry.active()) if (e.type === 's3') rules.push(...rulesFor(e.id, bucket))
    const headers = preflightHeaders(rules, origin, String(method).toUpperCase(), x.req.headers['access-control-request-headers'])
    if (!headers) throw new S3Error(403, 'AccessForbidden', 'CORSResponse: This CORS request is not allowed: no CORS rule of this bucket matches its origin, method and headers.', 'cors-refused')
    x.cors = headers
    sendBody(x, 200, '', {})
  }

  /** Anonymous callers learn nothing about the allowlist: whatever is not a plain read is AccessDenied. */
  function anonymousOp(inb: Inbound, headers: Headers): ReturnType<typeof classify> {
    try {
      return classify(inb, headers)
    } catch (err) {
      if (err instanceof S3Error && err.status !== 400) throw accessDenied(ANONYMOUS_ONLY, 'anonymous-op')
      throw err
    }
  }

  function keepParam(key: string): boolean {
    return key !== 'x-id' && !isAuthParam(key)
  }

  async function anonymousRequest(x: Exchange, headers: Headers): Promise<void> {
    x.authMode = 'anonymous'
    const inb = x.inb!
    if (inb.bucket === undefined) throw accessDenied('Anonymous requests must name a bucket.', 'anonymous-no-bucket')
    const binding = d.anonymous.byBucket(inb.bucket)
    if (!binding) throw accessDenied('Access Denied', 'anonymous-unbound')
    x.backendId = binding.backendId
    x.bucket = inb.bucket
    x.key = inb.key
    const rl = limits.anonymous(binding.bucket, x.ip, binding.rps, x.now)
    if (!rl.ok) throw slowDown(rl.retryAfterSeconds, 'rate-limited')
    const c = anonymousOp(inb, headers)
    x.op = c.op
    x.access = c.access
    if (!ANONYMOUS_OPS.has(c.op) || inb.query.has('versionId')) throw accessDenied(ANONYMOUS_ONLY, 'anonymous-op')
    checkResponseOverrides(inb.params)
    decorateCors(x, binding.backendId, inb.bucket)
    const payload = preparePayload(x.req, undefined)
    const response = await forward(x, { up: upstream(binding.backendId), bucket: inb.bucket, key: inb.key, query: outboundQuery(inb.params, keepParam), payload }, d.metrics, d.logger)
    await relay(x, response, d.logger)
  }

  async function signedRequest(x: Exchange, headers: Headers): Promise<void> {
    const inb = x.inb!
    let resolved: ResolvedCredential | undefined
    const v = verifyRequest({ method: inb.method, rawPath: inb.rawPath, rawQuery: inb.rawQuery, headers, now: new Date(x.now) }, (akid) => {
      resolved = d.credentials.resolve(akid, x.now)
      return resolved?.secret
    })
    if (!v.ok) {
      x.cred = resolved
      x.claimedKey = claimedAccessKey(x.req.headers.authorization, inb.rawQuery)
      d.metrics.authFailures.inc({ reason: v.reason })
      throw new S3Error(s3ErrorStatus(v.code), v.code, v.message, `auth-${v.reason}`)
    }
    const cred = resolved!
    x.cred = cred
    x.authMode = v.authMode === 'presigned' ? 'presigned' : 'signed'
    x.backendId = cred.backendId
    const rl = limits.key(cred.accessKey, x.now)
    if (!rl.ok) throw slowDown(rl.retryAfterSeconds, 'rate-limited')
    const c = classify(inb, headers)
    x.op = c.op
    x.access = c.access
    if (c.op === 'ListBuckets') {
      sendBody(x, 200, listBucketsXml(cred.buckets, cred.createdAt, cred.accessKey), { 'content-type': 'application/xml' })
      return
    }
    const bucket = inb.bucket!
    x.bucket = bucket
    x.key = inb.key
    decorateCors(x, cred.backendId, bucket)
    checkScope(cred, bucket, c.access)
    checkAclHeaders((n) => headers.get(n) ?? undefined, headers.keys())
    checkResponseOverrides(inb.params)
    const up = upstream(cred.backendId)
    const backend = d.registry.get(cred.backendId)

    let copySource: string | undefined
    let src: ReturnType<typeof parseCopySource> | undefined
    if (c.op === 'CopyObject' || c.op === 'UploadPartCopy') {
      src = parseCopySource(headers.get('x-amz-copy-source')!)
      checkScope(cred, src.bucket, 'read')
      copySource = `/${src.bucket}/${uriEncode(src.key, { encodeSlash: false })}${src.versionId ? `?versionId=${uriEncode(src.versionId, { encodeSlash: true })}` : ''}`
    }

    if (c.op === 'DeleteObjects') return handleBucketWrite(x, { up, backend, bucket, quota, query: outboundQuery(inb.params, keepParam), verified: v }, d.metrics, d.logger)

    const payload = preparePayload(x.req, v)
    const settle = await quota.before(c.op, {
      backend,
      bid: cred.backendId,
      bucket,
      key: inb.key,
      bytes: payload.length,
      src,
      copyRange: copyRangeSize(headers.get('x-amz-copy-source-range') ?? undefined),
      uploadId: inb.query.get('uploadId'),
      versionId: inb.query.get('versionId'),
    })
    let response = await forward(x, { up, bucket, key: inb.key, query: outboundQuery(inb.params, keepParam), payload, copySource }, d.metrics, d.logger)
    if (response.status < 300 && settle) {
      // CompleteMultipartUpload and CopyObject can fail inside a 200, with an <Error> document.
      if (c.op === 'CompleteMultipartUpload' || c.op === 'CopyObject') {
        const text = await response.text()
        if (!text.includes('<Error>')) quota.settle(cred.backendId, bucket, settle)
        const headers = new Headers(response.headers)
        headers.set('content-length', String(Buffer.byteLength(text)))
        response = new Response(text, { status: response.status, headers })
      } else quota.settle(cred.backendId, bucket, settle)
    }
    await relay(x, response, d.logger)
  }

  async function run(x: Exchange): Promise<void> {
    const req = x.req
    x.inb = parseInbound(req.method!, req.url ?? '/', req.headers.host ?? '', cfg.host_suffixes)
    if (req.method === 'OPTIONS') return preflight(x)
    if (isPostObject(x.inb, req)) {
      x.op = 'PostObject'
      x.authMode = 'post-policy'
      return handlePostObject(x, { registry: d.registry, credentials: d.credentials, quota, limits, cors: decorateCors, config: d.config, metrics: d.metrics, logger: d.logger, spoolDir: d.spoolDir })
    }
    const g = limits.global(x.now)
    if (!g.ok) throw slowDown(g.retryAfterSeconds, 'rate-limited')
    const headers = headersOf(req)
    if (cfg.anonymous_enabled && !hasSignature({ headers, rawQuery: x.inb.rawQuery })) return anonymousRequest(x, headers)
    return signedRequest(x, headers)
  }

  function finish(x: Exchange): void {
    const m = d.metrics
    const durationMs = performance.now() - x.start
    m.inFlight.dec()
    m.requests.inc({ operation: x.op, status: String(x.status), auth_mode: x.authMode })
    m.duration.observe({ operation: x.op }, durationMs / 1000)
    if (accessLevel !== 'off') {
      d.logger.log(accessLevel, 'request', {
        request_id: x.id,
        listener: 's3-proxy',
        method: x.req.method,
        operation: x.op,
        status: x.status,
        duration_ms: Math.round(durationMs * 10) / 10,
        bytes_in: x.bytesIn,
        bytes_out: x.bytesOut,
        auth_mode: x.authMode,
        ...(x.cred ? { access_key: x.cred.accessKey } : x.claimedKey ? { claimed_access_key: x.claimedKey } : {}),
        ...(x.reason !== 'ok' ? { result: x.reason } : {}),
        ip: x.ip,
      })
    }
    if (x.bytesIn > 0) m.bytesIn.inc({ operation: x.op }, x.bytesIn)
    if (x.bytesOut > 0) m.bytesOut.inc({ operation: x.op }, x.bytesOut)
    if (x.status >= 400 && x.authMode !== 'cors' && x.reason !== 'ok' && !x.reason.startsWith('auth-') && !x.reason.startsWith('upstream')) m.denials.inc({ reason: x.reason })
    if (x.authMode === 'cors') return
    const failed = x.status >= 400
    if (!failed && x.access !== 'write' && !(readSample > 0 && Math.random() < readSample)) return
    d.audit.record({
      action: `s3.proxy.${x.op.toLowerCase()}`,
      status: !failed ? 'ok' : x.status >= 500 ? 'error' : 'denied',
      userId: x.cred?.userId ?? null,
      backend: x.backendId ?? null,
      bucket: x.bucket ?? null,
      key: x.key ?? null,
      requestId: x.id,
      ip: x.ip,
      userAgent: x.req.headers['user-agent'] ?? null,
      detail: {
        auth_mode: x.authMode,
        ...(x.cred ? { access_key: x.cred.accessKey } : x.claimedKey ? { claimed_access_key: x.claimedKey } : {}),
        status: x.status,
        result: x.reason,
        ...(x.bytesIn > 0 ? { bytes_in: x.bytesIn } : {}),
      },
    })
  }

  return {
    /** Serves one request; never throws. */
    handle(req: IncomingMessage, res: ServerResponse): void {
      const now = d.now()
      const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined
      const x: Exchange = {
        id: requestId(),
        req,
        res,
        start: performance.now(),
        now,
        ip: clientIp(req, trusted),
        op: 'unknown',
        authMode: 'none',
        status: 0,
        reason: 'ok',
        bytesIn: 0,
        bytesOut: 0,
        bodyPending: hasBody,
        continued: false,
        abort: new AbortController(),
      }
      d.metrics.inFlight.inc()
      res.on('close', () => {
        if (!res.writableFinished) {
          x.abort.abort()
          if (x.status === 0 || x.reason === 'ok') x.reason = 'client-gone'
        }
      })
      run(x)
        .catch((err: unknown) => {
          if (x.abort.signal.aborted && !(err instanceof S3Error && err.reason !== 'client-gone')) return x.res.destroy()
          if (err instanceof S3Error) return sendError(x, err)
          d.logger.error('s3 proxy request failed', { request_id: x.id, op: x.op, error: (err as Error)?.message, stack: (err as Error)?.stack })
          sendError(x, internalError())
        })
        .finally(() => {
          if (x.status === 0) x.status = 499
          finish(x)
        })
    },
  }
}
