// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every error the proxy sends is a well-formed XML 1.0 document with an S3
 * code: characters XML forbids (a control character in a key or bucket name)
 * never appear in it, and an upstream error without an S3 document (a bare
 * status, an HTML page from a load balancer) gets the standard code for its
 * status instead of an invented one.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { httpGate, s3Env, type GateAnswer, type GateRequest } from '../helpers/s3.ts'
import { proxyEnv, type Cred, type ProxyEnv } from './fixture.ts'
import { s3Error } from './xml.ts'

/** Characters XML 1.0 does not allow in a document, not even as character references. */
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

async function python(script: string, env: Record<string, string>): Promise<string> {
  const proc = Bun.spawn(['/usr/bin/python3', '-c', script], { env: { ...process.env, ...env } as Record<string, string>, stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`python3 exited ${code}: ${err.slice(-2000)}`)
  return out
}

describe('characters XML forbids', () => {
  let p: ProxyEnv
  let bucket: string
  let cred: Cred
  beforeAll(async () => {
    p = await proxyEnv()
    bucket = await p.bucket('xmlerr')
    cred = await p.mint({ buckets: [bucket] })
  })
  afterAll(() => p.close())

  test('a key with U+0001 (missing%01key) comes back in a well-formed document, as NoSuchKey', async () => {
    const res = await p.signed(cred, 'GET', `/${bucket}/missing%01key`)
    expect(res.status).toBe(404)
    const text = await res.clone().text()
    expect(text).not.toMatch(XML_FORBIDDEN)
    const e = await s3Error(res)
    expect(e.code).toBe('NoSuchKey')
    expect(e.resource).toStartWith(`/${bucket}/missing`)
  })

  test("the proxy's own refusal naming a bucket with a control character is well-formed too", async () => {
    const res = await p.signed(cred, 'GET', `/bad%01bucket%1F/key%08`)
    expect(res.status).toBe(403)
    const text = await res.clone().text()
    expect(text).not.toMatch(XML_FORBIDDEN)
    expect((await s3Error(res)).code).toBe('AccessDenied')
  })

  test('boto3 (expat, a strict parser) and the AWS SDK read the error code', async () => {
    const out = await python(
      `
import boto3, os, botocore
c = boto3.client('s3', endpoint_url=os.environ['PROXY'], aws_access_key_id=os.environ['AK'], aws_secret_access_key=os.environ['SK'], region_name='us-east-1', config=botocore.config.Config(retries={'max_attempts': 1}))
try:
    c.get_object(Bucket=os.environ['BUCKET'], Key='missing\\x01key')
except botocore.exceptions.ClientError as e:
    print(e.response['Error']['Code'])
`,
      { PROXY: p.endpoint, AK: cred.access_key, SK: cred.secret_key, BUCKET: bucket },
    )
    expect(out.trim()).toBe('NoSuchKey')
    const err = await p
      .sdk(cred)
      .send(new GetObjectCommand({ Bucket: bucket, Key: 'missing\u0001key' }))
      .then(
        () => undefined,
        (e: Error) => e,
      )
    expect(err?.name).toBe('NoSuchKey')
  }, 30_000)
})

describe('upstream errors without an S3 error document', () => {
  let p: ProxyEnv
  let gate: Awaited<ReturnType<typeof httpGate>>
  let bucket: string
  let cred: Cred
  const answers = new Map<string, GateAnswer>()

  beforeAll(async () => {
    const s3 = s3Env()
    gate = await httpGate(s3.endpoint, { before: async (r: GateRequest) => answers.get(r.url.pathname.split('/').pop() ?? '') })
    p = await proxyEnv({
      app: {
        backends: [
          { id: 'rgw', type: 's3', endpoint: s3.endpoint, region: s3.region, access_key_env: 'RGW_AK', secret_key_env: 'RGW_SK', path_style: true },
          { id: 'gated', type: 's3', endpoint: gate.endpoint, region: s3.region, access_key_env: 'RGW_AK', secret_key_env: 'RGW_SK', path_style: true },
        ],
      },
    })
    bucket = await p.bucket('bare')
    cred = await p.mint({ backend_id: 'gated', buckets: [bucket] })
  })
  afterAll(async () => {
    await p.close()
    await gate.stop()
  })

  const cases: Array<[number, string]> = [
    [400, 'BadRequest'],
    [403, 'AccessDenied'],
    [404, 'NotFound'],
    [405, 'MethodNotAllowed'],
    [412, 'PreconditionFailed'],
    [416, 'InvalidRange'],
    [500, 'InternalError'],
    [503, 'ServiceUnavailable'],
  ]
  for (const [status, code] of cases) {
    test(`a bare ${status} becomes ${code}`, async () => {
      answers.set(`bare-${status}`, { status, body: '' })
      const res = await p.signed(cred, 'GET', `/${bucket}/bare-${status}`)
      expect(res.status).toBe(status)
      const e = await s3Error(res)
      expect(e.code).toBe(code)
      expect(e.message).not.toBe('')
    })
  }

  test('an HTML page from something in front of the backend is not an S3 document either', async () => {
    answers.set('html', {
      status: 503,
      body: '<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>',
      headers: { 'content-type': 'text/html' },
    })
    const res = await p.signed(cred, 'GET', `/${bucket}/html`)
    expect(res.status).toBe(503)
    expect(res.headers.get('content-type')).toBe('application/xml')
    expect((await s3Error(res)).code).toBe('ServiceUnavailable')
  })
})
