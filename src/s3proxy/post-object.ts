// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Browser-based uploads (S3 POST Object): an HTML form posts fields, a
 * SigV4-signed policy and a `file` part to the bucket URL.
 *
 * The form is streamed with @fastify/busboy; only fields are held (each
 * ≤ 64 KiB, ≤ 64 of them, ≤ 1 MiB together). The policy is verified when the
 * file part begins (fields after it are ignored, as S3 does), together with
 * every condition except content-length-range and the credential's write
 * scope on the bucket. The file part is then spooled (memory up to 1 MiB,
 * then a private temp file under the data directory), capped at the policy's
 * content-length-range maximum (5 GiB without one), because the upstream
 * needs its exact length; then the size is checked against the range and the
 * bucket's hard quota, and it goes upstream as a PutObject.
 *
 * Answer (anchor §5.8): `success_action_redirect` (http/https) → 303 to it
 * with bucket, key and etag added; else `success_action_status` 200 → 200,
 * 201 → 201 with a PostResponse document, anything else → 204.
 */
import type { IncomingMessage } from 'node:http'
import { Busboy, type BusboyFileStream } from '@fastify/busboy'
import { escapeXmlText } from '../backends/s3/xml.ts'
import type { Registry } from '../backends/registry.ts'
import type { AppConfig } from '../config/load.ts'
import type { CredentialService, ResolvedCredential } from '../credentials/service.ts'
import type { Logger } from '../lib/log.ts'
import { Spool } from '../lib/spool.ts'
import { S3Error, slowDown } from './errors.ts'
import { letBodyCome, sendBody, type Exchange } from './exchange.ts'
import { forward } from './forward.ts'
import type { Limits } from './limits.ts'
import type { ProxyMetrics } from './metrics.ts'
import type { QuotaGate } from './quota.ts'
import { quotaError } from './quota.ts'
import { relay } from './relay.ts'
import type { Inbound } from './request.ts'
import { checkScope } from './scope.ts'
import { uriEncode } from './sigv4/canonical.ts'
import { checkPolicyConditions, contentLengthRange, verifyPostPolicy, type PostPolicyFail } from './sigv4/postpolicy.ts'
import { s3ErrorStatus } from './sigv4/verify.ts'
import { upstreamFor } from './upstream.ts'

const FIELD_BYTES = 64 * 1024
const FIELDS_TOTAL = 1024 * 1024
const MAX_FIELDS = 64
const DEFAULT_MAX_FILE = 5 * 1024 ** 3

/** Form fields that become headers of the upstream PutObject. */
const HEADER_FIELDS = ['cache-control', 'content-type', 'content-disposition', 'content-encoding', 'expires', 'x-amz-storage-class', 'x-amz-server-side-encryption', 'x-amz-website-redirect-location']

export type PostObjectDeps = {
  registry: Registry
  credentials: CredentialService
  quota: QuotaGate
  limits: Limits
  cors(x: Exchange, backendId: string, bucket: string): void
  config: AppConfig
  metrics: ProxyMetrics
  logger: Logger
  spoolDir: string
}

export function isPostObject(inb: Inbound, req: IncomingMessage): boolean {
  return inb.method === 'POST' && inb.bucket !== undefined && inb.key === undefined && inb.params.length === 0 && /^multipart\/form-data\s*;/i.test(req.headers['content-type'] ?? '')
}

const malformed = (message: string): S3Error => new S3Error(400, 'MalformedPOSTRequest', message, 'bad-form')

function policyError(f: PostPolicyFail): S3Error {
  return new S3Error(s3ErrorStatus(f.code), f.code, f.message, f.reason === 'policy' ? 'policy-violation' : `auth-${f.reason}`)
}

type Form = { fields: Record<string, string>; file: { stream: BusboyFileStream; filename: string; contentType: string }; done: Promise<void> }

