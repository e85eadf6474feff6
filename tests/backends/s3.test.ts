// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What only the S3 driver has to get right, against a real Ceph RGW:
 * failing fast, credentials, sockets released on abort, bounded memory on
 * large streams, the multipart switch for uploads, and keys that need
 * escaping (copies above the single-copy limit: s3-copy.test.ts).
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import type { Backend } from '../../src/backends/backend.ts'
import { measureStreaming } from '../helpers/stream-probe.ts'
import {
  bytes,
  caught,
  md5Of,
  MiB,
  patterned,
  emptyAndDelete,
  rgwBackend as backend,
  s3Env,
  testBucket,
  tcpRelay,
  unreachableEndpoint,
  useTestBucket,
} from '../helpers/s3.ts'

const env = s3Env()
const { bucket, backend: s3 } = useTestBucket('s3')

describe('reaching the upstream', () => {
  test('a closed port fails at once with unavailable', async () => {
    const b = backend({ endpoint: 'http://127.0.0.1:1' })
    const started = performance.now()
    expect((await caught(b.listBuckets())).kind).toBe('unavailable')
    expect(performance.now() - started).toBeLessThan(1000)
    await b.close()
  })

  test('an unknown host fails with unavailable', async () => {
    const b = backend({ endpoint: 'http://stowage-no-such-host.invalid:7480' })
    expect((await caught(b.listBuckets())).kind).toBe('unavailable')
    await b.close()
  })

  test('a blackholed endpoint fails within the connect budget instead of hanging', async () => {
    const hole = await unreachableEndpoint()
    try {
      const b = backend({ endpoint: hole.endpoint, timeoutMs: 1500 })
      const started = performance.now()
      const err = await caught(b.headObject('bucket', 'key'))
      const took = performance.now() - started
      expect(err.kind).toBe('unavailable')
      expect(took).toBeGreaterThan(1400)
      expect(took).toBeLessThan(3000)
      await b.close()
    } finally {
      hole.stop()
    }
  })

  test('probe gives up after 5 s on a blackholed endpoint', async () => {
    const hole = await unreachableEndpoint()
    try {
      const b = backend({ endpoint: hole.endpoint })
      const started = performance.now()
      expect((await caught(b.probe())).kind).toBe('unavailable')
      expect(performance.now() - started).toBeLessThan(6500)
      await b.close()
    } finally {
      hole.stop()
    }
  }, 15_000)

  test('a server that accepts but never answers hits the idle timeout', async () => {
    const silent = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    const b = backend({ endpoint: `http://127.0.0.1:${silent.port}`, timeoutMs: 1000 })
    const started = performance.now()
    expect((await caught(b.listBuckets())).kind).toBe('unavailable')
    expect(performance.now() - started).toBeLessThan(2500)
    await b.close()
    silent.stop(true)
  })

  test('a 503 SlowDown keeps its code and does not pin the socket', async () => {
    let connections = 0
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => new Response('<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>slow</Message></Error>', { status: 503 }),
    })
    const relay = await tcpRelay(`http://127.0.0.1:${server.port}`)
    const b = backend({ endpoint: relay.endpoint })
    for (let i = 0; i < 3; i++) {
      const err = await caught(b.listBuckets())
      expect(err.kind).toBe('unavailable')
      expect((err.cause as { code?: string }).code).toBe('SlowDown')
    }
    connections = relay.accepted()
    expect(connections).toBe(1)
    await b.close()
    await relay.stop()
    server.stop(true)
  })

  test('a wrong secret is denied, and the upstream message stays in cause', async () => {
    const b = backend({ secretKey: `${env.secretKey}x` })
    const err = await caught(b.listBuckets())
    expect(err.kind).toBe('denied')
    expect(err.message).not.toContain('SignatureDoesNotMatch')
    expect(String(err.cause)).toContain('SignatureDoesNotMatch')
    await b.close()
  })

  test('an unknown access key is denied', async () => {
    const b = backend({ accessKey: 'no-such-key' })
    expect((await caught(b.probe())).kind).toBe('denied')
    await b.close()
  })

  test('probe succeeds against RGW', async () => {
    await s3.probe()
  })
})

