// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Hard quotas at the proxy (507 QuotaExceeded, S3 XML) for PutObject,
 * UploadPart, CopyObject, CompleteMultipartUpload and POST Object, and usage
 * kept current after proxied writes and deletes — but not after a copy that
 * failed inside a 200.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { deriveSigningKey, formatAmzDate } from '../../src/s3/canonical.ts'
import { httpGate, s3Env } from '../helpers/s3.ts'
import { proxyEnv, type Cred, type ProxyEnv } from './fixture.ts'
import { s3Error } from './xml.ts'

const MiB = 1024 * 1024
let p: ProxyEnv
let capped: string
let tracked: string
let cred: Cred
let client: S3Client

beforeAll(async () => {
  p = await proxyEnv()
  capped = await p.bucket('capped')
  tracked = await p.bucket('tracked')
  cred = await p.mint({ buckets: [capped, tracked] })
  client = p.sdk(cred)
  await p.rgw.putObject(tracked, 'big-source', new Response(new Uint8Array(7.5 * MiB)).body!, { size: 7.5 * MiB })
  const res = await p.t.call('PUT', `/api/backends/rgw/buckets/${capped}/quota`, { as: p.admin, json: { hard_bytes: 8 * MiB } })
  expect(res.status).toBe(200)
})
afterAll(() => p.close())

async function refusal(send: () => Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await send()
  } catch (err) {
    const e = err as { $metadata?: { httpStatusCode?: number }; Code?: string; name: string }
    return { status: e.$metadata?.httpStatusCode ?? 0, code: e.Code ?? e.name }
  }
  throw new Error('expected a refusal')
}

const usage = async (bucket: string): Promise<{ usage_bytes?: number; object_count?: number }> =>
  (await (await p.t.call('GET', `/api/backends/rgw/buckets/${bucket}/quota`, { as: p.admin })).json()) as { usage_bytes?: number; object_count?: number }

describe('hard quota', () => {
  test('a PutObject past the cap → 507 QuotaExceeded (S3 XML); nothing stored', async () => {
    const res = await p.signed(cred, 'PUT', `/${capped}/too-big`, { body: new Uint8Array(9 * MiB) })
    expect(res.status).toBe(507)
    const e = await s3Error(res)
    expect(e.code).toBe('QuotaExceeded')
    expect(e.message).toContain('hard quota')
    await expect(p.rgw.headObject(capped, 'too-big')).rejects.toThrow()
  })

  test('writes within the cap pass and are counted at once', async () => {
    await client.send(new PutObjectCommand({ Bucket: capped, Key: 'small', Body: new Uint8Array(MiB) }))
    expect((await usage(capped)).usage_bytes).toBe(MiB)
  })

  test('an UploadPart past the cap → 507', async () => {
    const mp = await client.send(new CreateMultipartUploadCommand({ Bucket: capped, Key: 'mp-big' }))
    expect(
      await refusal(() =>
        client.send(new UploadPartCommand({ Bucket: capped, Key: 'mp-big', UploadId: mp.UploadId, PartNumber: 1, Body: new Uint8Array(8 * MiB) })),
      ),
    ).toEqual({ status: 507, code: 'QuotaExceeded' })
  })

  test('CompleteMultipartUpload checks the sum of the parts → 507', async () => {
    const mp = await client.send(new CreateMultipartUploadCommand({ Bucket: capped, Key: 'mp-sum' }))
    const parts: Array<{ PartNumber: number; ETag?: string }> = []
    for (const n of [1, 2]) {
      const r = await client.send(new UploadPartCommand({ Bucket: capped, Key: 'mp-sum', UploadId: mp.UploadId, PartNumber: n, Body: new Uint8Array(5 * MiB) }))
      parts.push({ PartNumber: n, ETag: r.ETag })
    }
    expect(
      await refusal(() =>
        client.send(new CompleteMultipartUploadCommand({ Bucket: capped, Key: 'mp-sum', UploadId: mp.UploadId, MultipartUpload: { Parts: parts } })),
      ),
    ).toEqual({
      status: 507,
      code: 'QuotaExceeded',
    })
    await expect(p.rgw.headObject(capped, 'mp-sum')).rejects.toThrow()
  })

  test('a CopyObject whose source would pass the cap → 507', async () => {
    expect(await refusal(() => client.send(new CopyObjectCommand({ Bucket: capped, Key: 'copied', CopySource: `${tracked}/big-source` })))).toEqual({
      status: 507,
      code: 'QuotaExceeded',
    })
    await client.send(new PutObjectCommand({ Bucket: tracked, Key: 'tiny', Body: 'tiny' }))
    await client.send(new CopyObjectCommand({ Bucket: capped, Key: 'copied-tiny', CopySource: `${tracked}/tiny` }))
    expect((await usage(capped)).usage_bytes).toBe(MiB + 4)
  })

  test('a POST Object past the cap → 507', async () => {
    const amzDate = formatAmzDate(new Date())
    const scope = { date: amzDate.slice(0, 8), region: 'us-east-1', service: 's3' }
    const credential = `${cred.access_key}/${scope.date}/us-east-1/s3/aws4_request`
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 600_000).toISOString(),
        conditions: [
          { bucket: capped },
          ['starts-with', '$key', ''],
          { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
          { 'x-amz-credential': credential },
          { 'x-amz-date': amzDate },
        ],
      }),
    ).toString('base64')
    const fd = new FormData()
    for (const [k, v] of Object.entries({
      key: 'posted',
      policy,
      'x-amz-algorithm': 'AWS4-HMAC-SHA256',
      'x-amz-credential': credential,
      'x-amz-date': amzDate,
    }))
      fd.append(k, v)
    fd.append('x-amz-signature', createHmac('sha256', deriveSigningKey(cred.secret_key, scope)).update(policy).digest('hex'))
    fd.append('file', new Blob([new Uint8Array(8 * MiB)]), 'f')
    const res = await fetch(`${p.endpoint}/${capped}`, { method: 'POST', body: fd })
    expect(res.status).toBe(507)
    expect((await s3Error(res)).code).toBe('QuotaExceeded')
  })
})

