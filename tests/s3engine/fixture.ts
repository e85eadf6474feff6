// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The S3 engine over the real fs driver in a temp directory, driven by calls
 * built the way the pipeline builds them: the raw request target through
 * `parseInbound`, the operation from `classify`, lower-case headers holding
 * byte strings, and the body whole or as a stream. What the engine answers
 * (or throws) is read back as status, headers and bytes.
 */
import { afterEach } from 'bun:test'
import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Backend } from '../../src/backends/backend.ts'
import { createFsBackend } from '../../src/backends/fs/driver.ts'
import { children, parseXml, textOf, type XmlElement } from '../../src/s3/xml.ts'
import type { ResolvedCredential } from '../../src/credentials/service.ts'
import { createS3Engine } from '../../src/s3engine/engine.ts'
import type { CallBody, S3Call, S3Path, S3Reply } from '../../src/s3proxy/call.ts'
import { classify } from '../../src/s3proxy/classify.ts'
import { S3Error } from '../../src/s3proxy/errors.ts'
import { parseInbound } from '../../src/s3proxy/request.ts'
import { parseCopySource } from '../../src/s3proxy/scope.ts'

const cleanups: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const fn of cleanups.splice(0)) await fn()
})

export const MiB = 1024 * 1024

export type Answer = { status: number; headers: Record<string, string>; bytes: Uint8Array; text: string; xml(): XmlElement; code?: string }

export type Request = {
  headers?: Record<string, string>
  body?: string | Uint8Array
  /** Send the body as a stream (as the pipeline does above 1 MiB) instead of whole. */
  stream?: boolean
  /** Anonymous: no credential on the call. */
  anonymous?: boolean
}

export type EngineFixture = {
  root: string
  backend: Backend
  engine: S3Path
  /** Builds the call for `METHOD /target` and serves it; an S3Error becomes its status and code. */
  send(method: string, target: string, req?: Request): Promise<Answer>
}

export function credential(buckets: string[]): ResolvedCredential {
  const scopes = new Map(buckets.map((b) => [b, 'read-write' as const]))
  return {
    accessKey: 'STWTESTKEY0000000000',
    secret: 's',
    backendId: 'local',
    scopes,
    prefixes: [],
    buckets: buckets.map((bucket) => ({ bucket, access: 'read-write' as const })),
    userId: 'u1',
    createdAt: 0,
    readOnly: false,
  }
}

function bodyOf(req: Request): CallBody {
  if (req.body === undefined) return { kind: 'empty' }
  const bytes = typeof req.body === 'string' ? new TextEncoder().encode(req.body) : req.body
  if (!req.stream) return { kind: 'whole', bytes }
  let sent = 0
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (sent >= bytes.byteLength) return c.close()
        const n = Math.min(256 * 1024, bytes.byteLength - sent)
        c.enqueue(bytes.subarray(sent, sent + n))
        sent += n
      },
    },
    { highWaterMark: 0 },
  )
  return { kind: 'stream', length: bytes.byteLength, stream, decoded: false }
}

export async function replyOf(reply: S3Reply): Promise<Answer> {
  let bytes: Uint8Array
  if (reply.body.kind === 'empty') bytes = new Uint8Array(0)
  else if (reply.body.kind === 'bytes') bytes = reply.body.bytes
  else {
    bytes = new Uint8Array(await new Response(reply.body.stream).arrayBuffer())
    if (bytes.byteLength !== reply.body.length) throw new Error(`stream of ${bytes.byteLength} bytes announced as ${reply.body.length}`)
  }
  const text = new TextDecoder().decode(bytes)
  return { status: reply.status, headers: reply.headers, bytes, text, xml: () => parseXml(text) }
}

/** Serves `call` and reads the answer; a thrown S3Error is what the pipeline would render. */
export async function serve(engine: S3Path, call: S3Call): Promise<Answer> {
  try {
    return await replyOf(await engine.serve(call))
  } catch (err) {
    if (!(err instanceof S3Error)) throw err
    return { status: err.status, headers: err.headers ?? {}, bytes: new Uint8Array(0), text: err.message, xml: () => parseXml('<Error/>'), code: err.code }
  }
}

export function buildCall(method: string, target: string, req: Request, cred: ResolvedCredential | undefined): S3Call {
  const inbound = parseInbound(method, target, 'localhost:8090', [])
  const headers = new Headers()
  for (const [k, v] of Object.entries(req.headers ?? {})) headers.set(k.toLowerCase(), v)
  const { op, access } = classify(inbound, headers)
  const copySource = op === 'CopyObject' || op === 'UploadPartCopy' ? parseCopySource(headers.get('x-amz-copy-source')!) : undefined
  return {
    requestId: 'test',
    op,
    access,
    inbound,
    bucket: inbound.bucket!,
    ...(inbound.key !== undefined ? { key: inbound.key } : {}),
    headers,
    body: bodyOf(req),
    ...(copySource ? { copySource } : {}),
    cred: req.anonymous ? undefined : cred,
    backendId: 'local',
    signal: new AbortController().signal,
    now: Date.now(),
  }
}

/** A root with bucket `bkt` (and `other`), an fs backend on it, and the engine. */
export async function engineFixture(): Promise<EngineFixture> {
  const base = await realpath(await mkdtemp(join(tmpdir(), 'stowage-engine-')))
  const root = join(base, 'root')
  await mkdir(root)
  const backend = createFsBackend({ id: 'local', root })
  await backend.createBucket('bkt')
  await backend.createBucket('other')
  const engine = createS3Engine({ backend: (id) => (id === 'local' ? { backend, region: 'us-east-1' } : undefined) })
  const cred = credential(['bkt', 'other'])
  cleanups.push(async () => {
    await backend.close()
    await rm(base, { recursive: true, force: true })
  })
  return { root, backend, engine, send: (method, target, req = {}) => serve(engine, buildCall(method, target, req, cred)) }
}

/** Percent-encodes a key for a request path, leaving `/` alone. */
export function path(key: string): string {
  return key
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/')
}

export { children, textOf }