describe('downloads release their socket', () => {
  const key = 'abort/8mib.bin'

  beforeAll(async () => {
    const body = patterned(8 * MiB)
    await s3.putObject(bucket, key, body.stream, { size: 8 * MiB })
  })

  async function started(b: Backend, signal?: AbortSignal): Promise<ReadableStreamDefaultReader<Uint8Array>> {
    const got = await b.getObject(bucket, key, { signal })
    if (got.status === 304) throw new Error('unexpected 304')
    expect(got.contentLength).toBe(8 * MiB)
    const reader = got.body.getReader()
    const first = await reader.read()
    expect(first.done).toBe(false)
    return reader
  }

  test('a finished download leaves its connection pooled', async () => {
    const relay = await tcpRelay(env.endpoint)
    const b = backend({ endpoint: relay.endpoint })
    const got = await b.getObject(bucket, key)
    if (got.status === 304) throw new Error('unexpected 304')
    expect((await md5Of(got.body)).size).toBe(8 * MiB)
    await b.headObject(bucket, key)
    expect(relay.accepted()).toBe(1)
    expect(relay.open()).toBe(1)
    await b.close()
    await relay.stop()
  })

  test('aborting the signal mid-body destroys the upstream socket', async () => {
    const relay = await tcpRelay(env.endpoint)
    const b = backend({ endpoint: relay.endpoint })
    const ac = new AbortController()
    const reader = await started(b, ac.signal)
    ac.abort()
    await Promise.race([relay.closed(0), Bun.sleep(2000).then(() => Promise.reject(new Error('socket still open 2 s after abort')))])
    await expect(reader.read()).rejects.toBeDefined()
    // The pool recovers with a fresh connection.
    await b.headObject(bucket, key)
    expect(relay.accepted()).toBe(2)
    await b.close()
    await relay.stop()
  })

  test('cancelling the body stream destroys the upstream socket', async () => {
    const relay = await tcpRelay(env.endpoint)
    const b = backend({ endpoint: relay.endpoint })
    const reader = await started(b)
    await reader.cancel()
    await Promise.race([relay.closed(0), Bun.sleep(2000).then(() => Promise.reject(new Error('socket still open 2 s after cancel')))])
    await b.close()
    await relay.stop()
  })

  test('an already aborted signal sends nothing', async () => {
    const relay = await tcpRelay(env.endpoint)
    const b = backend({ endpoint: relay.endpoint })
    await expect(b.getObject(bucket, key, { signal: AbortSignal.abort() })).rejects.toHaveProperty('name', 'AbortError')
    expect(relay.accepted()).toBe(0)
    await b.close()
    await relay.stop()
  })
})

describe('large objects stream', () => {
  test('200 MiB put and get keep RSS bounded (measured in a fresh process)', async () => {
    const r = await measureStreaming(
      { kind: 's3', endpoint: env.endpoint, region: env.region, accessKey: env.accessKey, secretKey: env.secretKey },
      bucket,
      200 * MiB,
    )
    console.log(`[s3 200 MiB] put peak +${r.putGrowthMiB.toFixed(0)} MiB; get peak +${r.getGrowthMiB.toFixed(0)} MiB`)
    expect(r.intact).toBe(true)
    expect(r.contentLength).toBe(200 * MiB)
    expect(r.putGrowthMiB).toBeLessThan(64)
    expect(r.getGrowthMiB).toBeLessThan(64)
  }, 120_000)

  test('above the single-PUT limit the stream is uploaded in parts', async () => {
    const small = backend({ uploads: { singlePutMaxBytes: 6 * MiB, partBytes: 5 * MiB } })
    const size = 13 * MiB + 7
    const body = patterned(size, 300_000)
    const put = await small.putObject(bucket, 'big/multipart.bin', body.stream, { size, contentType: 'application/x-test', metadata: { origin: 'parts' } })
    expect(put.etag).toMatch(/-3"$/)
    const head = await small.headObject(bucket, 'big/multipart.bin')
    expect(head).toMatchObject({ size, etag: put.etag, contentType: 'application/x-test', metadata: { origin: 'parts' } })
    const got = await small.getObject(bucket, 'big/multipart.bin')
    if (got.status === 304) throw new Error('unexpected 304')
    expect(await md5Of(got.body)).toEqual({ md5: body.md5(), size })
    expect(await small.listMultipartUploads(bucket, { prefix: 'big/' })).toEqual([])
    await small.close()
  })

  test('a short body fails the multipart upload and leaves nothing behind', async () => {
    const small = backend({ uploads: { singlePutMaxBytes: 6 * MiB, partBytes: 5 * MiB } })
    const body = patterned(8 * MiB)
    const err = await caught(small.putObject(bucket, 'big/short.bin', body.stream, { size: 12 * MiB }))
    expect(err.kind).toBe('invalid')
    expect((await caught(small.headObject(bucket, 'big/short.bin'))).kind).toBe('not_found')
    expect(await small.listMultipartUploads(bucket, { prefix: 'big/short' })).toEqual([])
    await small.close()
  })

  test('aborting an upload mid-body rejects with the abort reason and stores nothing', async () => {
    const ac = new AbortController()
    let pulls = 0
    const slow = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (pulls++ === 2) ac.abort()
          await Bun.sleep(20)
          controller.enqueue(new Uint8Array(MiB))
        },
      },
      { highWaterMark: 0 },
    )
    await expect(s3.putObject(bucket, 'aborted.bin', slow, { size: 16 * MiB, signal: ac.signal })).rejects.toHaveProperty('name', 'AbortError')
    expect((await caught(s3.headObject(bucket, 'aborted.bin'))).kind).toBe('not_found')
  })

  test('a body longer than declared is refused before the object exists', async () => {
    const err = await caught(s3.putObject(bucket, 'long.txt', bytes('0123456789'), { size: 5 }))
    expect(err.kind).toBe('invalid')
    expect((await caught(s3.headObject(bucket, 'long.txt'))).kind).toBe('not_found')
  })
})

