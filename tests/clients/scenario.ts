// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The conformance scenario every real S3 client runs through the S3 listener,
 * twice: into RGW (the forwarder) and into a local directory (the S3 engine):
 * list buckets (only the scoped ones), small put/get, a 50 MiB
 * multipart upload and download compared by SHA-256, presigned GET (and PUT
 * where the client can presign one), copy within the scope, delete; and the
 * denials: an out-of-scope bucket, a copy from an out-of-scope source, a
 * read-only key writing, expired and disabled keys, a wrong secret, and a
 * presigned URL replayed after it expired.
 *
 * Each client file supplies a Driver: the client's own way of doing each step.
 * A denial must make the client fail with the S3 code (or status) it got.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Backend } from '../../src/backends/backend.ts'
import { bucketName, proxyEnv, type Cred, type ProxyEnv } from '../s3proxy/fixture.ts'

export const MiB = 1024 * 1024

export type Key = { access_key: string; secret_key: string }

export type Driver = {
  listBuckets(): Promise<string[]>
  /** Uploads a local file (the client decides single PUT or multipart). */
  upload(bucket: string, key: string, file: string): Promise<void>
  download(bucket: string, key: string, file: string): Promise<void>
  presignGet(bucket: string, key: string, expiresSeconds: number): Promise<string>
  /** Undefined when the client cannot presign uploads. */
  presignPut?(bucket: string, key: string, expiresSeconds: number): Promise<string>
  copy(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string): Promise<void>
  remove(bucket: string, key: string): Promise<void>
}

export type Ctx = {
  p: ProxyEnv
  dir: string
  endpoint: string
  port: number
  /** Mints a credential on the scenario's backend. */
  mint(body: Record<string, unknown>, as?: ProxyEnv['user']): Promise<Cred>
}

export type ClientSpec = {
  name: string
  /** Builds a driver for one key; called once per credential the scenario uses. */
  driver(key: Key, ctx: Ctx): Driver | Promise<Driver>
  /** Set up before the suite (e.g. check the binary exists). */
  setup?(ctx: Ctx): Promise<void>
  /** Why presigned PUT is not covered for this client, when it is not. */
  noPresignPut?: string
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

/** When a SigV4 presigned URL stops being valid (ms since the epoch). */
function expiryOf(url: string): number {
  const q = new URL(url).searchParams
  const d = q.get('X-Amz-Date')!
  const signed = Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +d.slice(9, 11), +d.slice(11, 13), +d.slice(13, 15))
  return signed + Number(q.get('X-Amz-Expires')) * 1000
}

/** Runs the client and returns the error it failed with; fails the test when it succeeds. */
export async function failure(run: () => Promise<unknown>): Promise<string> {
  try {
    await run()
  } catch (err) {
    const e = err as Error & { Code?: string; code?: string; $metadata?: { httpStatusCode?: number } }
    return [e.Code, e.code, e.name, e.$metadata?.httpStatusCode, e.message].filter(Boolean).join(' ')
  }
  throw new Error('the client succeeded where it must have been refused')
}

/** Runs a command without blocking the event loop (the proxy under test runs in this process). */
export async function run(cmd: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<string> {
  const proc = Bun.spawn(cmd, {
    env: { ...process.env, ...env } as Record<string, string>,
    stdout: 'pipe',
    stderr: 'pipe',
    stdin: input === undefined ? 'ignore' : new TextEncoder().encode(input),
  })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`${cmd[0]} exited ${code}: ${(err + out).slice(-2000)}`)
  return out
}

/** The storage behind the listener: `rgw` is forwarded to, `local` (a directory) served by the S3 engine. */
const TARGETS = ['rgw', 'local'] as const

export function conformance(spec: ClientSpec): void {
  for (const target of TARGETS) scenario(spec, target)
}

