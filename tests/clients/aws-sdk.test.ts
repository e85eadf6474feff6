// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * @aws-sdk/client-s3 v3 with its default (flexible) checksums: uploads go out
 * as aws-chunked with a CRC32 trailer, which the proxy verifies and decodes.
 * Large files use CreateMultipartUpload/UploadPart/Complete in 8 MiB parts;
 * presigned URLs come from @smithy/signature-v4 the way
 * @aws-sdk/s3-request-presigner drives it.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import { createReadStream, statSync, writeFileSync } from 'node:fs'
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { SignatureV4 } from '@smithy/signature-v4'
import { conformance, MiB, type Ctx, type Driver, type Key } from './scenario.ts'

type Source = string | ArrayBuffer | ArrayBufferView
const bytes = (d: Source): string | Uint8Array =>
  typeof d === 'string' ? d : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d)

class NodeSha256 {
  private readonly h: Hash | Hmac
  constructor(secret?: Source) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret))
  }
  update(data: Source): void {
    this.h.update(bytes(data))
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest())
  }
}

async function readPart(file: string, start: number, length: number): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  for await (const c of createReadStream(file, { start, end: start + length - 1 })) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

function driver(key: Key, ctx: Ctx): Driver {
  const client = new S3Client({
    endpoint: ctx.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: key.access_key, secretAccessKey: key.secret_key },
  })
  const signer = new SignatureV4({
    credentials: { accessKeyId: key.access_key, secretAccessKey: key.secret_key },
    region: 'us-east-1',
    service: 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
  })
  async function presign(method: string, bucket: string, k: string, expiresIn: number): Promise<string> {
    const path = `/${bucket}/${k.split('/').map(encodeURIComponent).join('/')}`
    const request = {
      method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: ctx.port,
      path,
      query: {},
      headers: { host: `127.0.0.1:${ctx.port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    }
    const signed = (await signer.presign(request as never, { expiresIn })) as unknown as { path: string; query: Record<string, string> }
    return `${ctx.endpoint}${signed.path}?${new URLSearchParams(signed.query).toString()}`
  }
  return {
    async listBuckets() {
      return ((await client.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name!)
    },
    async upload(bucket, k, file) {
      const size = statSync(file).size
      if (size <= 8 * MiB) {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: await readPart(file, 0, size) }))
        return
      }
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: k }))
      const parts: Array<{ PartNumber: number; ETag?: string }> = []
      for (let at = 0, n = 1; at < size; at += 8 * MiB, n++) {
        const body = await readPart(file, at, Math.min(8 * MiB, size - at))
        const r = await client.send(new UploadPartCommand({ Bucket: bucket, Key: k, UploadId, PartNumber: n, Body: body }))
        parts.push({ PartNumber: n, ETag: r.ETag })
      }
      await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: k, UploadId, MultipartUpload: { Parts: parts } }))
    },
    async download(bucket, k, file) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: k }))
      writeFileSync(file, await out.Body!.transformToByteArray())
    },
    presignGet: (bucket, k, s) => presign('GET', bucket, k, s),
    presignPut: (bucket, k, s) => presign('PUT', bucket, k, s),
    async copy(sb, sk, db, dk) {
      await client.send(new CopyObjectCommand({ Bucket: db, Key: dk, CopySource: `${sb}/${sk}` }))
    },
    async remove(bucket, k) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: k }))
    },
  }
}

conformance({ name: 'aws-sdk-js-v3', driver })