describe('keys that need escaping round-trip', () => {
  const keys = [
    'with space',
    'plus+sign',
    'equals=sign',
    'amp&ersand',
    'question?mark',
    'hash#tag',
    'percent%41%',
    'ünïcödé/日本語 ✓',
    'mix a+b=c&d?e#f %20',
    '007',
    '1e3',
  ]

  for (const key of keys) {
    test(JSON.stringify(key), async () => {
      const k = `keys/${key}`
      const put = await s3.putObject(bucket, k, bytes(key), { size: Buffer.byteLength(key), contentType: 'text/plain', metadata: { original: 'yes' } })
      const page = await s3.listObjects(bucket, { prefix: k, delimiter: '/' })
      expect(page.objects.map((o) => o.key)).toContain(k)
      const got = await s3.getObject(bucket, k)
      if (got.status === 304) throw new Error('unexpected 304')
      expect(await new Response(got.body).text()).toBe(key)
      expect(got.info.etag).toBe(put.etag)
      await s3.putObjectTags(bucket, k, { k: key.slice(0, 8) })
      expect(await s3.getObjectTags(bucket, k)).toEqual({ k: key.slice(0, 8) })
      const copy = await s3.copyObject({ bucket, key: k }, { bucket, key: `${k}.copy` })
      expect(copy).toMatchObject({ key: `${k}.copy`, etag: put.etag, metadata: { original: 'yes' } })
      expect((await s3.listObjectVersions(bucket, k)).map((v) => v.key)).toEqual([k])
      expect(await s3.deleteObjects(bucket, [{ key: k }, { key: `${k}.copy` }])).toMatchObject({ errors: [] })
      expect((await caught(s3.headObject(bucket, k))).kind).toBe('not_found')
    })
  }
})

