// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The minio npm client (v8): path-style, region set (so it never asks for a
 * bucket location), 8 MiB parts so the 50 MiB file goes multipart (it first
 * looks for an unfinished upload with ListMultipartUploads), presigned GET and
 * PUT, server-side copy.
 */
import { Client, CopyConditions } from 'minio'
import { createReadStream, statSync, writeFileSync } from 'node:fs'
import { conformance, MiB, type Ctx, type Driver, type Key } from './scenario.ts'

function driver(key: Key, ctx: Ctx): Driver {
  const client = new Client({
    endPoint: '127.0.0.1',
    port: ctx.port,
    useSSL: false,
    accessKey: key.access_key,
    secretKey: key.secret_key,
    region: 'us-east-1',
    pathStyle: true,
    partSize: 8 * MiB,
  })
  return {
    async listBuckets() {
      return (await client.listBuckets()).map((b) => b.name)
    },
    async upload(bucket, k, file) {
      await client.putObject(bucket, k, createReadStream(file), statSync(file).size)
    },
    async download(bucket, k, file) {
      const chunks: Buffer[] = []
      for await (const c of await client.getObject(bucket, k)) chunks.push(c as Buffer)
      writeFileSync(file, Buffer.concat(chunks))
    },
    presignGet: (bucket, k, s) => client.presignedGetObject(bucket, k, s),
    presignPut: (bucket, k, s) => client.presignedPutObject(bucket, k, s),
    async copy(sb, sk, db, dk) {
      await client.copyObject(db, dk, `/${sb}/${sk}`, new CopyConditions())
    },
    remove: (bucket, k) => client.removeObject(bucket, k),
  }
}

conformance({ name: 'minio-js', driver })