describe('usage follows proxied writes and deletes', () => {
  test('put, overwrite, delete and batch delete adjust a tracked bucket at once', async () => {
    await p.t.call('POST', `/api/backends/rgw/buckets/${tracked}/quota/recompute`, { as: p.admin })
    const before = (await usage(tracked)).usage_bytes!
    await client.send(new PutObjectCommand({ Bucket: tracked, Key: 'u1', Body: new Uint8Array(1000) }))
    await client.send(new PutObjectCommand({ Bucket: tracked, Key: 'u2', Body: new Uint8Array(2000) }))
    expect((await usage(tracked)).usage_bytes).toBe(before + 3000)
    await client.send(new DeleteObjectCommand({ Bucket: tracked, Key: 'u1' }))
    expect((await usage(tracked)).usage_bytes).toBe(before + 2000)
    await client.send(new DeleteObjectsCommand({ Bucket: tracked, Delete: { Objects: [{ Key: 'u2' }, { Key: 'never-existed' }] } }))
    expect((await usage(tracked)).usage_bytes).toBe(before)
  })
})

describe('a write that fails inside a 200', () => {
  let q: ProxyEnv
  let gate: Awaited<ReturnType<typeof httpGate>>
  let b: string
  let key: Cred
  const failInside = new Set<string>()

  beforeAll(async () => {
    const s3 = s3Env()
    gate = await httpGate(s3.endpoint, {
      before: async (r) =>
        failInside.has(r.url.pathname.split('/').pop() ?? '') && r.headers['x-amz-copy-source'] !== undefined
          ? {
              status: 200,
              body: '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>',
            }
          : undefined,
    })
    q = await proxyEnv({
      app: {
        backends: [
          { id: 'rgw', type: 's3', endpoint: s3.endpoint, region: s3.region, access_key_env: 'RGW_AK', secret_key_env: 'RGW_SK', path_style: true },
          { id: 'gated', type: 's3', endpoint: gate.endpoint, region: s3.region, access_key_env: 'RGW_AK', secret_key_env: 'RGW_SK', path_style: true },
        ],
      },
    })
    b = await q.bucket('inside')
    key = await q.mint({ backend_id: 'gated', buckets: [b] })
    await q.rgw.putObject(b, 'source', new Response(new Uint8Array(5000)).body!, { size: 5000 })
    expect((await q.t.call('POST', `/api/backends/gated/buckets/${b}/quota/recompute`, { as: q.admin })).status).toBe(200)
  })
  afterAll(async () => {
    await q.close()
    await gate.stop()
  })

  const used = async (): Promise<number> =>
    ((await (await q.t.call('GET', `/api/backends/gated/buckets/${b}/quota`, { as: q.admin })).json()) as { usage_bytes: number }).usage_bytes

  test('CopyObject answered 200 with an <Error> document is passed on and not counted; a real copy is', async () => {
    const before = await used()
    failInside.add('failed-copy')
    const res = await q.signed(key, 'PUT', `/${b}/failed-copy`, { headers: { 'x-amz-copy-source': `/${b}/source` } })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('<Code>InternalError</Code>')
    expect(await used()).toBe(before)
    const ok = await q.signed(key, 'PUT', `/${b}/copied`, { headers: { 'x-amz-copy-source': `/${b}/source` } })
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('CopyObjectResult')
    expect(await used()).toBe(before + 5000)
  })
})

describe('CompleteMultipartUpload on a capped bucket', () => {
  test('completing an upload again answers as the storage does, not NoSuchUpload from the cap check', async () => {
    const bucket = await p.bucket('recomplete')
    expect((await p.t.call('PUT', `/api/backends/rgw/buckets/${bucket}/quota`, { as: p.admin, json: { hard_bytes: 8 * MiB } })).status).toBe(200)
    const c = p.sdk(await p.mint({ buckets: [bucket] }))
    const mp = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'twice' }))
    const part = await c.send(new UploadPartCommand({ Bucket: bucket, Key: 'twice', UploadId: mp.UploadId, PartNumber: 1, Body: 'once' }))
    const parts = { Parts: [{ PartNumber: 1, ETag: part.ETag }] }
    await c.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'twice', UploadId: mp.UploadId, MultipartUpload: parts }))
    // RGW (like AWS) answers a repeated completion of a completed upload with success.
    expect(
      (await c.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'twice', UploadId: mp.UploadId, MultipartUpload: parts }))).$metadata
        .httpStatusCode,
    ).toBe(200)
    expect((await usage(bucket)).usage_bytes).toBe(4)
    const gone = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'aborted' }))
    await c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'aborted', UploadId: gone.UploadId }))
    expect(
      await refusal(() => c.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'aborted', UploadId: gone.UploadId, MultipartUpload: parts }))),
    ).toEqual({ status: 404, code: 'NoSuchUpload' })
  })
})
