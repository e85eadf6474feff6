// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Authorization of every operation against real RGW: the bucket must be in
 * the key's scope, writes need read-write, copy sources need read access,
 * bucket administration and ACLs are refused, unknown operations are 501,
 * and ListBuckets shows the scope only.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { proxyEnv, type Cred, type ProxyEnv } from './fixture.ts'
import { s3Error } from './xml.ts'

let p: ProxyEnv
let mine: string
let readable: string
let foreign: string
let rw: Cred
let client: S3Client

beforeAll(async () => {
  p = await proxyEnv()
  mine = await p.bucket('mine')
  readable = await p.bucket('ro')
  foreign = await p.bucket('foreign')
  rw = await p.mint({ buckets: [mine, { bucket: readable, access: 'read' }] })
  client = p.sdk(rw)
  for (const b of [mine, readable, foreign]) await p.rgw.putObject(b, 'seed.txt', new Response('seed').body!, { size: 4 })
})
afterAll(() => p.close())

async function refused(send: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await send
  } catch (err) {
    const e = err as { $metadata?: { httpStatusCode?: number }; Code?: string; name: string }
    return { status: e.$metadata?.httpStatusCode ?? 0, code: e.Code ?? e.name }
  }
  throw new Error('expected a refusal')
}

describe('scope', () => {
  test('ListBuckets lists exactly the scoped buckets, without asking the upstream', async () => {
    const out = await client.send(new ListBucketsCommand({}))
    expect(out.Buckets!.map((b) => b.Name).sort()).toEqual([mine, readable].sort())
  })

  test('a bucket outside the scope is refused for reads and writes', async () => {
    expect(await refused(client.send(new GetObjectCommand({ Bucket: foreign, Key: 'seed.txt' })))).toEqual({ status: 403, code: 'AccessDenied' })
    expect(await refused(client.send(new PutObjectCommand({ Bucket: foreign, Key: 'x', Body: 'x' })))).toEqual({ status: 403, code: 'AccessDenied' })
    expect(await refused(client.send(new ListObjectsV2Command({ Bucket: foreign })))).toEqual({ status: 403, code: 'AccessDenied' })
    expect((await refused(client.send(new HeadBucketCommand({ Bucket: foreign })))).status).toBe(403)
    // A bucket name that differs only in case is another bucket.
    expect((await refused(client.send(new ListObjectsV2Command({ Bucket: mine.toUpperCase() })))).status).toBe(403)
  })

  test('a read bucket allows reads and refuses every write', async () => {
    expect((await client.send(new ListObjectsV2Command({ Bucket: readable }))).KeyCount).toBe(1)
    expect(await (await client.send(new GetObjectCommand({ Bucket: readable, Key: 'seed.txt' }))).Body!.transformToString()).toBe('seed')
    for (const send of [
      () => client.send(new PutObjectCommand({ Bucket: readable, Key: 'w', Body: 'w' })),
      () => client.send(new DeleteObjectCommand({ Bucket: readable, Key: 'seed.txt' })),
      () => client.send(new DeleteObjectsCommand({ Bucket: readable, Delete: { Objects: [{ Key: 'seed.txt' }] } })),
      () => client.send(new CreateMultipartUploadCommand({ Bucket: readable, Key: 'mp' })),
      () => client.send(new CopyObjectCommand({ Bucket: readable, Key: 'copy', CopySource: `${mine}/seed.txt` })),
    ]) {
      expect(await refused(send())).toEqual({ status: 403, code: 'AccessDenied' })
    }
    expect((await p.rgw.headObject(readable, 'seed.txt')).size).toBe(4)
  })

  test('a read-only key writes nothing', async () => {
    const ro = await p.mint({ buckets: [{ bucket: mine, access: 'read' }] })
    const c = p.sdk(ro)
    expect(await (await c.send(new GetObjectCommand({ Bucket: mine, Key: 'seed.txt' }))).Body!.transformToString()).toBe('seed')
    expect(await refused(c.send(new PutObjectCommand({ Bucket: mine, Key: 'ro-write', Body: 'x' })))).toEqual({ status: 403, code: 'AccessDenied' })
    expect(await refused(c.send(new DeleteObjectCommand({ Bucket: mine, Key: 'seed.txt' })))).toEqual({ status: 403, code: 'AccessDenied' })
  })
})