function scenario(spec: ClientSpec, target: (typeof TARGETS)[number]): void {
  describe(`${spec.name} through the S3 listener into ${target}`, () => {
    let p: ProxyEnv
    let storage: Backend
    let ctx: Ctx
    let main: string
    let readable: string
    let foreign: string
    let rw: Cred
    let drv: Driver
    let big: string
    let bigSha: string

    beforeAll(async () => {
      p = await proxyEnv()
      storage = p.t.s.registry.get(target)
      const dir = mkdtempSync(join(tmpdir(), `stowage-client-${spec.name.replace(/\W+/g, '-')}-`))
      ctx = { p, dir, endpoint: p.endpoint, port: p.running.proxy!.port, mint: (body, as) => p.mint({ backend_id: target, ...body }, as) }
      await spec.setup?.(ctx)
      const bucket = async (tag: string): Promise<string> => {
        if (target === 'rgw') return p.bucket(tag)
        const name = bucketName(tag)
        await storage.createBucket(name)
        return name
      }
      main = await bucket('cl-main')
      readable = await bucket('cl-ro')
      foreign = await bucket('cl-foreign')
      for (const b of [readable, foreign]) await storage.putObject(b, 'seed.txt', new Response('seed').body!, { size: 4 })
      rw = await ctx.mint({ buckets: [main, { bucket: readable, access: 'read' }] }, p.user)
      drv = await spec.driver(rw, ctx)
      const data = randomBytes(50 * MiB)
      big = join(dir, 'big.bin')
      writeFileSync(big, data)
      bigSha = sha256(data)
    }, 60_000)
    afterAll(async () => {
      await p.close()
      rmSync(ctx.dir, { recursive: true, force: true })
    }, 60_000)

    test('lists only the buckets in its scope', async () => {
      expect((await drv.listBuckets()).sort()).toEqual([main, readable].sort())
    }, 30_000)

    test('puts and gets a small object', async () => {
      const file = join(ctx.dir, 'small.txt')
      writeFileSync(file, 'small object through the proxy\n')
      await drv.upload(main, 'dir/small.txt', file)
      const back = join(ctx.dir, 'small.back')
      await drv.download(main, 'dir/small.txt', back)
      expect(readFileSync(back, 'utf8')).toBe('small object through the proxy\n')
    }, 30_000)

    test('uploads and downloads 50 MiB in parts, byte-exact', async () => {
      await drv.upload(main, 'big/fifty.bin', big)
      const info = await storage.headObject(main, 'big/fifty.bin')
      expect(info.size).toBe(50 * MiB)
      expect(info.etag).toMatch(/-\d+"?$/)
      const back = join(ctx.dir, 'big.back')
      await drv.download(main, 'big/fifty.bin', back)
      expect(sha256(readFileSync(back))).toBe(bigSha)
    }, 120_000)

    test('a presigned GET works, and is refused when replayed after it expired', async () => {
      // Long enough for a slow CLI to start up and print the URL; the replay waits out the rest.
      const url = await drv.presignGet(main, 'dir/small.txt', 15)
      const res = await fetch(url)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('small object through the proxy\n')
      await Bun.sleep(Math.max(0, expiryOf(url) + 1500 - Date.now()))
      const replay = await fetch(url)
      expect(replay.status).toBe(403)
    }, 60_000)

    // Clients that cannot presign uploads (noPresignPut says why) have no such step; the SDK and minio cover it.
    if (spec.noPresignPut === undefined) {
      test('a presigned PUT uploads', async () => {
        const url = await drv.presignPut!(main, 'presigned/put.txt', 300)
        const res = await fetch(url, { method: 'PUT', body: 'uploaded with a presigned URL' })
        expect(res.status).toBe(200)
        const got = await storage.getObject(main, 'presigned/put.txt')
        expect(await new Response((got as { body: ReadableStream }).body).text()).toBe('uploaded with a presigned URL')
      }, 30_000)
    }

    test('copies within the scope (from the read bucket too)', async () => {
      await drv.copy(main, 'dir/small.txt', main, 'dir/copy.txt')
      await drv.copy(readable, 'seed.txt', main, 'dir/seed-copy.txt')
      expect((await storage.headObject(main, 'dir/copy.txt')).size).toBe(31)
      expect((await storage.headObject(main, 'dir/seed-copy.txt')).size).toBe(4)
    }, 30_000)

    test('deletes', async () => {
      await drv.remove(main, 'dir/copy.txt')
      await expect(storage.headObject(main, 'dir/copy.txt')).rejects.toThrow()
    }, 30_000)

    test('refused: a bucket outside the scope', async () => {
      expect(await failure(() => drv.download(foreign, 'seed.txt', join(ctx.dir, 'x')))).toMatch(/AccessDenied|403|Forbidden/)
      const file = join(ctx.dir, 'small.txt')
      expect(await failure(() => drv.upload(foreign, 'planted.txt', file))).toMatch(/AccessDenied|403|Forbidden/)
      await expect(storage.headObject(foreign, 'planted.txt')).rejects.toThrow()
    }, 30_000)

    test('refused: a copy from a source outside the scope', async () => {
      expect(await failure(() => drv.copy(foreign, 'seed.txt', main, 'stolen.txt'))).toMatch(/AccessDenied|403|Forbidden/)
      await expect(storage.headObject(main, 'stolen.txt')).rejects.toThrow()
    }, 30_000)

    test('refused: a write with read-only access', async () => {
      const file = join(ctx.dir, 'small.txt')
      expect(await failure(() => drv.upload(readable, 'ro-write.txt', file))).toMatch(/AccessDenied|403|Forbidden/)
      const roKey = await ctx.mint({ buckets: [{ bucket: main, access: 'read' }] })
      const ro = await spec.driver(roKey, ctx)
      await ro.download(main, 'dir/small.txt', join(ctx.dir, 'ro.back'))
      expect(await failure(() => ro.upload(main, 'ro-key-write.txt', file))).toMatch(/AccessDenied|403|Forbidden/)
      await expect(storage.headObject(main, 'ro-key-write.txt')).rejects.toThrow()
    }, 60_000)

    test('refused: an expired key and a disabled key', async () => {
      const expiring = await ctx.mint({ buckets: [main], expires_at: new Date(Date.now() + 1500).toISOString() })
      const disabled = await ctx.mint({ buckets: [main] })
      await p.t.call('PATCH', `/api/admin/s3-credentials/${disabled.access_key}`, { as: p.admin, json: { enabled: false } })
      await Bun.sleep(1600)
      for (const k of [expiring, disabled]) {
        const d = await spec.driver(k, ctx)
        expect(await failure(() => d.download(main, 'dir/small.txt', join(ctx.dir, 'nope')))).toMatch(/InvalidAccessKeyId|403|Forbidden/)
      }
    }, 60_000)

    test('refused: a wrong secret', async () => {
      const d = await spec.driver({ access_key: rw.access_key, secret_key: 'W'.repeat(40) }, ctx)
      expect(await failure(() => d.download(main, 'dir/small.txt', join(ctx.dir, 'nope')))).toMatch(/SignatureDoesNotMatch|403|Forbidden/)
    }, 30_000)
  })
}
