// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Where the real S3 (Ceph RGW) for integration tests is; body and bucket
 * helpers; and fixtures for failure paths: a TCP relay that shows which
 * connections the client closes, an HTTP gate that holds or answers chosen
 * requests, and an endpoint that never completes a TCP handshake.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'bun:test'
import { BackendError, type Backend } from '../../src/backends/backend.ts'
import { createS3Backend, type S3BackendOptions } from '../../src/backends/s3/driver.ts'

export const MiB = 1024 * 1024

export type S3Env = { endpoint: string; accessKey: string; secretKey: string; region: string; accessKey2?: string; secretKey2?: string }

function readEnvFile(path: string): Record<string, string> | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line)
    if (m) out[m[1]!] = m[2]!.trim().replace(/^(['"])(.*)\1$/, '$2')
  }
  return out
}

/**
 * S3_* from the environment, else the env file scripts/start-rgw.sh writes.
 * Throws (never skips) when neither is there, so a missing RGW fails the run.
 */
export function s3Env(): S3Env {
  const file = join(process.env.RGW_DIR ?? join(process.env.TMPDIR || tmpdir(), 'stowage-rgw'), 'env')
  const vars = process.env.S3_ENDPOINT ? (process.env as Record<string, string>) : readEnvFile(file)
  const { S3_ENDPOINT: endpoint, S3_ACCESS_KEY: accessKey, S3_SECRET_KEY: secretKey } = vars ?? {}
  if (!endpoint || !accessKey || !secretKey) {
    throw new Error(
      `No S3 endpoint for the integration tests. Start the local Ceph RGW with \`bash scripts/start-rgw.sh\` ` +
        `(it writes ${file}), or set S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY (optionally S3_REGION, S3_ACCESS_KEY_2, S3_SECRET_KEY_2).`,
    )
  }
  return {
    endpoint,
    accessKey,
    secretKey,
    region: vars!.S3_REGION || 'us-east-1',
    accessKey2: vars!.S3_ACCESS_KEY_2 || undefined,
    secretKey2: vars!.S3_SECRET_KEY_2 || undefined,
  }
}

export function bytes(s: string): ReadableStream<Uint8Array> {
  return new Response(s).body!
}

/** `total` bytes of a position-dependent pattern in `chunk`-sized pieces, produced on demand. */
export function patterned(total: number, chunk = MiB): { stream: ReadableStream<Uint8Array>; md5: () => string } {
  const hash = createHash('md5')
  let sent = 0
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent >= total) return controller.close()
        const n = Math.min(chunk, total - sent)
        const buf = new Uint8Array(n)
        for (let i = 0; i < n; i += 4096) buf[i] = (sent + i) / 4096
        buf.fill(sent / chunk, 1, 64)
        hash.update(buf)
        sent += n
        controller.enqueue(buf)
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, md5: () => hash.digest('hex') }
}

export async function md5Of(body: ReadableStream<Uint8Array>): Promise<{ md5: string; size: number }> {
  const hash = createHash('md5')
  let size = 0
  for await (const chunk of body) {
    hash.update(chunk)
    size += chunk.length
  }
  return { md5: hash.digest('hex'), size }
}

export async function caught(p: Promise<unknown>): Promise<BackendError> {
  try {
    await p
  } catch (err) {
    if (err instanceof BackendError) return err
    throw err
  }
  throw new Error('expected a BackendError')
}

/** `hidden` names keys whose latest version may be a delete marker, which listings skip. */
export async function emptyAndDelete(b: Backend, bucket: string, hidden: string[] = []): Promise<void> {
  for (const u of await b.listMultipartUploads(bucket, {})) await b.abortMultipartUpload(bucket, u.key, u.uploadId)
  for (;;) {
    const page = await b.listObjects(bucket, {})
    const keys = [...new Set([...hidden, ...page.objects.map((o) => o.key)])]
    const victims: Array<{ key: string; versionId?: string }> = []
    for (const key of keys) for (const v of await b.listObjectVersions(bucket, key)) victims.push({ key, versionId: v.versionId })
    if (victims.length === 0) break
    for (let i = 0; i < victims.length; i += 1000) await b.deleteObjects(bucket, victims.slice(i, i + 1000))
  }
  await b.deleteBucket(bucket)
}

/** A unique, valid bucket name for one test. */
export function testBucket(tag: string): string {
  return `t-${tag}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`.toLowerCase()
}

/** The S3 driver on the test server, path-style. */
export function rgwBackend(over: Partial<S3BackendOptions> = {}): Backend {
  const env = s3Env()
  return createS3Backend({
    id: 'rgw',
    endpoint: env.endpoint,
    region: env.region,
    accessKey: env.accessKey,
    secretKey: env.secretKey,
    pathStyle: true,
    ...over,
  })
}

/** A driver and a bucket for one test file: the bucket is made before its tests and removed, with what is left in it, after them. */
export function useTestBucket(tag: string): { bucket: string; backend: Backend } {
  const bucket = testBucket(tag)
  const backend = rgwBackend()
  beforeAll(() => backend.createBucket(bucket))
  afterAll(async () => {
    await emptyAndDelete(backend, bucket)
    await backend.close()
  })
  return { bucket, backend }
}

