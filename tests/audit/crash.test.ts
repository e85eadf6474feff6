// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Acknowledged means audited, under SIGKILL: a real `stowage serve` process
 * takes concurrent uploads, multipart uploads, share and user creations and
 * S3-proxy writes, is killed with SIGKILL in the middle of them, restarts on
 * the same database, and every mutation a client got a success answer for
 * has its audit event. Repeated, because one lucky kill proves little.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test'
import { signRequest } from '../../src/s3/sign.ts'
import { s3Env, useTestBucket } from '../helpers/s3.ts'
import { serverProcess, type ServerProcess, type Session } from '../helpers/server-process.ts'

setDefaultTimeout(300_000)

const ROUNDS = 3
/** The load runs at least this long, and until this many mutations were acknowledged, before the kill. */
const LOAD_MS = 2000
const MIN_ACKED = 150

type Acked = { requestId: string; action: string }

const { bucket: proxyBucket } = useTestBucket('crash')
let srv: ServerProcess
let cred: { access_key: string; secret_key: string }

beforeAll(async () => {
  srv = await serverProcess({ rgw: s3Env() })
  await srv.start()
  const admin = await srv.signIn()
  expect((await srv.call(admin, 'POST', '/api/backends/local/buckets', { json: { name: 'crash' } })).status).toBe(201)
  expect(
    (await srv.call(admin, 'POST', '/api/backends/local/buckets/crash/object?key=shared.txt', { body: 'shared', headers: { 'content-type': 'text/plain' } }))
      .status,
  ).toBe(201)
  const minted = await srv.call(admin, 'POST', '/api/admin/s3-credentials', { json: { backend_id: 'rgw', buckets: [proxyBucket] } })
  expect(minted.status).toBe(201)
  cred = (await minted.json()) as typeof cred
})
afterAll(() => srv.dispose())

/** Runs `op` until `stop` fires; keeps the request ids of the answers that said success. */
async function worker(stop: AbortSignal, acked: Acked[], op: (n: number) => Promise<Acked | undefined>): Promise<void> {
  for (let n = 0; !stop.aborted; n++) {
    // A request cut off by the kill was never acknowledged.
    const done = await op(n).catch(() => undefined)
    if (done) acked.push(done)
  }
}

function dashboardOps(s: Session, round: number, w: number) {
  const id = (kind: string, n: number): string => `r${round}-${kind}-${w}-${n}`
  const ok = async (res: Promise<Response>, requestId: string, action: string, status: number): Promise<Acked | undefined> => {
    const r = await res
    await r.arrayBuffer()
    return r.status === status ? { requestId, action } : undefined
  }
  return {
    upload: (n: number) =>
      ok(
        srv.call(s, 'POST', `/api/backends/local/buckets/crash/object?key=${id('up', n)}`, {
          body: `bytes ${n}`,
          headers: { 'content-type': 'text/plain', 'x-request-id': id('up', n) },
        }),
        id('up', n),
        'object.upload',
        201,
      ),
    share: (n: number) =>
      ok(
        srv.call(s, 'POST', '/api/shares', { json: { backend_id: 'local', bucket: 'crash', key: 'shared.txt' }, headers: { 'x-request-id': id('sh', n) } }),
        id('sh', n),
        'share.create',
        201,
      ),
    user: (n: number) =>
      ok(
        srv.call(s, 'POST', '/api/admin/users', {
          json: { username: id('u', n).replaceAll('-', '_'), password: 'a long enough password', role: 'user' },
          headers: { 'x-request-id': id('us', n) },
        }),
        id('us', n),
        'user.create',
        201,
      ),
    multipart: async (n: number): Promise<Acked | undefined> => {
      const key = id('mp', n)
      const base = `/api/backends/local/buckets/crash/multipart`
      const created = await srv.call(s, 'POST', `${base}?key=${key}`, { json: {}, headers: { 'x-request-id': `${key}-create` } })
      if (created.status !== 201) return undefined
      const { upload_id } = (await created.json()) as { upload_id: string }
      const q = `key=${key}&upload_id=${encodeURIComponent(upload_id)}`
      const part = await srv.call(s, 'PUT', `${base}/parts/1?${q}`, { body: 'part one', headers: { 'content-length': '8' } })
      if (part.status !== 200) return undefined
      const { etag } = (await part.json()) as { etag: string }
      return ok(
        srv.call(s, 'POST', `${base}/complete?${q}`, { json: { parts: [{ PartNumber: 1, ETag: etag }] }, headers: { 'x-request-id': `${key}-complete` } }),
        `${key}-complete`,
        'multipart.complete',
        200,
      )
    },
  }
}