/** Reads fields up to the file part; resolves when the file part begins. */
function readForm(req: IncomingMessage): Promise<Form> {
  return new Promise<Form>((resolve, reject) => {
    let bb: ReturnType<typeof Busboy>
    try {
      bb = Busboy({
        headers: req.headers as { 'content-type': string },
        limits: { fieldSize: FIELD_BYTES, fields: MAX_FIELDS, files: 1, parts: MAX_FIELDS + 1, fieldNameSize: 256 },
        isPartAFile: (name) => (name ?? '').toLowerCase() === 'file',
      })
    } catch {
      reject(malformed('The body of your POST request is not well-formed multipart/form-data.'))
      return
    }
    const fields: Record<string, string> = {}
    let total = 0
    let started = false
    let finish!: () => void
    let fail!: (e: unknown) => void
    const done = new Promise<void>((res, rej) => {
      finish = res
      fail = rej
    })
    done.catch(() => undefined)
    const refuse = (e: S3Error): void => {
      if (!started) reject(e)
      fail(e)
      req.unpipe(bb)
      req.resume()
    }
    bb.on('field', (name: string, value: string, nameTruncated: boolean, valueTruncated: boolean) => {
      if (started) return
      if (nameTruncated || valueTruncated) return refuse(malformed('A form field is larger than 64 KiB.'))
      total += name.length + value.length
      if (total > FIELDS_TOTAL) return refuse(malformed('The form fields exceed 1 MiB.'))
      const n = name.toLowerCase()
      // S3 uses the first value of a repeated field.
      if (!(n in fields)) fields[n] = value
    })
    bb.on('file', (_name: string, stream: BusboyFileStream, filename: string, _enc: string, mimeType: string) => {
      if (started) return stream.resume()
      started = true
      resolve({ fields, file: { stream, filename: filename ?? '', contentType: mimeType }, done })
    })
    bb.on('fieldsLimit', () => refuse(malformed(`At most ${MAX_FIELDS} form fields are allowed.`)))
    bb.on('partsLimit', () => refuse(malformed('Too many form parts.')))
    bb.on('error', () => refuse(malformed('The body of your POST request is not well-formed multipart/form-data.')))
    bb.on('finish', () => {
      if (!started) reject(malformed('The form has no file field.'))
      finish()
    })
    req.on('error', () => refuse(new S3Error(400, 'IncompleteBody', 'The request body terminated unexpectedly.', 'bad-body')))
    req.pipe(bb)
  })
}

