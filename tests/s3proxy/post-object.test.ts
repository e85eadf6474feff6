// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Browser POST Object through the proxy into real RGW: a signed policy with
 * its conditions, the three success answers, and every refusal (bad
 * signature, expired policy, failed condition, size range, bucket outside
 * the scope or read-only) leaving nothing behind.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { deriveSigningKey, formatAmzDate } from '../../src/s3/canonical.ts'
import { proxyEnv, type Cred, type ProxyEnv } from './fixture.ts'
import { s3Error, xml, textOf } from './xml.ts'

let p: ProxyEnv
let bucket: string
let foreign: string
let cred: Cred

beforeAll(async () => {
  p = await proxyEnv()
  bucket = await p.bucket('post')
  foreign = await p.bucket('post-foreign')
  cred = await p.mint({ buckets: [bucket] })
})
afterAll(() => p.close())

type Form = { fields: Record<string, string>; file: Blob; fileName?: string }

function signedForm(
  c: { access_key: string; secret_key: string },
  conditions: unknown[],
  o: { expiresInMs?: number; fields?: Record<string, string>; file?: Blob; tamper?: boolean } = {},
): Form {
  const now = new Date()
  const amzDate = formatAmzDate(now)
  const scope = { date: amzDate.slice(0, 8), region: 'us-east-1', service: 's3' }
  const credential = `${c.access_key}/${scope.date}/us-east-1/s3/aws4_request`
  const doc = {
    expiration: new Date(now.getTime() + (o.expiresInMs ?? 600_000)).toISOString(),
    conditions: [...conditions, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': amzDate }],
  }
  const policy = Buffer.from(JSON.stringify(doc)).toString('base64')
  const signature = createHmac('sha256', deriveSigningKey(c.secret_key, scope))
    .update(o.tamper ? policy + 'x' : policy)
    .digest('hex')
  return {
    fields: { ...o.fields, policy, 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': amzDate, 'x-amz-signature': signature },
    file: o.file ?? new Blob(['hello from a form'], { type: 'text/plain' }),
  }
}

function post(form: Form, to = bucket): Promise<Response> {
  const fd = new FormData()
  for (const [k, v] of Object.entries(form.fields)) fd.append(k, v)
  fd.append('file', form.file, form.fileName ?? 'upload.txt')
  return fetch(`${p.endpoint}/${to}`, { method: 'POST', body: fd, redirect: 'manual' })
}

async function exists(key: string, b = bucket): Promise<boolean> {
  return p.rgw.headObject(b, key).then(
    () => true,
    () => false,
  )
}

describe('POST Object', () => {
  test('a valid form stores the file: 204 by default, with the ETag', async () => {
    const res = await post(signedForm(cred, [{ bucket }, ['starts-with', '$key', 'uploads/']], { fields: { key: 'uploads/plain.txt' } }))
    expect(res.status).toBe(204)
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/)
    const got = await p.rgw.getObject(bucket, 'uploads/plain.txt')
    expect(await new Response((got as { body: ReadableStream }).body).text()).toBe('hello from a form')
    expect(got.info.contentType).toBe('text/plain')
  })

  test('a stored file is audited as a write', async () => {
    const res = await post(signedForm(cred, [{ bucket }, ['starts-with', '$key', '']], { fields: { key: 'audited-form.txt' } }))
    expect(res.status).toBe(204)
    const rows = await p.t.s.db.all('SELECT action, status, object_key FROM audit_events WHERE request_id = ?', [res.headers.get('x-amz-request-id')!])
    expect(rows).toEqual([{ action: 's3.proxy.postobject', status: 'ok', object_key: 'audited-form.txt' }])
  })

  test('success_action_status 201 answers a PostResponse; ${filename} is substituted', async () => {
    const form = signedForm(cred, [{ bucket }, ['starts-with', '$key', 'files/'], { success_action_status: '201' }], {
      fields: { key: 'files/${filename}', success_action_status: '201' },
    })
    form.fileName = 'report.csv'
    const res = await post(form)
    expect(res.status).toBe(201)
    const doc = await xml(res)
    expect(doc.name).toBe('PostResponse')
    expect(textOf(doc, 'Bucket')).toBe(bucket)
    expect(textOf(doc, 'Key')).toBe('files/report.csv')
    expect(textOf(doc, 'Location')).toBe(`http://127.0.0.1:${p.running.proxy!.port}/${bucket}/files/report.csv`)
    expect(await exists('files/report.csv')).toBe(true)
  })

  test('success_action_redirect answers 303 with bucket, key and etag', async () => {
    const res = await post(
      signedForm(cred, [{ bucket }, ['starts-with', '$key', ''], ['starts-with', '$success_action_redirect', 'https://app.example/']], {
        fields: { key: 'redirected.txt', success_action_redirect: 'https://app.example/done' },
      }),
    )
    expect(res.status).toBe(303)
    const loc = new URL(res.headers.get('location')!)
    expect(loc.origin + loc.pathname).toBe('https://app.example/done')
    expect(loc.searchParams.get('bucket')).toBe(bucket)
    expect(loc.searchParams.get('key')).toBe('redirected.txt')
    expect(loc.searchParams.get('etag')).toMatch(/^"[0-9a-f]{32}"$/)
  })

  test('a file over 1 MiB is spooled and stored whole', async () => {
    const data = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => i % 253)
    const res = await post(
      signedForm(cred, [{ bucket }, ['starts-with', '$key', ''], ['content-length-range', 1, 8 * 1024 * 1024]], {
        fields: { key: 'big.bin' },
        file: new Blob([data]),
      }),
    )
    expect(res.status).toBe(204)
    expect((await p.rgw.headObject(bucket, 'big.bin')).size).toBe(data.length)
  })

  test('a tampered policy signature → 403 SignatureDoesNotMatch', async () => {
    const res = await post(signedForm(cred, [{ bucket }, ['starts-with', '$key', '']], { fields: { key: 'tampered.txt' }, tamper: true }))
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('SignatureDoesNotMatch')
    expect(await exists('tampered.txt')).toBe(false)
  })

  test('an expired policy → 403 AccessDenied', async () => {
    const res = await post(signedForm(cred, [{ bucket }, ['starts-with', '$key', '']], { fields: { key: 'late.txt' }, expiresInMs: -1000 }))
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('AccessDenied')
    expect(await exists('late.txt')).toBe(false)
  })

  test('a failed condition or an extra field → 403 AccessDenied', async () => {
    const res = await post(signedForm(cred, [{ bucket }, ['starts-with', '$key', 'allowed/']], { fields: { key: 'elsewhere/x.txt' } }))
    expect(res.status).toBe(403)
    expect((await s3Error(res)).message).toContain('Policy Condition failed')
    const extra = await post(signedForm(cred, [{ bucket }, ['starts-with', '$key', '']], { fields: { key: 'extra.txt', 'x-amz-meta-sneaky': 'yes' } }))
    expect(extra.status).toBe(403)
    expect(await exists('elsewhere/x.txt')).toBe(false)
    expect(await exists('extra.txt')).toBe(false)
  })

  test('content-length-range: too large → 400 EntityTooLarge, too small → 400 EntityTooSmall; nothing stored', async () => {
    const big = await post(signedForm(cred, [{ bucket }, ['starts-with', '$key', ''], ['content-length-range', 0, 10]], { fields: { key: 'too-big.txt' } }))
    expect(big.status).toBe(400)
    expect((await s3Error(big)).code).toBe('EntityTooLarge')
    const small = await post(
      signedForm(cred, [{ bucket }, ['starts-with', '$key', ''], ['content-length-range', 1000, 2000]], { fields: { key: 'too-small.txt' } }),
    )
    expect(small.status).toBe(400)
    expect((await s3Error(small)).code).toBe('EntityTooSmall')
    expect(await exists('too-big.txt')).toBe(false)
    expect(await exists('too-small.txt')).toBe(false)
  })

  test('a bucket outside the scope, or a read-only one, → 403', async () => {
    const res = await post(signedForm(cred, [{ bucket: foreign }, ['starts-with', '$key', '']], { fields: { key: 'x.txt' } }), foreign)
    expect(res.status).toBe(403)
    expect((await s3Error(res)).code).toBe('AccessDenied')
    expect(await exists('x.txt', foreign)).toBe(false)
    const ro = await p.mint({ buckets: [{ bucket, access: 'read' }] })
    const r2 = await post(signedForm(ro, [{ bucket }, ['starts-with', '$key', '']], { fields: { key: 'ro.txt' } }))
    expect(r2.status).toBe(403)
    expect(await exists('ro.txt')).toBe(false)
  })

  test('a form field naming another bucket than the URL → 403', async () => {
    const res = await post(
      signedForm(
        cred,
        [
          ['starts-with', '$bucket', ''],
          ['starts-with', '$key', ''],
        ],
        { fields: { key: 'mismatch.txt', bucket: foreign } },
      ),
    )
    expect(res.status).toBe(403)
    expect(await exists('mismatch.txt')).toBe(false)
  })

  test('UTF-8 in header fields (metadata, Content-Disposition) is stored byte for byte', async () => {
    const note = 'naïve ☃'
    const disposition = 'attachment; filename="grüße.txt"'
    const form = signedForm(
      cred,
      [{ bucket }, ['starts-with', '$key', ''], ['starts-with', '$x-amz-meta-note', ''], ['starts-with', '$Content-Disposition', '']],
      {
        fields: { key: 'utf8-fields.txt', 'x-amz-meta-note': note, 'Content-Disposition': disposition },
      },
    )
    expect((await post(form)).status).toBe(204)
    const head = await p.signed(cred, 'HEAD', `/${bucket}/utf8-fields.txt`)
    expect(head.status).toBe(200)
    expect(Buffer.from(head.headers.get('x-amz-meta-note')!, 'latin1').toString('utf8')).toBe(note)
    expect(Buffer.from(head.headers.get('content-disposition')!, 'latin1').toString('utf8')).toBe(disposition)
  })

  test('a form without a file → 400 MalformedPOSTRequest', async () => {
    const form = signedForm(cred, [{ bucket }, ['starts-with', '$key', '']], { fields: { key: 'nofile.txt' } })
    const fd = new FormData()
    for (const [k, v] of Object.entries(form.fields)) fd.append(k, v)
    const res = await fetch(`${p.endpoint}/${bucket}`, { method: 'POST', body: fd })
    expect(res.status).toBe(400)
    expect((await s3Error(res)).code).toBe('MalformedPOSTRequest')
  })
})