async function proxyPut(round: number, w: number, n: number): Promise<Acked | undefined> {
  const url = new URL(`${srv.proxyUrl}/${proxyBucket}/r${round}-${w}-${n}`)
  const body = new TextEncoder().encode(`proxy ${n}`)
  const headers = new Headers({ 'content-length': String(body.length) })
  signRequest({
    method: 'PUT',
    url: { host: url.host, pathname: url.pathname, search: '' },
    headers,
    payloadHash: 'UNSIGNED-PAYLOAD',
    accessKeyId: cred.access_key,
    secretKey: cred.secret_key,
    region: 'us-east-1',
  })
  const r = await fetch(url, { method: 'PUT', headers, body })
  await r.arrayBuffer()
  const requestId = r.headers.get('x-amz-request-id')
  return r.status === 200 && requestId ? { requestId, action: 's3.proxy.putobject' } : undefined
}

async function auditedRequestIds(s: Session): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>()
  for (let offset = 0; ; offset += 1000) {
    const res = await srv.call(s, 'GET', `/api/admin/audit?limit=1000&offset=${offset}`)
    expect(res.status).toBe(200)
    const { events } = (await res.json()) as { events: Array<{ request_id?: string; action: string }> }
    for (const e of events) if (e.request_id) out.set(e.request_id, [...(out.get(e.request_id) ?? []), e.action])
    if (events.length < 1000) return out
  }
}

test(`SIGKILL under concurrent load, ${ROUNDS} times: every acknowledged mutation has its audit event`, async () => {
  const missing: Acked[] = []
  const kinds = new Set<string>()
  for (let round = 1; round <= ROUNDS; round++) {
    if (round > 1) await srv.start()
    const s = await srv.signIn()
    const acked: Acked[] = []
    const stop = new AbortController()
    const workers: Array<Promise<void>> = []
    for (let w = 0; w < 4; w++) {
      const ops = dashboardOps(s, round, w)
      workers.push(worker(stop.signal, acked, ops.upload), worker(stop.signal, acked, ops.share), worker(stop.signal, acked, ops.multipart))
      workers.push(worker(stop.signal, acked, (n) => proxyPut(round, w, n)))
    }
    // argon2 (64 MiB, on the same pool as file I/O) makes user creation heavy: one at a time, with pauses.
    const users = dashboardOps(s, round, 0).user
    workers.push(worker(stop.signal, acked, async (n) => (await Bun.sleep(100), users(n))))
    // A machine shared with other work may be slow: the kill waits for enough answers, not a fixed time.
    const started = Date.now()
    while (Date.now() - started < LOAD_MS || (acked.length < MIN_ACKED && Date.now() - started < 60_000)) await Bun.sleep(50)
    await srv.kill('SIGKILL')
    stop.abort()
    await Promise.all(workers)

    await srv.start()
    const audited = await auditedRequestIds(await srv.signIn())
    for (const a of acked) if (!audited.get(a.requestId)?.includes(a.action)) missing.push(a)
    for (const a of acked) kinds.add(a.action)
    expect(acked.length).toBeGreaterThanOrEqual(MIN_ACKED)
    await srv.kill('SIGKILL')
  }
  // The load really was mixed: every kind of mutation was acknowledged.
  expect([...kinds].sort()).toEqual(['multipart.complete', 'object.upload', 's3.proxy.putobject', 'share.create', 'user.create'])
  expect(missing).toEqual([])
})