describe('S3 specifics', () => {
  test('a 304 from RGW, which sends no ETag, still carries the one asked about', async () => {
    const put = await s3.putObject(bucket, 'cond.txt', bytes('conditional'), { size: 11 })
    const got = await s3.getObject(bucket, 'cond.txt', { ifNoneMatch: put.etag })
    expect(got.status).toBe(304)
    expect(got.info.etag).toBe(put.etag)
  })

  test('copy with new metadata keeps the source content type; a new content type keeps the metadata', async () => {
    await s3.putObject(bucket, 'ct/src.json', bytes('{}'), { size: 2, contentType: 'application/json', metadata: { a: '1' } })
    const meta = await s3.copyObject({ bucket, key: 'ct/src.json' }, { bucket, key: 'ct/meta.json' }, { metadata: { b: '2' } })
    expect(meta).toMatchObject({ contentType: 'application/json', metadata: { b: '2' } })
    expect(meta.metadata).not.toHaveProperty('a')
    const type = await s3.copyObject({ bucket, key: 'ct/src.json' }, { bucket, key: 'ct/type.json' }, { contentType: 'text/plain' })
    expect(type).toMatchObject({ contentType: 'text/plain', metadata: { a: '1' } })
    const inPlace = await s3.copyObject({ bucket, key: 'ct/src.json' }, { bucket, key: 'ct/src.json' }, { metadata: { c: '3' } })
    expect(inPlace).toMatchObject({ contentType: 'application/json', metadata: { c: '3' } })
  })

  test('metadata HTTP cannot carry as signed is refused before sending', async () => {
    expect((await caught(s3.putObject(bucket, 'meta.txt', bytes('x'), { size: 1, metadata: { name: 'ü' } }))).kind).toBe('invalid')
    expect((await caught(s3.putObject(bucket, 'meta.txt', bytes('x'), { size: 1, metadata: { 'two words': 'x' } }))).kind).toBe('invalid')
    expect((await caught(s3.putObject(bucket, 'meta.txt', bytes('x'), { size: 1, contentType: 'text/plain\r\nx-evil: 1' }))).kind).toBe('invalid')
  })

  test('policy delete accepts RGW’s 200 and a missing policy reads as null', async () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/*`] }],
    })
    expect(await s3.getPolicy(bucket)).toBeNull()
    await s3.setPolicy(bucket, policy)
    expect(JSON.parse((await s3.getPolicy(bucket))!)).toEqual(JSON.parse(policy))
    await s3.deletePolicy(bucket)
    expect(await s3.getPolicy(bucket)).toBeNull()
    expect((await caught(s3.setPolicy(bucket, '{not json'))).kind).toBe('invalid')
  })

  test('lifecycle rules map both ways', async () => {
    const rules = [
      { id: 'logs', prefix: 'logs/', enabled: true, expiration_days: 30, noncurrent_expire_days: 7, abort_incomplete_days: 2 },
      { id: 'off', enabled: false, expiration_days: 5 },
    ]
    expect(await s3.getLifecycle(bucket)).toEqual([])
    await s3.setLifecycle(bucket, rules)
    const back = await s3.getLifecycle(bucket)
    expect(back.sort((a, b) => a.id!.localeCompare(b.id!))).toEqual(rules)
    await s3.deleteLifecycle(bucket)
    expect(await s3.getLifecycle(bucket)).toEqual([])
  })

  test('versions of one key ignore longer keys sharing its prefix, across pages', async () => {
    const vb = testBucket('ver')
    await s3.createBucket(vb)
    try {
      await s3.setVersioning(vb, true)
      expect(await s3.getVersioning(vb)).toBe(true)
      await s3.putObject(vb, 'doc', bytes('v0'), { size: 2 })
      // More than one ListObjectVersions page (1000 entries) of the same key.
      let next = 0
      const writer = async (): Promise<void> => {
        while (next < 1004) {
          next++
          await s3.putObject(vb, 'doc', bytes('vN'), { size: 2 })
        }
      }
      await Promise.all(Array.from({ length: 16 }, writer))
      await s3.putObject(vb, 'doc/child', bytes('c'), { size: 1 })
      await s3.putObject(vb, 'doc2', bytes('d'), { size: 1 })
      await s3.deleteObject(vb, 'doc')
      const versions = await s3.listObjectVersions(vb, 'doc')
      expect(versions).toHaveLength(1006)
      expect(versions.every((v) => v.key === 'doc')).toBe(true)
      expect(new Set(versions.map((v) => v.versionId)).size).toBe(1006)
      expect(versions.map((v) => [v.isDeleteMarker, v.isLatest, v.size]).slice(0, 2)).toEqual([
        [true, true, 0],
        [false, false, 2],
      ])
      const oldest = await s3.getObject(vb, 'doc', { versionId: versions.at(-1)!.versionId })
      if (oldest.status === 304) throw new Error('unexpected 304')
      expect(await new Response(oldest.body).text()).toBe('v0')
    } finally {
      await emptyAndDelete(s3, vb, ['doc'])
    }
  }, 60_000)

  test("creating someone else's bucket is exists, and their bucket is denied", async () => {
    if (!env.accessKey2 || !env.secretKey2) throw new Error('S3_ACCESS_KEY_2 / S3_SECRET_KEY_2 (a second user) are needed; scripts/start-rgw.sh creates one')
    const other = backend({ accessKey: env.accessKey2, secretKey: env.secretKey2 })
    expect((await caught(other.createBucket(bucket))).kind).toBe('exists')
    expect((await caught(other.listObjects(bucket, {}))).kind).toBe('denied')
    await other.close()
  })
})