function redirectTo(target: string, bucket: string, key: string, etag: string): string | undefined {
  let url: URL
  try {
    url = new URL(target)
  } catch {
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  url.searchParams.set('bucket', bucket)
  url.searchParams.set('key', key)
  url.searchParams.set('etag', etag)
  return url.toString()
}

export async function handlePostObject(x: Exchange, d: PostObjectDeps): Promise<void> {
  const inb = x.inb!
  const bucket = inb.bucket!
  x.bucket = bucket
  const g = d.limits.global(x.now)
  if (!g.ok) throw slowDown(g.retryAfterSeconds, 'rate-limited')
  letBodyCome(x)
  const form = await readForm(x.req)
  const fields = form.fields
  let cred: ResolvedCredential | undefined
  const verified = verifyPostPolicy(fields, (akid) => (cred = d.credentials.resolve(akid, x.now))?.secret, new Date(x.now))
  if (!verified.ok) {
    x.cred = cred
    x.claimedKey = fields['x-amz-credential']?.split('/')[0]?.slice(0, 128)
    d.metrics.authFailures.inc({ reason: verified.reason === 'policy' ? 'malformed' : verified.reason })
    x.bodyPending = true
    throw policyError(verified)
  }
  x.cred = cred!
  x.backendId = cred!.backendId
  d.cors(x, cred!.backendId, bucket)
  const rl = d.limits.key(cred!.accessKey, x.now)
  if (!rl.ok) throw slowDown(rl.retryAfterSeconds, 'rate-limited')
  checkScope(cred!, bucket, 'write')

  if (fields.key === undefined || fields.key === '') throw malformed('Bucket POST must contain a field named key.')
  const key = fields.key.replaceAll('${filename}', form.file.filename)
  x.key = key
  const conditionFields = { ...fields, key }
  const conditions = checkPolicyConditions(verified.policy, conditionFields, undefined, { bucket })
  if (!conditions.ok) {
    x.bodyPending = true
    throw policyError(conditions)
  }
  const range = contentLengthRange(verified.policy)
  const max = Math.min(range?.max ?? DEFAULT_MAX_FILE, DEFAULT_MAX_FILE)

  const spool = new Spool(d.spoolDir, 'post-object')
  try {
    for await (const chunk of form.file.stream as AsyncIterable<Uint8Array>) {
      if (spool.size + chunk.byteLength > max) {
        x.bodyPending = true
        throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.', 'policy-violation')
      }
      await spool.write(chunk)
    }
    await form.done
    const sized = checkPolicyConditions(verified.policy, conditionFields, spool.size, { bucket })
    if (!sized.ok) throw policyError(sized)

    const backend = d.registry.get(cred!.backendId)
    let settle
    try {
      settle = await d.quota.put(backend, cred!.backendId, bucket, key, spool.size)
    } catch (err) {
      throw quotaError(err)
    }
    const headers: Record<string, string> = {}
    for (const name of HEADER_FIELDS) if (fields[name] !== undefined) headers[name] = fields[name]!
    if (headers['content-type'] === undefined && form.file.contentType) headers['content-type'] = form.file.contentType
    for (const [name, value] of Object.entries(fields)) if (name.startsWith('x-amz-meta-')) headers[name] = value
    const settings = d.registry.upstream(cred!.backendId)
    if (!settings) throw new S3Error(503, 'ServiceUnavailable', 'The storage backend of this credential is unavailable.', 'backend-unavailable')
    const response = await forward(
      x,
      {
        up: upstreamFor(settings),
        bucket,
        key,
        query: '',
        payload: { length: spool.size, payloadHash: 'UNSIGNED-PAYLOAD', decoded: false },
        replace: { method: 'PUT', headers, body: await spool.body(), length: spool.size },
      },
      d.metrics,
      d.logger,
    )
    if (response.status >= 300) return relay(x, response, d.logger)
    d.quota.settle(cred!.backendId, bucket, settle)
    response.body?.cancel().catch(() => {})
    const etag = response.headers.get('etag') ?? ''
    const extra: Record<string, string> = { etag }
    const version = response.headers.get('x-amz-version-id')
    if (version) extra['x-amz-version-id'] = version
    const redirect = fields.success_action_redirect ? redirectTo(fields.success_action_redirect, bucket, key, etag) : undefined
    if (redirect) return sendBody(x, 303, '', { ...extra, location: redirect })
    const status = fields.success_action_status
    if (status === '200') return sendBody(x, 200, '', extra)
    if (status === '201') {
      const host = d.config.s3_proxy.public_hostname || inb.host
      const scheme = d.config.s3_proxy.public_hostname ? d.config.s3_proxy.public_scheme : 'http'
      const location = inb.style === 'virtual' ? `${scheme}://${host}/${uriEncode(key, { encodeSlash: false })}` : `${scheme}://${host}/${bucket}/${uriEncode(key, { encodeSlash: false })}`
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>${escapeXmlText(location)}</Location><Bucket>${escapeXmlText(bucket)}</Bucket><Key>${escapeXmlText(key)}</Key><ETag>${escapeXmlText(etag)}</ETag></PostResponse>`
      return sendBody(x, 201, xml, { ...extra, location, 'content-type': 'application/xml' })
    }
    return sendBody(x, 204, '', extra)
  } finally {
    await spool.dispose()
  }
}
