// SPDX-License-Identifier: AGPL-3.0-or-later
/** Bucket lifetime and bucket-level configuration: versioning, policy, lifecycle, CORS. */
import { errorDocument } from '../../s3/error-document.ts'
import type { CorsRule, LifecycleRule } from '../backend.ts'
import { contentMd5, headerValue, type S3Http } from './client.ts'
import { backendError, fromUpstream, upstreamError } from './errors.ts'
import { lifecycleXml, parseLifecycle } from './lifecycle.ts'
import { escapeXml, parseXml, tag, textOf } from '../../s3/xml.ts'

export async function bucketExists(s3: S3Http, bucket: string): Promise<boolean> {
  const res = await s3.call({ method: 'HEAD', bucket, ok: [200, 404] })
  return res.status === 200
}

export async function createBucket(s3: S3Http, bucket: string, region: string | undefined): Promise<void> {
  // S3 in us-east-1, and RGW, answer 200 when the caller already owns the
  // bucket; asking first makes "already exists" visible.
  // A 403 could be someone else's bucket or our own bad credentials; the PUT tells them apart.
  const head = await s3.call({ method: 'HEAD', bucket, ok: [200, 403, 404] })
  if (head.status === 200) throw backendError('exists')
  // us-east-1 is the default location and must not be named (S3 rejects it).
  const body =
    region && region !== 'us-east-1'
      ? `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${tag('LocationConstraint', escapeXml(region))}</CreateBucketConfiguration>`
      : ''
  await s3.call({ method: 'PUT', bucket, body })
}

export async function deleteBucket(s3: S3Http, bucket: string): Promise<void> {
  await s3.call({ method: 'DELETE', bucket, ok: [200, 204] })
}

export async function getVersioning(s3: S3Http, bucket: string): Promise<boolean> {
  const { body } = await s3.text({ method: 'GET', bucket, query: { versioning: '' } })
  return textOf(parseXml(body), 'Status') === 'Enabled'
}

export async function setVersioning(s3: S3Http, bucket: string, enabled: boolean): Promise<void> {
  const body = `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${tag('Status', enabled ? 'Enabled' : 'Suspended')}</VersioningConfiguration>`
  await s3.call({ method: 'PUT', bucket, query: { versioning: '' }, headers: { 'content-type': 'application/xml' }, body })
}

/** Reads a bucket sub-resource, or undefined when the upstream says it is not configured (`missingCode`). */
async function readConfig(s3: S3Http, bucket: string, resource: string, missingCode: string): Promise<string | undefined> {
  const { res, body } = await s3.text({ method: 'GET', bucket, query: { [resource]: '' }, ok: [200, 404] })
  if (res.status === 200) return body
  const doc = errorDocument(res.status, body, headerValue(res, 'x-amz-request-id'))
  if (doc.code === missingCode) return undefined
  throw fromUpstream(upstreamError(doc))
}

export async function getPolicy(s3: S3Http, bucket: string): Promise<string | null> {
  return (await readConfig(s3, bucket, 'policy', 'NoSuchBucketPolicy')) ?? null
}

export async function setPolicy(s3: S3Http, bucket: string, policy: string): Promise<void> {
  await s3.call({ method: 'PUT', bucket, query: { policy: '' }, headers: { 'content-type': 'application/json' }, body: policy, ok: [200, 204] })
}

/** Deletes a bucket sub-resource; AWS answers 204, RGW 16.2 200. */
async function deleteConfig(s3: S3Http, bucket: string, resource: string): Promise<void> {
  await s3.call({ method: 'DELETE', bucket, query: { [resource]: '' }, ok: [200, 204] })
}

export const deletePolicy = (s3: S3Http, bucket: string): Promise<void> => deleteConfig(s3, bucket, 'policy')

export async function getLifecycle(s3: S3Http, bucket: string): Promise<LifecycleRule[]> {
  const body = await readConfig(s3, bucket, 'lifecycle', 'NoSuchLifecycleConfiguration')
  return body === undefined ? [] : parseLifecycle(parseXml(body))
}

export async function setLifecycle(s3: S3Http, bucket: string, rules: LifecycleRule[]): Promise<void> {
  if (rules.length === 0) return deleteLifecycle(s3, bucket)
  const body = lifecycleXml(rules)
  await s3.call({ method: 'PUT', bucket, query: { lifecycle: '' }, headers: { 'content-md5': contentMd5(body), 'content-type': 'application/xml' }, body })
}

export const deleteLifecycle = (s3: S3Http, bucket: string): Promise<void> => deleteConfig(s3, bucket, 'lifecycle')

export function corsXml(rules: CorsRule[]): string {
  const list = (name: string, values: string[] | undefined): string => (values ?? []).map((v) => tag(name, escapeXml(v))).join('')
  const body = rules
    .map((r) =>
      tag(
        'CORSRule',
        list('AllowedOrigin', r.allowed_origins) +
          list('AllowedMethod', r.allowed_methods) +
          list('AllowedHeader', r.allowed_headers) +
          list('ExposeHeader', r.expose_headers) +
          (r.max_age_seconds === undefined ? '' : tag('MaxAgeSeconds', r.max_age_seconds)),
      ),
    )
    .join('')
  return `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</CORSConfiguration>`
}

export async function setCors(s3: S3Http, bucket: string, rules: CorsRule[]): Promise<void> {
  if (rules.length === 0) return deleteConfig(s3, bucket, 'cors')
  const body = corsXml(rules)
  await s3.call({ method: 'PUT', bucket, query: { cors: '' }, headers: { 'content-md5': contentMd5(body), 'content-type': 'application/xml' }, body })
}
