// SPDX-License-Identifier: AGPL-3.0-or-later
/** A real directory with the fs driver on it, and the small helpers the fs driver tests share. */
import { afterEach } from 'bun:test'
import { mkdir, mkdtemp, readdir, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BackendError, type Backend, type ListOptions } from '../../src/backends/backend.ts'
import { createFsBackend, type FsBackendOptions } from '../../src/backends/fs/driver.ts'

export const MiB = 1024 * 1024
const cleanups: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const fn of cleanups.splice(0)) await fn()
})

export type Fixture = { base: string; root: string; b: Backend; open(): Backend; bucketDir(name?: string): string }

/** A root inside its own parent directory, so escapes into the parent are visible. */
export async function fixture(bucket: string | null = 'bkt', options: Omit<FsBackendOptions, 'id' | 'root'> = {}): Promise<Fixture> {
  const base = await realpath(await mkdtemp(join(tmpdir(), 'stowage-fs-')))
  const root = join(base, 'root')
  await mkdir(root)
  await writeFile(join(base, 'sentinel'), 'untouched')
  const opened: Backend[] = []
  const open = (): Backend => {
    const backend = createFsBackend({ ...options, id: 'fs-test', root })
    opened.push(backend)
    return backend
  }
  const b = open()
  if (bucket) await b.createBucket(bucket)
  cleanups.push(async () => {
    for (const backend of opened) await backend.close()
    await rm(base, { recursive: true, force: true })
  })
  return { base, root, b, open, bucketDir: (name = 'bkt') => join(root, name) }
}

export function body(content: string | Uint8Array): ReadableStream<Uint8Array> {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes)
      controller.close()
    },
  })
}

export async function put(b: Backend, key: string, content: string, bucket = 'bkt'): Promise<string> {
  return (await b.putObject(bucket, key, body(content), { size: Buffer.byteLength(content) })).etag
}

export async function read(b: Backend, key: string, bucket = 'bkt'): Promise<string> {
  const got = await b.getObject(bucket, key)
  if (got.status === 304) throw new Error('unexpected 304')
  return new Response(got.body).text()
}

export async function kindOf(call: Promise<unknown>): Promise<string> {
  try {
    await call
    return 'resolved'
  } catch (err) {
    return err instanceof BackendError ? err.kind : `not a BackendError: ${String(err)}`
  }
}

export async function keysOf(b: Backend, opts: ListOptions = {}, bucket = 'bkt'): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await b.listObjects(bucket, { ...opts, token })
    keys.push(...page.objects.map((o) => o.key))
    token = page.nextToken
  } while (token)
  return keys
}

export function byteOrder(keys: string[]): string[] {
  return [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
}

/** A repeatable random integer source (mulberry32): `random(n)` is in 0..n-1. */
export function seeded(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) % n
  }
}

/** Every path under `dir`, relative to it. */
export async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true })
  return entries.map(String).sort()
}

/** The files holding the bytes of noncurrent versions in a bucket (src/backends/fs/versions.ts), entries left out. */
export async function keptBytes(root: string, bucket = 'bkt'): Promise<string[]> {
  const files = await walk(join(root, '.stowage', 'vdata', bucket)).catch(() => [])
  return files.filter((p) => /\/\d{16}\.[\w-]+$/.test(p))
}

export async function stagingFiles(root: string): Promise<string[]> {
  return (await walk(join(root, '.stowage', 'tmp'))).filter((p) => p.includes('/'))
}

/** A body that delivers `before` bytes, then fails. */
export function failingBody(before: number): ReadableStream<Uint8Array> {
  let sent = false
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return controller.error(new Error('connection reset'))
      sent = true
      controller.enqueue(new Uint8Array(before).fill(7))
    },
  })
}