describe('copy sources', () => {
  test('a copy within the scope works (from a read bucket into a read-write one)', async () => {
    await client.send(new CopyObjectCommand({ Bucket: mine, Key: 'copied.txt', CopySource: `${readable}/seed.txt` }))
    expect(await (await client.send(new GetObjectCommand({ Bucket: mine, Key: 'copied.txt' }))).Body!.transformToString()).toBe('seed')
  })

  test('copying from a bucket outside the scope is refused (the original let this read any bucket)', async () => {
    for (const source of [`${foreign}/seed.txt`, `/${foreign}/seed.txt`, `${encodeURIComponent(foreign)}/seed.txt?versionId=null`]) {
      expect(await refused(client.send(new CopyObjectCommand({ Bucket: mine, Key: 'stolen.txt', CopySource: source })))).toEqual({
        status: 403,
        code: 'AccessDenied',
      })
    }
    const mp = await client.send(new CreateMultipartUploadCommand({ Bucket: mine, Key: 'stolen-mp' }))
    expect(
      await refused(
        client.send(new UploadPartCopyCommand({ Bucket: mine, Key: 'stolen-mp', UploadId: mp.UploadId, PartNumber: 1, CopySource: `${foreign}/seed.txt` })),
      ),
    ).toEqual({
      status: 403,
      code: 'AccessDenied',
    })
    await expect(p.rgw.headObject(mine, 'stolen.txt')).rejects.toThrow()
  })

  test('UploadPartCopy within the scope works', async () => {
    const big = new Uint8Array(5 * 1024 * 1024).fill(7)
    await client.send(new PutObjectCommand({ Bucket: mine, Key: 'part-source.bin', Body: big }))
    const mp = await client.send(new CreateMultipartUploadCommand({ Bucket: mine, Key: 'assembled.bin' }))
    const part = await client.send(
      new UploadPartCopyCommand({ Bucket: mine, Key: 'assembled.bin', UploadId: mp.UploadId, PartNumber: 1, CopySource: `${mine}/part-source.bin` }),
    )
    const tail = await client.send(new UploadPartCommand({ Bucket: mine, Key: 'assembled.bin', UploadId: mp.UploadId, PartNumber: 2, Body: 'tail' }))
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: mine,
        Key: 'assembled.bin',
        UploadId: mp.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: part.CopyPartResult!.ETag },
            { PartNumber: 2, ETag: tail.ETag },
          ],
        },
      }),
    )
    expect((await p.rgw.headObject(mine, 'assembled.bin')).size).toBe(big.length + 4)
  })

  test('a malformed copy source → 400', async () => {
    const res = await p.signed(rw, 'PUT', `/${mine}/bad-copy`, { headers: { 'x-amz-copy-source': 'no-slash' } })
    expect(res.status).toBe(400)
    expect((await s3Error(res)).code).toBe('InvalidArgument')
  })
})

