// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What the proxy records: every write, error and denial in the audit log
 * with the credential and its owner; successful reads only as sampled;
 * Prometheus metrics with bounded labels (no keys, buckets or paths); and one
 * JSON access-log line per request, never with a secret.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { captureLogger, until, type Captured } from '../http/support.ts'
import { proxyEnv, type Cred, type ProxyEnv } from './fixture.ts'

type Row = {
  action: string
  status: string
  user_id: string | null
  backend_id: string | null
  bucket: string | null
  object_key: string | null
  request_id: string | null
  ip: string | null
  detail: Record<string, unknown>
}

async function rows(p: ProxyEnv, prefix = 's3.proxy.'): Promise<Row[]> {
  await p.t.s.audit.flush()
  return (
    (await p.t.s.db.all(
      'SELECT action, status, user_id, backend_id, bucket, object_key, request_id, ip, detail FROM audit_events WHERE action LIKE ? ORDER BY id',
      [`${prefix}%`],
    )) as Array<Row & { detail: string }>
  ).map((r) => ({
    ...r,
    detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : {},
  }))
}

describe('audit and metrics (read sampling 0)', () => {
  let p: ProxyEnv
  let bucket: string
  let foreign: string
  let cred: Cred
  beforeAll(async () => {
    p = await proxyEnv()
    bucket = await p.bucket('audit')
    foreign = await p.bucket('audit-foreign')
    cred = await p.mint({ buckets: [bucket] }, p.user)
  })
  afterAll(() => p.close())

  test('a write is audited with the owner, the access key, bucket and key', async () => {
    const c = p.sdk(cred)
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'audited.txt', Body: 'x' }))
    await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'audited.txt' }))
    const all = await rows(p)
    const put = all.find((r) => r.action === 's3.proxy.putobject')!
    expect(put).toMatchObject({ status: 'ok', user_id: p.user.userId, backend_id: 'rgw', bucket, object_key: 'audited.txt', ip: '127.0.0.1' })
    expect(put.detail).toMatchObject({ auth_mode: 'signed', access_key: cred.access_key, status: 200, result: 'ok' })
    expect(put.request_id).toMatch(/^[A-Za-z0-9_-]{12}$/)
    // Successful reads are sampled at 0 here.
    expect(all.some((r) => r.action === 's3.proxy.getobject')).toBe(false)
  })

  test('denials and errors are always audited', async () => {
    await p.signed(cred, 'GET', `/${foreign}/x`)
    await p.signed(cred, 'GET', `/${bucket}/missing`)
    await p.signed({ access_key: cred.access_key, secret_key: 'wrong'.repeat(8) }, 'GET', `/${bucket}/x`)
    await p.signed({ access_key: 'STWNOBODYNOBODYNOBOD', secret_key: 'x' }, 'GET', `/${bucket}/x`)
    const all = await rows(p)
    const scope = all.find((r) => r.bucket === foreign)!
    expect(scope).toMatchObject({ action: 's3.proxy.getobject', status: 'denied', user_id: p.user.userId })
    expect(scope.detail).toMatchObject({ result: 'scope-violation', status: 403, access_key: cred.access_key })
    const missing = all.find((r) => r.object_key === 'missing')!
    expect(missing).toMatchObject({ status: 'denied' })
    expect(missing.detail).toMatchObject({ status: 404, result: 'upstream-refused' })
    const badSig = all.find((r) => r.detail.result === 'auth-bad-sig')!
    expect(badSig).toMatchObject({ status: 'denied', user_id: p.user.userId })
    expect(badSig.detail.access_key).toBe(cred.access_key)
    const unknown = all.find((r) => r.detail.result === 'auth-unknown-akid')!
    expect(unknown.user_id).toBeNull()
    expect(unknown.detail.claimed_access_key).toBe('STWNOBODYNOBODYNOBOD')
  })

  test('metrics count requests by operation, status and auth mode, with bounded labels only', async () => {
    const text = await (await p.t.call('GET', '/metrics')).text()
    expect(text).toMatch(/stowage_s3_requests_total\{operation="PutObject",status="200",auth_mode="signed"\} [1-9]/)
    expect(text).toMatch(/stowage_s3_requests_total\{operation="GetObject",status="403",auth_mode="signed"\} [1-9]/)
    expect(text).toMatch(/stowage_s3_auth_failures_total\{reason="bad-sig"\} [1-9]/)
    expect(text).toMatch(/stowage_s3_auth_failures_total\{reason="unknown-akid"\} [1-9]/)
    expect(text).toMatch(/stowage_s3_denials_total\{reason="scope-violation"\} [1-9]/)
    expect(text).toMatch(/stowage_s3_upstream_duration_seconds_count\{operation="PutObject"\} [1-9]/)
    expect(text).toMatch(/stowage_s3_bytes_in_total\{operation="PutObject"\} [1-9]/)
    expect(text).toMatch(/stowage_s3_bytes_out_total\{operation="GetObject"\} [1-9]/)
    expect(text).toMatch(/stowage_s3_inflight_requests 0/)
    expect(text).toMatch(/stowage_s3_credentials 1/)
    for (const leak of [cred.access_key, bucket, 'audited.txt', 'STWNOBODY']) expect(text).not.toContain(leak)
  })
})

