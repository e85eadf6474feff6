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
 * content-length-range maximum (5 GiB without one), because the storage
 * needs its exact length; then the size is checked against the range and the
 * bucket's hard quota, and the pipeline serves it as the PutObject it
 * amounts to, on whichever path the credential's backend takes.
 *
 * These are the steps; the pipeline (proxy.ts) runs them in order.
 *
 * Answer (anchor §5.8): `success_action_redirect` (http/https) → 303 to it
 * with bucket, key and etag added; else `success_action_status` 200 → 200,
 * 201 → 201 with a PostResponse document, anything else → 204.
 */
import type { IncomingMessage } from 'node:http'
import { Busboy, type BusboyFileStream } from '@fastify/busboy'
import { escapeXmlText } from '../s3/xml.ts'
import { Spool } from '../lib/spool.ts'
import type { CallBody, S3Reply } from './call.ts'
import { S3Error } from './errors.ts'
import type { Inbound } from './request.ts'
import { uriEncode } from '../s3/canonical.ts'
import { checkPolicyConditions, contentLengthRange, type PostPolicy, type PostPolicyFail } from './sigv4/postpolicy.ts'
import { s3ErrorStatus } from './sigv4/verify.ts'

const FIELD_BYTES = 64 * 1024
const FIELDS_TOTAL = 1024 * 1024
const MAX_FIELDS = 64
const DEFAULT_MAX_FILE = 5 * 1024 ** 3

/** Form fields that become headers of the upstream PutObject. */
const HEADER_FIELDS = [
  'cache-control',
  'content-type',
  'content-disposition',
  'content-encoding',
  'expires',
  'x-amz-storage-class',
  'x-amz-server-side-encryption',
  'x-amz-website-redirect-location',
]

export function isPostObject(inb: Inbound, req: IncomingMessage): boolean {
  return (
    inb.method === 'POST' &&
    inb.bucket !== undefined &&
    inb.key === undefined &&
    inb.params.length === 0 &&
    /^multipart\/form-data\s*;/i.test(req.headers['content-type'] ?? '')
  )
}

const malformed = (message: string): S3Error => new S3Error(400, 'MalformedPOSTRequest', message, 'bad-form')

export function policyError(f: PostPolicyFail): S3Error {
  return new S3Error(s3ErrorStatus(f.code), f.code, f.message, f.reason === 'policy' ? 'policy-violation' : `auth-${f.reason}`)
}

export type PostForm = { fields: Record<string, string>; file: { stream: BusboyFileStream; filename: string; contentType: string }; done: Promise<void> }

/** Reads the form's fields up to the file part; resolves when the file part begins. */
export function readPostForm(req: IncomingMessage): Promise<PostForm> {
  return new Promise<PostForm>((resolve, reject) => {
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

/** The upload a verified form asks for: the key (with `${filename}` substituted), its headers, its size cap. */
export type PostUpload = { key: string; headers: Headers; maxBytes: number; conditionFields: Record<string, string> }

/** Checks the policy's conditions (all but the size) and names the upload; throws the S3 error of the first failure. */
export function postUpload(form: PostForm, bucket: string, policy: PostPolicy): PostUpload {
  const fields = form.fields
  if (fields.key === undefined || fields.key === '') throw malformed('Bucket POST must contain a field named key.')
  const key = fields.key.replaceAll('${filename}', form.file.filename)
  const conditionFields = { ...fields, key }
  const conditions = checkPolicyConditions(policy, conditionFields, undefined, { bucket })
  if (!conditions.ok) throw policyError(conditions)
  // Header values are byte strings; form fields arrive decoded from UTF-8.
  const headers = new Headers()
  const set = (name: string, value: string): void => headers.set(name, Buffer.from(value, 'utf8').toString('latin1'))
  for (const name of HEADER_FIELDS) if (fields[name] !== undefined) set(name, fields[name]!)
  if (!headers.has('content-type') && form.file.contentType) set('content-type', form.file.contentType)
  for (const [name, value] of Object.entries(fields)) if (name.startsWith('x-amz-meta-')) set(name, value)
  const range = contentLengthRange(policy)
  return { key, headers, maxBytes: Math.min(range?.max ?? DEFAULT_MAX_FILE, DEFAULT_MAX_FILE), conditionFields }
}

/**
 * Spools the file part (the storage needs its exact length), refusing it past the policy's
 * maximum, then checks the size conditions. The caller disposes of the spool.
 */
export async function spoolPostFile(form: PostForm, upload: PostUpload, policy: PostPolicy, bucket: string, spoolDir: string): Promise<Spool> {
  const spool = new Spool(spoolDir, 'post-object')
  try {
    for await (const chunk of form.file.stream as AsyncIterable<Uint8Array>) {
      if (spool.size + chunk.byteLength > upload.maxBytes)
        throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.', 'policy-violation')
      await spool.write(chunk)
    }
    await form.done
    const sized = checkPolicyConditions(policy, upload.conditionFields, spool.size, { bucket })
    if (!sized.ok) throw policyError(sized)
    return spool
  } catch (err) {
    await spool.dispose()
    throw err
  }
}

/** The spooled file as a call body: whole when it stayed in memory, else streamed from its file. */
export async function spooledBody(spool: Spool): Promise<CallBody> {
  const body = await spool.body()
  return body instanceof Uint8Array ? { kind: 'whole', bytes: body } : { kind: 'stream', length: spool.size, stream: body, decoded: false }
}

/** The form's answer once the PutObject succeeded: a redirect, 200, 201 with a PostResponse, or 204. */
export function postAnswer(
  form: PostForm,
  reply: S3Reply,
  o: { bucket: string; key: string; inbound: Inbound; publicHostname: string; publicScheme: string },
): S3Reply {
  const fields = form.fields
  const etag = reply.headers.etag ?? ''
  const extra: Record<string, string> = { etag }
  const version = reply.headers['x-amz-version-id']
  if (version) extra['x-amz-version-id'] = version
  const empty = { kind: 'empty' } as const
  const redirect = fields.success_action_redirect ? redirectTo(fields.success_action_redirect, o.bucket, o.key, etag) : undefined
  if (redirect) return { status: 303, headers: { ...extra, location: redirect }, body: empty }
  const status = fields.success_action_status
  if (status === '200') return { status: 200, headers: extra, body: empty }
  if (status === '201') {
    const host = o.publicHostname || o.inbound.host
    const scheme = o.publicHostname ? o.publicScheme : 'http'
    const path = uriEncode(o.key, { encodeSlash: false })
    const location = o.inbound.style === 'virtual' ? `${scheme}://${host}/${path}` : `${scheme}://${host}/${o.bucket}/${path}`
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>${escapeXmlText(location)}</Location><Bucket>${escapeXmlText(o.bucket)}</Bucket><Key>${escapeXmlText(o.key)}</Key><ETag>${escapeXmlText(etag)}</ETag></PostResponse>`
    return { status: 201, headers: { ...extra, location, 'content-type': 'application/xml' }, body: { kind: 'bytes', bytes: Buffer.from(xml) } }
  }
  return { status: 204, headers: extra, body: empty }
}