describe('operations', () => {
  test.each([
    ['PUT', '', 'create bucket'],
    ['DELETE', '', 'delete bucket'],
    ['PUT', '?policy', 'put bucket policy'],
    ['GET', '?policy', 'get bucket policy'],
    ['DELETE', '?policy', 'delete bucket policy'],
    ['PUT', '?acl', 'put bucket ACL'],
    ['PUT', '?cors', 'put bucket CORS'],
    ['PUT', '?lifecycle', 'put lifecycle'],
    ['PUT', '?versioning', 'put versioning'],
    ['PUT', '?tagging', 'put bucket tagging'],
    ['GET', '?tagging', 'get bucket tagging'],
    ['PUT', '?encryption', 'put bucket encryption'],
    ['PUT', '?website', 'put website'],
    ['PUT', '?object-lock', 'put object lock configuration'],
    ['PUT', '?publicAccessBlock', 'put public access block'],
  ])('%s /bucket%s (%s) → 403 AccessDenied', async (method, sub) => {
    const res = await p.signed(rw, method, `/${mine}${sub}`, method === 'PUT' ? { body: '<x/>' } : {})
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('AccessDenied')
  })

  test('ACL writes are refused (403), ACL reads not implemented (501), x-amz-acl beyond private refused', async () => {
    expect((await p.signed(rw, 'PUT', `/${mine}/seed.txt?acl`, { body: '<x/>' })).status).toBe(403)
    // 501, not 403: s3cmd's cp reads the source ACL and goes on only after a 501.
    expect((await p.signed(rw, 'GET', `/${mine}/seed.txt?acl`)).status).toBe(501)
    expect((await p.signed(rw, 'GET', `/${mine}?acl`)).status).toBe(501)
    const pub = await p.signed(rw, 'PUT', `/${mine}/public.txt`, { body: 'x', headers: { 'x-amz-acl': 'public-read' } })
    expect(pub.status).toBe(403)
    expect((await s3Error(pub)).code).toBe('AccessDenied')
    expect(
      (await p.signed(rw, 'PUT', `/${mine}/grant.txt`, { body: 'x', headers: { 'x-amz-grant-read': 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' } }))
        .status,
    ).toBe(403)
    // rclone and others send x-amz-acl: private on every upload; that is harmless.
    expect((await p.signed(rw, 'PUT', `/${mine}/private.txt`, { body: 'x', headers: { 'x-amz-acl': 'private' } })).status).toBe(200)
  })

  test.each([
    ['POST', '/OBJ?restore'],
    ['POST', '/OBJ?select&select-type=2'],
    ['GET', '/OBJ?torrent'],
    ['GET', '/OBJ?attributes'],
    ['GET', '/OBJ?unknownparam=1'],
    ['GET', '?notasubresource'],
    ['POST', ''],
    ['PATCH', '/OBJ'],
    ['DELETE', '/OBJ?acl&uploadId=1'],
  ])('%s /bucket%s → 501 NotImplemented', async (method, path) => {
    const res = await p.signed(rw, method, `/${mine}${path.replace('OBJ', 'seed.txt')}`)
    expect(res.status).toBe(501)
    expect((await s3Error(res)).code).toBe('NotImplemented')
  })

  test('service-level operations other than ListBuckets → 501', async () => {
    expect((await p.signed(rw, 'PUT', '/')).status).toBe(501)
  })

  test('allowed bucket reads: location, versioning, versions, uploads, head', async () => {
    expect((await p.signed(rw, 'GET', `/${mine}?location`)).status).toBe(200)
    expect((await p.signed(rw, 'GET', `/${mine}?versioning`)).status).toBe(200)
    expect((await p.signed(rw, 'GET', `/${mine}?uploads`)).status).toBe(200)
    expect((await p.signed(rw, 'HEAD', `/${mine}`)).status).toBe(200)
    expect((await client.send(new ListObjectVersionsCommand({ Bucket: mine }))).Versions?.length).toBeGreaterThan(0)
  })

  test('a batch delete removes only what it lists', async () => {
    await client.send(new PutObjectCommand({ Bucket: mine, Key: 'batch/a', Body: 'a' }))
    await client.send(new PutObjectCommand({ Bucket: mine, Key: 'batch/b', Body: 'b' }))
    const out = await client.send(new DeleteObjectsCommand({ Bucket: mine, Delete: { Objects: [{ Key: 'batch/a' }, { Key: 'batch/b' }] } }))
    expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(['batch/a', 'batch/b'])
    expect((await client.send(new ListObjectsV2Command({ Bucket: mine, Prefix: 'batch/' }))).KeyCount).toBe(0)
  })

  test('keys with spaces, unicode, plus signs and dot segments round-trip', async () => {
    for (const key of ['with space/and+plus=equals.txt', 'unicode/ሴ café 😀.bin', "odd !'()*$&,;:@~.txt", 'a//double/x']) {
      await client.send(new PutObjectCommand({ Bucket: mine, Key: key, Body: key }))
      expect(await (await client.send(new GetObjectCommand({ Bucket: mine, Key: key }))).Body!.transformToString()).toBe(key)
    }
  })

  test('errors are S3 XML with the request id header and body', async () => {
    const res = await p.signed(rw, 'GET', `/${mine}/no-such-key`)
    expect(res.status).toBe(404)
    const e = await s3Error(res)
    expect(e.code).toBe('NoSuchKey')
    expect(e.requestId).toBe(res.headers.get('x-amz-request-id')!)
    expect(e.resource).toBe(`/${mine}/no-such-key`)
    // The upstream's own ids never leak.
    expect(res.headers.get('x-amz-id-2')).toBeNull()
  })
})
