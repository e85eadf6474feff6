// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Get/Put/DeleteBucketCors through the S3 API, on both paths: the rules go
 * to the same CORS service the dashboard's bucket settings use (it answers
 * preflights on this listener and, where a backend takes them, applies them
 * there too), so there is one source of truth and never a second copy on the
 * upstream that Stowage does not know about.
 *
 * The document is S3's `CORSConfiguration`; the service validates the rules
 * and its refusal becomes `400 InvalidRequest` with its message. Rule `ID`s
 * are not kept (the dashboard's rules have none), so GetBucketCors answers
 * without them. A Content-MD5, when sent, must match the document.
 */
import { createHash } from 'node:crypto'
import type { AuditOrigin } from '../audit/model.ts'
import type { CorsRule } from '../bucket-settings/model.ts'
import type { CorsService } from '../bucket-settings/cors.ts'
import type { Registry } from '../backends/registry.ts'
import { children, escapeXml, parseXml, textOf, type XmlElement } from '../s3/xml.ts'
import { AppError } from '../http/errors.ts'
import type { Logger } from '../lib/log.ts'
import { storage } from '../storage/errors.ts'
import type { S3Call, S3Reply } from './call.ts'
import { S3Error, serviceUnavailable } from './errors.ts'

/** What the path needs of the dashboard's CORS service. */
export type CorsStore = Pick<CorsService, 'get' | 'set'>

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/'

const malformed = (): S3Error =>
  new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.', 'bad-request')
const noSuchBucket = (): S3Error => new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist.', 'upstream-refused')

function texts(el: XmlElement, name: string): string[] {
  return children(el, name).map((c) => c.text.trim())
}

/** The rules of a `CORSConfiguration` document, as the dashboard's API takes them. */
export function parseCorsConfiguration(doc: string): CorsRule[] {
  let root: XmlElement
  try {
    root = parseXml(doc)
  } catch {
    throw malformed()
  }
  if (root.name !== 'CORSConfiguration') throw malformed()
  const rules = children(root, 'CORSRule')
  if (rules.length === 0) throw malformed()
  return rules.map((r) => {
    const maxAge = textOf(r, 'MaxAgeSeconds')?.trim()
    if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge)) throw malformed()
    const allowedHeaders = texts(r, 'AllowedHeader')
    const exposeHeaders = texts(r, 'ExposeHeader')
    return {
      allowed_origins: texts(r, 'AllowedOrigin'),
      allowed_methods: texts(r, 'AllowedMethod'),
      ...(allowedHeaders.length ? { allowed_headers: allowedHeaders } : {}),
      ...(exposeHeaders.length ? { expose_headers: exposeHeaders } : {}),
      ...(maxAge !== undefined ? { max_age_seconds: Number(maxAge) } : {}),
    }
  })
}

export function corsConfigurationXml(rules: readonly CorsRule[]): string {
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n<CORSConfiguration xmlns="${XMLNS}">`
  for (const r of rules) {
    out += '<CORSRule>'
    for (const h of r.allowed_headers ?? []) out += `<AllowedHeader>${escapeXml(h)}</AllowedHeader>`
    for (const m of r.allowed_methods) out += `<AllowedMethod>${escapeXml(m)}</AllowedMethod>`
    for (const o of r.allowed_origins) out += `<AllowedOrigin>${escapeXml(o)}</AllowedOrigin>`
    for (const h of r.expose_headers ?? []) out += `<ExposeHeader>${escapeXml(h)}</ExposeHeader>`
    if (r.max_age_seconds !== undefined) out += `<MaxAgeSeconds>${r.max_age_seconds}</MaxAgeSeconds>`
    out += '</CORSRule>'
  }
  return out + '</CORSConfiguration>'
}

function documentOf(call: S3Call): string {
  const bytes = call.body.kind === 'whole' ? call.body.bytes : new Uint8Array(0)
  const md5 = call.headers.get('content-md5')
  if (md5 !== null && createHash('md5').update(bytes).digest('base64') !== md5.trim()) {
    throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.', 'bad-digest')
  }
  return Buffer.from(bytes).toString('utf8')
}

/** A refusal of the CORS service in S3 terms. */
function s3ErrorOf(err: unknown): unknown {
  if (!(err instanceof AppError)) return err
  if (err.code === 'invalid_cors') return new S3Error(400, 'InvalidRequest', err.message, 'bad-request')
  if (err.code === 'not_found') return noSuchBucket()
  if (err.code === 'backend_unavailable') return serviceUnavailable()
  return new S3Error(502, 'InternalError', 'The storage backend failed to answer the request.', 'upstream-error')
}

/** Serves the CORS operations of verified calls; `origin` goes into the service's own audit event. */
export function createCorsPath(d: { cors: CorsStore; registry: Registry; logger: Logger }) {
  async function requireBucket(call: S3Call): Promise<void> {
    const backend = d.registry.get(call.backendId)
    if (!(await storage(backend.bucketExists(call.bucket), d.logger))) throw noSuchBucket()
  }

  async function serve(call: S3Call, origin: AuditOrigin): Promise<S3Reply> {
    const by = { id: call.cred?.userId ?? call.cred?.accessKey ?? '' }
    switch (call.op) {
      case 'GetBucketCors': {
        await requireBucket(call)
        const { rules } = d.cors.get(call.backendId, call.bucket)
        if (rules.length === 0) throw new S3Error(404, 'NoSuchCORSConfiguration', 'The CORS configuration does not exist.', 'upstream-refused')
        return { status: 200, headers: { 'content-type': 'application/xml' }, body: { kind: 'bytes', bytes: Buffer.from(corsConfigurationXml(rules)) } }
      }
      case 'PutBucketCors':
        await d.cors.set(by, call.backendId, call.bucket, parseCorsConfiguration(documentOf(call)), origin)
        return { status: 200, headers: {}, body: { kind: 'empty' } }
      case 'DeleteBucketCors':
        await d.cors.set(by, call.backendId, call.bucket, [], origin)
        return { status: 204, headers: {}, body: { kind: 'empty' } }
      default:
        throw new Error(`not a CORS operation: ${call.op}`)
    }
  }

  return {
    async serve(call: S3Call, origin: AuditOrigin): Promise<S3Reply> {
      try {
        return await serve(call, origin)
      } catch (err) {
        throw s3ErrorOf(err)
      }
    },
  }
}