describe('read sampling 1', () => {
  let p: ProxyEnv
  beforeAll(async () => {
    p = await proxyEnv({ app: { audit: { sampling: { proxy_success_read_rate: 1 } } } })
  })
  afterAll(() => p.close())

  test('every successful read is audited', async () => {
    const bucket = await p.bucket('sampled')
    const cred = await p.mint({ buckets: [bucket] })
    expect((await p.signed(cred, 'GET', `/${bucket}?list-type=2`)).status).toBe(200)
    expect((await p.signed(cred, 'GET', '/')).status).toBe(200)
    // A read's row is written after its answer (only writes wait for theirs), so it may land a moment later.
    let actions: string[] = []
    for (const deadline = Date.now() + 2000; Date.now() < deadline && actions.length < 2; await Bun.sleep(20)) actions = (await rows(p)).map((r) => r.action)
    expect(actions).toContain('s3.proxy.listobjectsv2')
    expect(actions).toContain('s3.proxy.listbuckets')
  })
})

describe('access log', () => {
  let p: ProxyEnv
  let log: Captured
  let bucket: string
  let cred: Cred
  beforeAll(async () => {
    log = captureLogger()
    p = await proxyEnv({ logger: log.logger })
    bucket = await p.bucket('logged')
    cred = await p.mint({ buckets: [bucket] })
  })
  afterAll(() => p.close())

  const lineFor = async (requestId: string): Promise<Record<string, unknown>> => {
    await until(() => log.entries().some((e) => e.msg === 'request' && e.request_id === requestId))
    const lines = log.entries().filter((e) => e.msg === 'request' && e.request_id === requestId)
    expect(lines).toHaveLength(1)
    return lines[0]!
  }

  test('one JSON line per request: method, S3 operation, status, bytes, duration, access key id', async () => {
    const put = await p.signed(cred, 'PUT', `/${bucket}/logged.txt`, { body: 'twelve bytes' })
    expect(put.status).toBe(200)
    expect(await lineFor(put.headers.get('x-amz-request-id')!)).toMatchObject({
      level: 'info',
      listener: 's3-proxy',
      method: 'PUT',
      operation: 'PutObject',
      status: 200,
      bytes_in: 12,
      bytes_out: 0,
      access_key: cred.access_key,
      auth_mode: 'signed',
      ip: '127.0.0.1',
    })
    const get = await p.signed(cred, 'GET', `/${bucket}/logged.txt`)
    expect(await get.text()).toBe('twelve bytes')
    const line = await lineFor(get.headers.get('x-amz-request-id')!)
    expect(line).toMatchObject({ method: 'GET', operation: 'GetObject', status: 200, bytes_out: 12, access_key: cred.access_key })
    expect(typeof line.duration_ms).toBe('number')
  })

  test('refusals are logged too, with the key (or the one claimed) and never a secret or signature', async () => {
    const wrong = { access_key: cred.access_key, secret_key: 'wrong-secret-wrong-secret-wrong-secret!!' }
    const bad = await p.signed(wrong, 'GET', `/${bucket}/logged.txt`)
    expect(bad.status).toBe(403)
    expect(await lineFor(bad.headers.get('x-amz-request-id')!)).toMatchObject({
      status: 403,
      operation: 'unknown',
      access_key: cred.access_key,
      result: 'auth-bad-sig',
    })
    const unknown = await p.signed({ access_key: 'STWNOBODYNOBODYNOBOD', secret_key: wrong.secret_key }, 'GET', `/${bucket}/logged.txt`)
    expect(await lineFor(unknown.headers.get('x-amz-request-id')!)).toMatchObject({
      status: 403,
      claimed_access_key: 'STWNOBODYNOBODYNOBOD',
      result: 'auth-unknown-akid',
    })
    const anon = await fetch(`${p.endpoint}/${bucket}/logged.txt`)
    expect(await lineFor(anon.headers.get('x-amz-request-id')!)).toMatchObject({ status: 403, method: 'GET' })
    const all = log.lines.join('\n')
    for (const secret of [cred.secret_key, wrong.secret_key, 'Signature=', 'AWS4-HMAC-SHA256']) expect([secret, all.includes(secret)]).toEqual([secret, false])
  })
})