export type Relay = {
  endpoint: string
  /** Client-side connections still open. */
  open(): number
  /** Resolves when the n-th accepted connection (0-based) has closed. */
  closed(n: number): Promise<void>
  accepted(): number
  stop(): Promise<void>
}

/** A TCP relay to `target` (http://host:port) that records each client connection's life. */
export async function tcpRelay(target: string): Promise<Relay> {
  const url = new URL(target)
  const closedAt: Array<{ done: boolean; wait: Promise<void> }> = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    sockets.add(client)
    let markClosed!: () => void
    const entry = { done: false, wait: new Promise<void>((r) => (markClosed = r)) }
    closedAt.push(entry)
    const upstream = net.connect(Number(url.port || 80), url.hostname)
    sockets.add(upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    const end = (): void => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end)
    upstream.on('error', end)
    client.on('close', () => {
      entry.done = true
      sockets.delete(client)
      upstream.destroy()
      markClosed()
    })
    upstream.on('close', () => {
      sockets.delete(upstream)
      client.destroy()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as net.AddressInfo).port
  return {
    endpoint: `http://127.0.0.1:${port}`,
    open: () => closedAt.filter((e) => !e.done).length,
    accepted: () => closedAt.length,
    closed: (n) => closedAt[n]?.wait ?? Promise.reject(new Error(`no connection #${n}`)),
    async stop() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

export type GateRequest = { method: string; url: URL; headers: http.IncomingHttpHeaders }
/** An answer instead of the upstream's: `headers` join Content-Type (XML) and Content-Length. */
export type GateAnswer = { status: number; body: string; headers?: Record<string, string> }
export type GateHooks = {
  /** Runs before the request goes upstream; it may hold it, or answer it instead. */
  before?(r: GateRequest): Promise<GateAnswer | undefined>
  /** Runs once the upstream's answer has been relayed. */
  after?(r: GateRequest, status: number): void
}

/** The part number of an UploadPart(Copy) request, else undefined. */
export function partNumberOf(r: GateRequest): number | undefined {
  const n = r.url.searchParams.get('partNumber')
  return r.method === 'PUT' && n && r.url.searchParams.has('uploadId') ? Number(n) : undefined
}

/**
 * Gate hooks that hold every part after the first until the first has been
 * copied, then run `midway` once before part 2 goes on; `parts` collects
 * [part number, upstream status] as parts finish.
 */
export function afterFirstPart(midway: () => Promise<unknown>): { hooks: GateHooks; parts: Array<[number, number]> } {
  const parts: Array<[number, number]> = []
  let firstDone!: () => void
  const first = new Promise<void>((r) => (firstDone = r))
  const hooks: GateHooks = {
    async before(r) {
      const n = partNumberOf(r)
      if (n === undefined || n === 1) return undefined
      await first
      if (n === 2) await midway()
      return undefined
    },
    after(r, status) {
      const n = partNumberOf(r)
      if (n === undefined) return
      parts.push([n, status])
      if (n === 1) firstDone()
    },
  }
  return { hooks, parts }
}

/**
 * An HTTP relay to `target` (http://host:port) that shows every request to
 * `hooks`. Headers pass as they were signed, Host included, so SigV4 still
 * verifies upstream.
 */
export async function httpGate(target: string, hooks: GateHooks): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const upstream = new URL(target)
  const sockets = new Set<net.Socket>()
  const server = http.createServer(async (req, res) => {
    const r = { method: req.method ?? '', url: new URL(req.url ?? '/', target), headers: req.headers }
    const answer = await hooks.before?.(r)
    if (answer) {
      req.resume()
      res
        .writeHead(answer.status, { 'content-type': 'application/xml', ...answer.headers, 'content-length': Buffer.byteLength(answer.body) })
        .end(req.method === 'HEAD' ? undefined : answer.body)
      return
    }
    const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers)
      upRes.pipe(res)
      upRes.on('end', () => hooks.after?.(r, upRes.statusCode ?? 0))
    })
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    async stop() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

/**
 * An endpoint whose TCP handshakes never complete: a listener with a full
 * backlog that never accepts, so SYNs are dropped as on a blackholed route.
 * Needs python3 (Bun's listeners always accept).
 */
export async function unreachableEndpoint(): Promise<{ endpoint: string; stop(): void }> {
  const script = 'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(600)'
  const proc = Bun.spawn(['python3', '-c', script], { stdout: 'pipe', stderr: 'inherit' })
  const { value } = await proc.stdout.getReader().read()
  const port = Number(new TextDecoder().decode(value).trim())
  if (!port) throw new Error('python3 did not report a port')
  // Fill the backlog so the next SYN is dropped.
  const fillers: net.Socket[] = []
  for (let i = 0; i < 4; i++) fillers.push(net.connect(port, '127.0.0.1').on('error', () => {}))
  await Bun.sleep(200)
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop() {
      for (const s of fillers) s.destroy()
      proc.kill()
    },
  }
}
