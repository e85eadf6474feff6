// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The S3 listener's pipeline. Every request takes these steps once, in this
 * order, and the first that refuses answers (run, below):
 *
 *  1. parse the target (path-style or virtual-hosted);
 *  2. CORS preflight (OPTIONS), answered before authentication;
 *  3. browser POST Object: its own authentication (a signed policy form),
 *     then the PutObject it amounts to (postObject);
 *  4. the global rate limit, before any crypto, so floods are cheap to shed;
 *  5. who is asking: a SigV4 signature (header or presigned) and its
 *     credential — unknown, disabled, expired and owner-less keys all fail as
 *     InvalidAccessKeyId — or, with no signature and anonymous access on, an
 *     anonymous binding; then that key's (or client IP's) rate limit;
 *  6. the operation, from the allowlist; ListBuckets is answered here, from
 *     the credential's scope (and the backend's listing when the scope has
 *     bucket-name prefixes), less what the key owner's grants hide;
 *  7. authorization: bucket scope and the access the operation needs (a new
 *     bucket's name is checked before anything reaches the backend), the
 *     copy source's scope, the key owner's grants as they are now
 *     (grants.ts), ACL headers, `response-*` overrides, and which path serves
 *     the call — the forwarder for `s3` backends, the engine for `fs` ones,
 *     and for either the CORS service for bucket CORS;
 *  8. the body's framing and the hard quota, before any body byte is read
 *     (so `Expect: 100-continue` is answered only now);
 *  9. the body, read or wrapped once, into one immutable S3Call (the keys of
 *     a DeleteObjects document are checked against the owner's grants here);
 * 10. the path serves the call; usage is settled (a deleted bucket's quota,
 *     CORS rules, pins and anonymous binding are forgotten).
 *
 * One module writes every reply and error to the client (respond.ts); the
 * request's record, which only this file writes, becomes metrics, an access
 * line and an audit row when the request is over (record.ts) — for a write,
 * the audit row is committed before its answer is sent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AccessView } from '../access/view.ts'
import type { AuditRecorder } from '../audit/recorder.ts'
import type { AuditOrigin } from '../audit/model.ts'
import type { CorsRule } from '../bucket-settings/model.ts'
import type { Registry } from '../backends/registry.ts'
import type { AppConfig } from '../config/load.ts'
import type { AnonymousService } from '../credentials/anonymous.ts'
import type { CredentialService, ResolvedCredential } from '../credentials/service.ts'
import { headersOf } from '../http/node-server.ts'
import { cidrMatcher } from '../lib/cidr.ts'
import { clientIp } from '../lib/client-ip.ts'
import { requestId } from '../lib/ids.ts'
import type { Logger } from '../lib/log.ts'
import type { LimitResult } from '../lib/rate-limit.ts'
import type { QuotaService } from '../quotas/service.ts'
import { bodySlabs, planBody, readBody } from './body.ts'
import { createCorsPath, type CorsStore } from './bucket-cors.ts'
import type { CallBody, S3Call, S3Path, S3Reply } from './call.ts'
import { ANONYMOUS_OPS, classify, OWNER_OPS, type Classified, type Operation } from './classify.ts'
import { preflightHeaders, responseCorsHeaders } from './cors.ts'
import { accessDenied, internalError, S3Error, serviceUnavailable, slowDown } from './errors.ts'
import { createForwarder } from './forwarder.ts'
import { checkDeleteKeys, checkOwner, checkOwnerUpload } from './grants.ts'
import { checkAclHeaders, checkResponseOverrides, objectCsp } from './headers.ts'
import { createLimits } from './limits.ts'
import { listBucketsReply } from './list-buckets.ts'
import type { ProxyMetrics } from './metrics.ts'
import { isPostObject, policyError, postAnswer, postUpload, readPostForm, spooledBody, spoolPostFile } from './post-object.ts'
import { createQuotaGate, type Pending, type StorageGate } from './quota.ts'
import { createRecorder, type RequestRecord } from './record.ts'
import { parseInbound, type Inbound } from './request.ts'
import { letBodyCome, sendError, sendReply, type Wire } from './respond.ts'
import { checkNewBucket, checkScope, copyRangeSize, parseCopySource, type CopySource } from './scope.ts'
import { claimedAccessKey } from './sigv4/parse.ts'
import { verifyPostPolicy } from './sigv4/postpolicy.ts'
import { hasSignature, s3ErrorStatus, verifyRequest, type VerifyOk } from './sigv4/verify.ts'

export type ProxyDeps = {
  config: AppConfig
  registry: Registry
  credentials: CredentialService
  anonymous: AnonymousService
  /** The grants of a key's owner as they are now; undefined when the owner is gone or disabled. */
  access: { viewForUser(userId: string): Promise<AccessView | undefined> }
  /** Quotas and usage; `forget` drops a deleted bucket's settings everywhere. */
  accounting: StorageGate & Pick<QuotaService, 'forget'>
  cors: CorsStore & { corsRules(backendId: string, bucket: string): readonly CorsRule[] }
  audit: AuditRecorder
  metrics: ProxyMetrics
  logger: Logger
  now: () => number
  /** Where POST Object spools file parts larger than memory allows. */
  spoolDir: string
  /** Serves credentials whose backend is of type `fs`; until it is there, they are refused as unavailable. */
  engine?: S3Path
}

export type S3Proxy = ReturnType<typeof createS3Proxy>

/** Who a request comes from, once authenticated. */
type Identity = { kind: 'credential'; cred: ResolvedCredential; verified: VerifyOk; backendId: string } | { kind: 'anonymous'; backendId: string }

const ANONYMOUS_ONLY = 'Anonymous access is read-only: GetObject, HeadObject, HeadBucket and listings.'
/** Documents are read whole: DeleteObjects' (1000 keys of up to 1 KiB fit easily) and bucket configurations. */
const MAX_DOCUMENT = 2 * 1024 * 1024

/** Served by the CORS service, whichever path serves the backend. */
const CORS_OPS: ReadonlySet<Operation> = new Set(['GetBucketCors', 'PutBucketCors', 'DeleteBucketCors'])

function shed(limit: LimitResult): void {
  if (!limit.ok) throw slowDown(limit.retryAfterSeconds, 'rate-limited')
}

export function createS3Proxy(d: ProxyDeps) {
  const cfg = d.config.s3_proxy
  const trusted = cidrMatcher(d.config.server.trusted_proxies)
  const limits = createLimits({ globalRps: cfg.global_rps, perKeyRps: cfg.per_key_rps })
  const quota = createQuotaGate(d.accounting, (id) => d.registry.get(id))
  const forwarder = createForwarder({ registry: d.registry, logger: d.logger })
  const corsPath = createCorsPath({ cors: d.cors, registry: d.registry, logger: d.logger })
  const recorder = createRecorder(d)

  async function run(r: RequestRecord, w: Wire): Promise<S3Reply> {
    const req = w.req
    const target = parseInbound(req.method!, req.url ?? '/', req.headers.host ?? '', cfg.host_suffixes)
    r.resource = target.resource
    if (req.method === 'OPTIONS') return preflight(r, w, target)
    if (isPostObject(target, req)) return postObject(r, w, target)
    shed(limits.global(r.now))
    const headers = headersOf(req)
    const who = cfg.anonymous_enabled && !hasSignature({ headers, rawQuery: target.rawQuery }) ? anonymous(r, target) : await authenticate(r, target, headers)
    const c = operation(r, who, target, headers)
    if (c.op === 'ListBuckets') return listBuckets(who)
    const bucket = target.bucket!
    r.bucket = bucket
    r.key = target.key
    decorateCors(w, who.backendId, bucket)
    // Read once per request: on a shared store it costs a round trip.
    const owner = await ownerView(who.kind === 'credential' ? who.cred : undefined)
    const copySource = authorize(who, owner, c, bucket, target, headers)
    // The backend must be usable for bucket CORS too, though the rules are Stowage's.
    const storagePath = pathFor(who.backendId)
    const path = CORS_OPS.has(c.op) ? { serve: (call: S3Call) => corsPath.serve(call, originOf(r)) } : storagePath
    const plan = planBody(req, who.kind === 'credential' ? who.verified : undefined)
    const pending = await quota.admit({
      op: c.op,
      backendId: who.backendId,
      bucket,
      key: target.key,
      bytes: plan.kind === 'empty' ? 0 : plan.length,
      copySource,
      copyRange: copyRangeSize(headers.get('x-amz-copy-source-range') ?? undefined),
      uploadId: target.query.get('uploadId'),
      versionId: target.query.get('versionId'),
    })
    if (plan.kind !== 'empty') letBodyCome(w)
    const body = await readBody(req, plan, { signal: w.signal, ...(c.op === 'DeleteObjects' || OWNER_OPS.has(c.op) ? { document: MAX_DOCUMENT } : {}) })
    if (owner && c.op === 'DeleteObjects' && body.kind === 'whole') checkDeleteKeys(owner, who.backendId, bucket, body.bytes)
    const call: S3Call = Object.freeze({
      requestId: r.id,
      op: c.op,
      access: c.access,
      inbound: target,
      bucket,
      key: target.key,
      headers,
      body,
      copySource,
      cred: who.kind === 'credential' ? who.cred : undefined,
      backendId: who.backendId,
      signal: w.signal,
      now: r.now,
    })
    return serve(r, path, call, pending)
  }

  /** Runs a call on its path and settles usage; the record learns how long the path took and what came in. */
  async function serve(r: RequestRecord, path: S3Path, call: S3Call, pending: Pending | undefined): Promise<S3Reply> {
    await quota.measure(call, pending)
    const started = performance.now()
    let reply: S3Reply
    try {
      reply = await path.serve(call)
    } finally {
      r.servedMs = performance.now() - started
    }
    reply = await quota.settle(call, reply, pending)
    // A bucket of the same name made later, by anyone, starts without the old one's settings.
    if (call.op === 'DeleteBucket' && reply.status < 300) await d.accounting.forget(call.backendId, call.bucket)
    r.bytesIn = bodyLength(call.body)
    // A success means the path took the whole body, so nothing reads the slab any more.
    if (call.body.kind === 'whole' && reply.status < 300) bodySlabs.give(call.body.bytes)
    if ((call.op === 'GetObject' || call.op === 'HeadObject') && reply.status < 300)
      reply = { ...reply, headers: { ...reply.headers, 'content-security-policy': objectCsp(reply.headers['content-type']) } }
    return reply
  }

  /** The path that serves a backend: the forwarder for `s3`, the engine for `fs`. */
  function pathFor(backendId: string): S3Path {
    const fs = d.registry.entry(backendId)?.type === 'fs'
    const path = fs ? d.engine : forwarder
    // An fs backend while there is no engine, or an s3 backend that is disabled or gone.
    if (!path || (!fs && !d.registry.upstream(backendId))) throw serviceUnavailable('The storage backend of this credential is unavailable.')
    return path
  }

  async function authenticate(r: RequestRecord, target: Inbound, headers: Headers): Promise<Identity> {
    let resolved: ResolvedCredential | undefined
    const claimed = claimedAccessKey(headers.get('authorization') ?? undefined, target.rawQuery)
    if (claimed) await d.credentials.warm(claimed)
    const v = verifyRequest({ method: target.method, rawPath: target.rawPath, rawQuery: target.rawQuery, headers, now: new Date(r.now) }, (akid) => {
      resolved = d.credentials.resolve(akid, r.now)
      return resolved?.secret
    })
    if (!v.ok) {
      r.cred = resolved
      r.claimedKey = claimed
      r.authFailure = v.reason
      throw new S3Error(s3ErrorStatus(v.code), v.code, v.message, `auth-${v.reason}`)
    }
    const cred = resolved!
    r.cred = cred
    r.authMode = v.authMode === 'presigned' ? 'presigned' : 'signed'
    r.backendId = cred.backendId
    shed(limits.key(cred.accessKey, r.now))
    return { kind: 'credential', cred, verified: v, backendId: cred.backendId }
  }

  function anonymous(r: RequestRecord, target: Inbound): Identity {
    r.authMode = 'anonymous'
    if (target.bucket === undefined) throw accessDenied('Anonymous requests must name a bucket.', 'anonymous-no-bucket')
    const binding = d.anonymous.byBucket(target.bucket)
    if (!binding) throw accessDenied('Access Denied', 'anonymous-unbound')
    r.backendId = binding.backendId
    r.bucket = target.bucket
    r.key = target.key
    shed(limits.anonymous(binding.bucket, r.ip, binding.rps, r.now))
    return { kind: 'anonymous', backendId: binding.backendId }
  }

  /** The operation; anonymous callers learn nothing about the allowlist: whatever is not a plain read is AccessDenied. */
  function operation(r: RequestRecord, who: Identity, target: Inbound, headers: Headers): Classified {
    let c: Classified
    try {
      c = classify(target, headers)
    } catch (err) {
      if (who.kind === 'anonymous' && err instanceof S3Error && err.status !== 400) throw accessDenied(ANONYMOUS_ONLY, 'anonymous-op')
      throw err
    }
    r.op = c.op
    r.access = c.access
    if (who.kind === 'anonymous' && (!ANONYMOUS_OPS.has(c.op) || target.query.has('versionId'))) throw accessDenied(ANONYMOUS_ONLY, 'anonymous-op')
    return c
  }

  /** The grants of the key's owner, as they are now: undefined for keys owned by nobody (and anonymous requests). */
  async function ownerView(cred: ResolvedCredential | undefined): Promise<AccessView | undefined> {
    if (!cred || cred.userId === null) return undefined
    const view = await d.access.viewForUser(cred.userId)
    if (!view) throw accessDenied("The key's owner has no access to this.", 'grant-denied')
    return view
  }

  /** Everything a verified request must also pass; returns the parsed copy source of a copy. */
  function authorize(who: Identity, owner: AccessView | undefined, c: Classified, bucket: string, target: Inbound, headers: Headers): CopySource | undefined {
    if (who.kind === 'anonymous') {
      checkResponseOverrides(target.params)
      return undefined
    }
    if (c.op === 'CreateBucket') checkNewBucket(bucket, headers)
    checkScope(who.cred, bucket, c.access)
    checkAclHeaders((n) => headers.get(n) ?? undefined, headers.keys())
    checkResponseOverrides(target.params)
    const copy = c.op === 'CopyObject' || c.op === 'UploadPartCopy'
    const src = copy ? parseCopySource(headers.get('x-amz-copy-source')!) : undefined
    if (src) checkScope(who.cred, src.bucket, 'read')
    if (owner) checkOwner(owner, who.backendId, c, bucket, target, src)
    return src
  }

  async function listBuckets(who: Identity): Promise<S3Reply> {
    if (who.kind !== 'credential') throw accessDenied('Anonymous requests must name a bucket.', 'anonymous-no-bucket')
    return listBucketsReply(d, who.cred, await ownerView(who.cred))
  }

  /** Who and where, for the audit events a service records on the credential's behalf. */
  function originOf(r: RequestRecord): AuditOrigin {
    return { userId: r.cred?.userId ?? null, requestId: r.id, ip: r.ip, userAgent: r.userAgent }
  }

  function preflight(r: RequestRecord, w: Wire, target: Inbound): S3Reply {
    r.authMode = 'cors'
    r.op = 'CORSPreflight'
    const origin = w.req.headers.origin
    const method = w.req.headers['access-control-request-method']
    if (origin === undefined || method === undefined || target.bucket === undefined) {
      throw new S3Error(400, 'BadRequest', 'Insufficient information. Origin request header needed.', 'bad-preflight')
    }
    const rules: CorsRule[] = []
    for (const e of d.registry.active()) rules.push(...d.cors.corsRules(e.id, target.bucket))
    const headers = preflightHeaders(rules, origin, String(method).toUpperCase(), w.req.headers['access-control-request-headers'])
    if (!headers)
      throw new S3Error(
        403,
        'AccessForbidden',
        'CORSResponse: This CORS request is not allowed: no CORS rule of this bucket matches its origin, method and headers.',
        'cors-refused',
      )
    Object.assign(w.headers, headers)
    return { status: 200, headers: {}, body: { kind: 'empty' } }
  }

  /** CORS headers for the actual response (errors included), when a rule of the bucket matches. */
  function decorateCors(w: Wire, backendId: string, bucket: string): void {
    const origin = w.req.headers.origin
    if (origin === undefined) return
    const rules = d.cors.corsRules(backendId, bucket)
    const headers = rules.length > 0 ? responseCorsHeaders(rules, origin, w.req.method!) : undefined
    if (headers) Object.assign(w.headers, headers)
  }

  /** A browser form upload: the policy is its authentication; the file goes to the path as a PutObject. */
  async function postObject(r: RequestRecord, w: Wire, target: Inbound): Promise<S3Reply> {
    r.op = 'PostObject'
    r.authMode = 'post-policy'
    r.access = 'write'
    const bucket = target.bucket!
    r.bucket = bucket
    shed(limits.global(r.now))
    letBodyCome(w)
    const form = await readPostForm(w.req)
    let resolved: ResolvedCredential | undefined
    const claimed = form.fields['x-amz-credential']?.split('/')[0]?.slice(0, 128)
    if (claimed) await d.credentials.warm(claimed)
    const verified = verifyPostPolicy(form.fields, (akid) => (resolved = d.credentials.resolve(akid, r.now))?.secret, new Date(r.now))
    if (!verified.ok) {
      r.cred = resolved
      r.claimedKey = claimed
      r.authFailure = verified.reason === 'policy' ? 'malformed' : verified.reason
      throw policyError(verified)
    }
    const cred = resolved!
    r.cred = cred
    r.backendId = cred.backendId
    decorateCors(w, cred.backendId, bucket)
    shed(limits.key(cred.accessKey, r.now))
    checkScope(cred, bucket, 'write')
    const upload = postUpload(form, bucket, verified.policy)
    r.key = upload.key
    const owner = await ownerView(cred)
    if (owner) checkOwnerUpload(owner, cred.backendId, bucket, upload.key)
    const path = pathFor(cred.backendId)
    const spool = await spoolPostFile(form, upload, verified.policy, bucket, d.spoolDir)
    try {
      const pending = await quota.admit({ op: 'PutObject', backendId: cred.backendId, bucket, key: upload.key, bytes: spool.size })
      const call: S3Call = Object.freeze({
        requestId: r.id,
        op: 'PutObject',
        access: 'write',
        inbound: target,
        bucket,
        key: upload.key,
        headers: upload.headers,
        body: await spooledBody(spool),
        cred,
        backendId: cred.backendId,
        signal: w.signal,
        now: r.now,
      })
      const reply = await serve(r, path, call, pending)
      return reply.status >= 300
        ? reply
        : postAnswer(form, reply, { bucket, key: upload.key, inbound: target, publicHostname: cfg.public_hostname, publicScheme: cfg.public_scheme })
    } finally {
      await spool.dispose()
    }
  }

  /** Runs the pipeline and writes its answer; the record gets the status, reason and bytes out. */
  async function answer(r: RequestRecord, w: Wire): Promise<void> {
    try {
      const reply = await run(r, w)
      r.status = reply.status
      try {
        await recorder.beforeAnswer(r)
      } catch {
        if (reply.body.kind === 'stream') reply.body.stream.cancel().catch(() => {})
        throw serviceUnavailable('The audit log could not be written, so the change may or may not have been applied.', 'audit-unavailable')
      }
      r.bytesOut = await sendReply(w, reply)
    } catch (err) {
      if (w.signal.aborted && !(err instanceof S3Error && err.reason !== 'client-gone')) return void w.res.destroy()
      if (w.res.headersSent) return void w.res.destroy()
      let e: S3Error
      if (err instanceof S3Error) e = err
      else {
        d.logger.error('s3 proxy request failed', { request_id: r.id, op: r.op, error: (err as Error)?.message, stack: (err as Error)?.stack })
        e = internalError()
      }
      r.status = e.status
      r.reason = e.reason
      r.bytesOut = await sendError(w, e, r.resource, r.id)
    }
  }

  return {
    /** Serves one request; never throws. */
    handle(req: IncomingMessage, res: ServerResponse): void {
      const abort = new AbortController()
      const r: RequestRecord = {
        id: requestId(),
        method: req.method ?? '',
        ip: clientIp(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for'] as string | undefined, trusted),
        userAgent: req.headers['user-agent'] ?? null,
        start: performance.now(),
        now: d.now(),
        op: 'unknown',
        authMode: 'none',
        resource: '/',
        status: 0,
        reason: 'ok',
        bytesIn: 0,
        bytesOut: 0,
      }
      const w: Wire = { req, res, signal: abort.signal, headers: { 'x-amz-request-id': r.id, 'x-content-type-options': 'nosniff' } }
      recorder.begin()
      res.on('close', () => {
        if (res.writableFinished) return
        abort.abort()
        if (r.status === 0 || r.reason === 'ok') r.reason = 'client-gone'
      })
      answer(r, w)
        .catch((err: unknown) => {
          d.logger.error('s3 proxy answer failed', { request_id: r.id, error: (err as Error)?.message })
          res.destroy()
        })
        .finally(() => {
          if (r.status === 0) r.status = 499
          recorder.finish(r)
        })
    },
  }
}

/** Bytes the path received: the body's length (decoded, for aws-chunked). */
function bodyLength(body: CallBody): number {
  return body.kind === 'whole' ? body.bytes.byteLength : body.kind === 'stream' ? body.length : 0
}
