// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Tenant namespaces through the S3 listener, into real RGW and into a local
 * directory (the S3 engine): a credential scoped to a bucket-name prefix
 * with `owner` access creates and deletes buckets inside the prefix and sets
 * their versioning, CORS (through Stowage's own CORS store), lifecycle and
 * tagging — on RGW forwarded, on a directory kept by Stowage (versioning
 * `Enabled` and transitions are 501); nothing outside the prefix is reachable or revealed, whatever
 * the spelling; `read-write` and `read` prefixes reach objects only;
 * policies and ACLs stay refused; a deleted bucket's settings are
 * forgotten; everything is audited.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { emptyAndDelete } from '../helpers/s3.ts'
import { proxyEnv, type Cred, type ProxyEnv } from './fixture.ts'
import { s3Error } from './xml.ts'

let p: ProxyEnv
/** A prefix of this run only (RGW is shared with other test files). */
const run = `n${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`
const prefix = `${run}-a-`
let owner: Cred
let ownerClient: S3Client
const made: string[] = []

function name(tag: string): string {
  const n = `${prefix}${tag}`
  made.push(n)
  return n
}

async function refused(send: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await send
  } catch (err) {
    const e = err as { $metadata?: { httpStatusCode?: number }; Code?: string; name: string }
    return { status: e.$metadata?.httpStatusCode ?? 0, code: e.Code ?? e.name }
  }
  throw new Error('expected a refusal')
}

beforeAll(async () => {
  p = await proxyEnv()
  owner = await p.mint({ buckets: [{ prefix, access: 'owner' }], user_id: p.user.userId })
  ownerClient = p.sdk(owner)
})
afterAll(async () => {
  for (const b of made) if (await p.rgw.bucketExists(b).catch(() => false)) await emptyAndDelete(p.rgw, b)
  await p.close()
})

describe('an owner prefix', () => {
  test('creates a bucket inside it, lists it, writes into it and deletes it', async () => {
    const b = name('one')
    await ownerClient.send(new CreateBucketCommand({ Bucket: b }))
    expect(await p.rgw.bucketExists(b)).toBe(true)
    await ownerClient.send(new HeadBucketCommand({ Bucket: b }))
    await ownerClient.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }))
    expect(await (await ownerClient.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))).Body!.transformToString()).toBe('v')
    const listed = (await ownerClient.send(new ListBucketsCommand({}))).Buckets!.map((x) => x.Name)
    expect(listed).toContain(b)
    expect(await refused(ownerClient.send(new DeleteBucketCommand({ Bucket: b })))).toEqual({ status: 409, code: 'BucketNotEmpty' })
    await p.rgw.deleteObject(b, 'k')
    await ownerClient.send(new DeleteBucketCommand({ Bucket: b }))
    expect(await p.rgw.bucketExists(b)).toBe(false)
  })

  test('ListBuckets shows the buckets the prefix covers, from the backend, and no others', async () => {
    const inside = name('listed')
    await p.rgw.createBucket(inside)
    // Made outside the proxy, by the administrator: the prefix covers it all the same.
    const outside = await p.bucket('outside')
    const out = await ownerClient.send(new ListBucketsCommand({}))
    const names = out.Buckets!.map((x) => x.Name!)
    expect(names).toContain(inside)
    expect(names).not.toContain(outside)
    expect(names.every((n) => n.startsWith(prefix))).toBe(true)
    const rgwDate = (await p.rgw.listBuckets()).find((x) => x.name === inside)!.createdAt
    expect(out.Buckets!.find((x) => x.Name === inside)!.CreationDate?.toISOString()).toBe(rgwDate?.toISOString())
  })

  test('a name outside the prefix is refused before the backend, the same whether it exists or not', async () => {
    const existing = await p.bucket('taken')
    const absent = `${run}-b-never`
    const answers = []
    for (const b of [existing, absent]) {
      const res = await p.signed(owner, 'PUT', `/${b}`)
      const e = await s3Error(res)
      answers.push({ status: res.status, code: e.code, message: e.message, headers: [...res.headers.keys()].filter((h) => h !== 'date').sort() })
    }
    expect({ ...answers[0]!, message: answers[0]!.message.replace(existing, absent) }).toEqual(answers[1]!)
    expect(answers[0]).toMatchObject({ status: 403, code: 'AccessDenied' })
    expect(await p.rgw.bucketExists(absent)).toBe(false)
  })

  test.each([
    ['the prefix without its dash', () => prefix.slice(0, -1)],
    ['a longer word sharing the start', () => `${run}-ab-x`],
    ['another tenant', () => `${run}-b-x`],
    ['the prefix in capitals', () => `${prefix.toUpperCase()}x`],
  ])('%s is outside the namespace', async (_, of) => {
    const b = of()
    const res = await p.signed(owner, 'PUT', `/${b}`)
    expect(res.status === 403 || res.status === 400).toBe(true)
    expect((await s3Error(res)).code).toBe(res.status === 403 ? 'AccessDenied' : 'InvalidBucketName')
    expect(await p.rgw.bucketExists(b.toLowerCase()).catch(() => false)).toBe(false)
    expect((await p.signed(owner, 'GET', `/${b}?list-type=2`)).status).toBe(403)
  })

  test('encoded spellings name the bucket they decode to, never one outside', async () => {
    const b = name('enc')
    await ownerClient.send(new CreateBucketCommand({ Bucket: b }))
    // %2D is "-": the same bucket, inside.
    expect((await p.signed(owner, 'HEAD', `/${b.replace(/-enc$/, '%2Denc')}`)).status).toBe(200)
    // An encoded slash ends the bucket name: the rest is a key inside the bucket, never another bucket.
    const outside = await p.bucket('esc')
    await p.rgw.putObject(outside, 'secret', new Response('s').body!, { size: 1 })
    const escape = await p.signed(owner, 'GET', `/${b}%2F..%2F${outside}/secret`)
    expect(escape.status).toBe(404)
    expect((await s3Error(escape)).code).toBe('NoSuchKey')
    expect((await p.signed(owner, 'GET', `/${encodeURIComponent(outside)}?list-type=2`)).status).toBe(403)
    // Not bucket names, so no prefix covers them.
    for (const odd of [`${prefix}x%00`, `${prefix}X`, `${prefix}x..y`, `${prefix}x_y`, `${prefix}x.-y`, `${prefix}x-.y`]) {
      const res = await p.signed(owner, 'PUT', `/${odd}`)
      expect(res.status).toBe(400)
      expect((await s3Error(res)).code).toBe('InvalidBucketName')
    }
  })

  test('versioning, tagging and lifecycle go to the backend', async () => {
    const b = name('settings')
    await ownerClient.send(new CreateBucketCommand({ Bucket: b }))
    await ownerClient.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }))
    expect((await ownerClient.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe('Enabled')
    expect(await p.rgw.getVersioning(b)).toBe(true)
    await ownerClient.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'team', Value: 'a' }] } }))
    expect((await ownerClient.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet).toEqual([{ Key: 'team', Value: 'a' }])
    await ownerClient.send(new DeleteBucketTaggingCommand({ Bucket: b }))
    expect((await refused(ownerClient.send(new GetBucketTaggingCommand({ Bucket: b })))).code).toBe('NoSuchTagSet')
    await ownerClient.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: b,
        LifecycleConfiguration: { Rules: [{ ID: 'old', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 7 } }] },
      }),
    )
    expect((await ownerClient.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }))).Rules?.[0]).toMatchObject({ ID: 'old', Expiration: { Days: 7 } })
    expect((await p.rgw.getLifecycle(b))[0]).toMatchObject({ id: 'old', expiration_days: 7 })
    await ownerClient.send(new DeleteBucketLifecycleCommand({ Bucket: b }))
    expect(await p.rgw.getLifecycle(b)).toEqual([])
  })

  test('CORS goes to Stowage’s own rules: the dashboard shows them and preflights use them', async () => {
    const b = name('cors')
    await ownerClient.send(new CreateBucketCommand({ Bucket: b }))
    expect((await refused(ownerClient.send(new GetBucketCorsCommand({ Bucket: b })))).code).toBe('NoSuchCORSConfiguration')
    await ownerClient.send(
      new PutBucketCorsCommand({
        Bucket: b,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: ['https://app.example'],
              AllowedMethods: ['GET', 'PUT'],
              AllowedHeaders: ['content-type'],
              ExposeHeaders: ['etag'],
              MaxAgeSeconds: 60,
            },
          ],
        },
      }),
    )
    const dashboard = await p.t.call('GET', `/api/backends/rgw/buckets/${b}/cors`, { as: p.admin })
    expect(await dashboard.json()).toEqual({
      rules: [
        {
          allowed_origins: ['https://app.example'],
          allowed_methods: ['GET', 'PUT'],
          allowed_headers: ['content-type'],
          expose_headers: ['etag'],
          max_age_seconds: 60,
        },
      ],
    })
    const got = await ownerClient.send(new GetBucketCorsCommand({ Bucket: b }))
    expect(got.CORSRules).toEqual([
      { AllowedOrigins: ['https://app.example'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['content-type'], ExposeHeaders: ['etag'], MaxAgeSeconds: 60 },
    ])
    const preflight = await fetch(`${p.endpoint}/${b}/x`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' },
    })
    expect(preflight.status).toBe(200)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example')
    // Rules the admin sets in the dashboard are what GetBucketCors answers.
    await p.t.call('PUT', `/api/backends/rgw/buckets/${b}/cors`, { as: p.admin, json: { rules: [{ allowed_origins: ['*'], allowed_methods: ['GET'] }] } })
    expect((await ownerClient.send(new GetBucketCorsCommand({ Bucket: b }))).CORSRules).toEqual([{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }])
    await ownerClient.send(new DeleteBucketCorsCommand({ Bucket: b }))
    expect(await (await p.t.call('GET', `/api/backends/rgw/buckets/${b}/cors`, { as: p.admin })).json()).toEqual({ rules: [] })
    const bad = await p.signed(owner, 'PUT', `/${b}?cors`, {
      body: '<CORSConfiguration><CORSRule><AllowedOrigin>https://x.example</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>',
    })
    expect(bad.status).toBe(400)
    expect((await s3Error(bad)).code).toBe('InvalidRequest')
    const malformed = await p.signed(owner, 'PUT', `/${b}?cors`, { body: '<CORSConfiguration><CORSRule>' })
    expect((await s3Error(malformed)).code).toBe('MalformedXML')
    const md5 = await p.signed(owner, 'PUT', `/${b}?cors`, {
      body: '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>',
      headers: { 'content-md5': '1B2M2Y8AsgTpgAmY7PhCfg==' },
    })
    expect((await s3Error(md5)).code).toBe('BadDigest')
  })

  test('a deleted bucket’s CORS rules do not come back with a bucket of the same name', async () => {
    const b = name('reborn')
    await ownerClient.send(new CreateBucketCommand({ Bucket: b }))
    await ownerClient.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] } }))
    await ownerClient.send(new DeleteBucketCommand({ Bucket: b }))
    await ownerClient.send(new CreateBucketCommand({ Bucket: b }))
    expect((await refused(ownerClient.send(new GetBucketCorsCommand({ Bucket: b })))).code).toBe('NoSuchCORSConfiguration')
    expect(
      (await fetch(`${p.endpoint}/${b}/x`, { method: 'OPTIONS', headers: { origin: 'https://a.example', 'access-control-request-method': 'GET' } })).status,
    ).toBe(403)
  })

  test('policies, ACLs and object lock stay refused', async () => {
    const b = name('locked')
    await ownerClient.send(new CreateBucketCommand({ Bucket: b }))
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }],
    })
    expect(await refused(ownerClient.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policy })))).toEqual({ status: 403, code: 'AccessDenied' })
    expect(await refused(ownerClient.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' })))).toEqual({ status: 403, code: 'AccessDenied' })
    expect((await p.signed(owner, 'GET', `/${b}?policy`)).status).toBe(403)
    const pub = name('public')
    expect(await refused(ownerClient.send(new CreateBucketCommand({ Bucket: pub, ACL: 'public-read' })))).toEqual({ status: 403, code: 'AccessDenied' })
    expect(await refused(ownerClient.send(new CreateBucketCommand({ Bucket: pub, ObjectLockEnabledForBucket: true })))).toEqual({
      status: 403,
      code: 'AccessDenied',
    })
    expect(await p.rgw.bucketExists(pub)).toBe(false)
  })

  test('bucket administration is audited with the credential', async () => {
    const b = name('audited')
    await ownerClient.send(new CreateBucketCommand({ Bucket: b }))
    await ownerClient.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] } }))
    await ownerClient.send(new DeleteBucketCommand({ Bucket: b }))
    await p.t.s.audit.flush()
    const rows = (await p.t.s.db.all('SELECT action, status, user_id, bucket, detail FROM audit_events WHERE bucket = ? ORDER BY id', [b])) as Array<{
      action: string
      status: string
      user_id: string
      detail: string
    }>
    expect(rows.map((r) => r.action)).toEqual(['s3.proxy.createbucket', 'bucket.cors.set', 's3.proxy.putbucketcors', 's3.proxy.deletebucket'])
    for (const r of rows) expect(r).toMatchObject({ status: 'ok', user_id: p.user.userId })
    expect(JSON.parse(rows[0]!.detail)).toMatchObject({ access_key: owner.access_key, status: 200 })
  })
})

describe('what other access levels may do', () => {
  test('a read-write prefix writes objects in existing buckets but administers none', async () => {
    const b = name('rw')
    await p.rgw.createBucket(b)
    const rw = await p.mint({ buckets: [{ prefix, access: 'read-write' }] })
    const c = p.sdk(rw)
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }))
    for (const send of [
      () => c.send(new CreateBucketCommand({ Bucket: name('rw-new') })),
      () => c.send(new DeleteBucketCommand({ Bucket: b })),
      () => c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } })),
      () => c.send(new GetBucketCorsCommand({ Bucket: b })),
      () => c.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [] } })),
    ]) {
      expect(await refused(send())).toEqual({ status: 403, code: 'AccessDenied' })
    }
    expect(await p.rgw.bucketExists(b)).toBe(true)
  })

  test('a read prefix reads and writes nothing', async () => {
    const b = name('ro')
    await p.rgw.createBucket(b)
    await p.rgw.putObject(b, 'k', new Response('v').body!, { size: 1 })
    const ro = await p.mint({ buckets: [{ prefix, access: 'read' }] })
    const c = p.sdk(ro)
    expect(await (await c.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))).Body!.transformToString()).toBe('v')
    expect(await refused(c.send(new PutObjectCommand({ Bucket: b, Key: 'k2', Body: 'v' })))).toEqual({ status: 403, code: 'AccessDenied' })
  })

  test('entries add up: an exact read entry inside an owner prefix keeps the owner’s rights', async () => {
    const b = name('mixed')
    await p.rgw.createBucket(b)
    const mixed = await p.mint({
      buckets: [
        { bucket: b, access: 'read' },
        { prefix, access: 'owner' },
      ],
    })
    await p.sdk(mixed).send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }))
  })

  test('an owner demoted to readonly keeps reads and loses bucket administration', async () => {
    const demoted = await p.t.user('user')
    const cred = await p.mint({ buckets: [{ prefix, access: 'owner' }], user_id: demoted.userId })
    await p.t.s.users.update(demoted.userId, { role: 'readonly' })
    const c = p.sdk(cred)
    const b = name('demoted')
    expect(await refused(c.send(new CreateBucketCommand({ Bucket: b })))).toEqual({ status: 403, code: 'AccessDenied' })
    expect(await p.rgw.bucketExists(b)).toBe(false)
    expect((await c.send(new ListBucketsCommand({}))).Buckets).toBeDefined()
  })

  test('an exact owner entry administers that one bucket', async () => {
    const b = await p.bucket('exact-owner')
    const cred = await p.mint({ buckets: [{ bucket: b, access: 'owner' }] })
    const c = p.sdk(cred)
    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }))
    expect((await c.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe('Suspended')
    expect(await refused(c.send(new CreateBucketCommand({ Bucket: `${b}x` })))).toEqual({ status: 403, code: 'AccessDenied' })
    // Exact entries only: ListBuckets is the scope, no backend listing needed.
    expect((await c.send(new ListBucketsCommand({}))).Buckets!.map((x) => x.Name)).toEqual([b])
  })
})

describe('an owner prefix on a local directory (the S3 engine)', () => {
  let fsOwner: Cred
  let c: S3Client
  const local = (): ReturnType<ProxyEnv['t']['s']['registry']['get']> => p.t.s.registry.get('local')
  beforeAll(async () => {
    fsOwner = await p.mint({ backend_id: 'local', buckets: [{ prefix, access: 'owner' }] })
    c = p.sdk(fsOwner)
  })

  test('creates, lists, fills and deletes buckets inside the prefix; nothing outside', async () => {
    const b = `${prefix}disk`
    await c.send(new CreateBucketCommand({ Bucket: b }))
    expect(await local().bucketExists(b)).toBe(true)
    // us-east-1, as AWS and RGW answer there: the bucket is the namespace owner's already.
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'kept', Body: 'kept' }))
    expect((await c.send(new CreateBucketCommand({ Bucket: b }))).$metadata.httpStatusCode).toBe(200)
    expect(await (await c.send(new GetObjectCommand({ Bucket: b, Key: 'kept' }))).Body!.transformToString()).toBe('kept')
    await local().deleteObject(b, 'kept')
    expect((await c.send(new ListBucketsCommand({}))).Buckets!.map((x) => x.Name)).toEqual([b])
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }))
    expect(await refused(c.send(new DeleteBucketCommand({ Bucket: b })))).toEqual({ status: 409, code: 'BucketNotEmpty' })
    await local().deleteObject(b, 'k')
    await c.send(new DeleteBucketCommand({ Bucket: b }))
    expect(await local().bucketExists(b)).toBe(false)
    expect(await refused(c.send(new CreateBucketCommand({ Bucket: `${run}-b-disk` })))).toEqual({ status: 403, code: 'AccessDenied' })
    expect(await local().bucketExists(`${run}-b-disk`)).toBe(false)
    expect(await refused(c.send(new CreateBucketCommand({ Bucket: `${prefix}far`, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })))).toEqual({
      status: 400,
      code: 'InvalidLocationConstraint',
    })
  })

  test('versioning, lifecycle rules and bucket tags are kept and read back', async () => {
    const b = `${prefix}settings-disk`
    await c.send(new CreateBucketCommand({ Bucket: b }))
    expect((await c.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBeUndefined()
    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }))
    expect((await c.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe('Enabled')
    const first = await c.send(new PutObjectCommand({ Bucket: b, Key: 'v', Body: 'one' }))
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'v', Body: 'two' }))
    const versions = await c.send(new ListObjectVersionsCommand({ Bucket: b }))
    expect(versions.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      [expect.any(String), true],
      [first.VersionId, false],
    ])
    for (const v of versions.Versions ?? []) await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'v', VersionId: v.VersionId! }))
    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }))
    expect((await c.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe('Suspended')
    expect(await refused(c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })))).toEqual({ status: 404, code: 'NoSuchLifecycleConfiguration' })
    const rules = [
      { ID: 'old', Status: 'Enabled' as const, Filter: { Prefix: 'tmp/' }, Expiration: { Days: 7 } },
      {
        ID: 'big-tagged',
        Status: 'Disabled' as const,
        Filter: { And: { Prefix: 'logs/', Tags: [{ Key: 'class', Value: 'scratch' }], ObjectSizeGreaterThan: 1024 } },
        Expiration: { Date: new Date('2031-01-01T00:00:00Z') },
      },
      { ID: 'uploads', Status: 'Enabled' as const, Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } },
    ]
    await c.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: rules } }))
    expect((await c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }))).Rules).toEqual(rules)
    expect(await (await p.t.call('GET', `/api/backends/local/buckets/${b}/lifecycle`, { as: p.admin })).json()).toEqual({
      rules: [
        { id: 'old', prefix: 'tmp/', enabled: true, expiration_days: 7 },
        { id: 'big-tagged', prefix: 'logs/', enabled: false },
        { id: 'uploads', enabled: true, abort_incomplete_days: 2 },
      ],
    })
    const transition = { Rules: [{ ID: 't', Status: 'Enabled' as const, Filter: {}, Transitions: [{ Days: 30, StorageClass: 'GLACIER' as const }] }] }
    expect(await refused(c.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: transition })))).toEqual({
      status: 501,
      code: 'NotImplemented',
    })
    expect((await c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }))).Rules).toHaveLength(3)
    await c.send(new DeleteBucketLifecycleCommand({ Bucket: b }))
    expect(await refused(c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })))).toEqual({ status: 404, code: 'NoSuchLifecycleConfiguration' })

    expect(await refused(c.send(new GetBucketTaggingCommand({ Bucket: b })))).toEqual({ status: 404, code: 'NoSuchTagSet' })
    const tags = [
      { Key: 'team', Value: 'a' },
      { Key: 'ünïcode <&>', Value: '' },
    ]
    await c.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: tags } }))
    expect((await c.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet).toEqual(tags)
    expect(await refused(c.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'aws:x', Value: '1' }] } })))).toEqual({
      status: 400,
      code: 'InvalidTag',
    })
    const fiftyOne = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }))
    expect(await refused(c.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: fiftyOne } })))).toEqual({ status: 400, code: 'InvalidTag' })
    await c.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: fiftyOne.slice(0, 50) } }))
    expect((await c.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet).toHaveLength(50)
    await c.send(new DeleteBucketTaggingCommand({ Bucket: b }))
    expect(await refused(c.send(new GetBucketTaggingCommand({ Bucket: b })))).toEqual({ status: 404, code: 'NoSuchTagSet' })
    expect(await refused(c.send(new GetBucketTaggingCommand({ Bucket: `${prefix}missing` })))).toEqual({ status: 404, code: 'NoSuchBucket' })
    expect(await refused(c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: `${prefix}missing` })))).toEqual({ status: 404, code: 'NoSuchBucket' })

    await c.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: tags } }))
    await c.send(new DeleteBucketCommand({ Bucket: b }))
    await c.send(new CreateBucketCommand({ Bucket: b }))
    expect(await refused(c.send(new GetBucketTaggingCommand({ Bucket: b })))).toEqual({ status: 404, code: 'NoSuchTagSet' })
    const malformed = await p.signed(fsOwner, 'PUT', `/${b}?versioning`, { body: '<VersioningConfiguration><Status>On</Status></VersioningConfiguration>' })
    expect((await s3Error(malformed)).code).toBe('MalformedXML')
  })

  test('CORS is Stowage’s own here too: the dashboard shows it and preflights use it', async () => {
    const b = `${prefix}cors-disk`
    await c.send(new CreateBucketCommand({ Bucket: b }))
    await c.send(
      new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://app.example'], AllowedMethods: ['GET'] }] } }),
    )
    expect(await (await p.t.call('GET', `/api/backends/local/buckets/${b}/cors`, { as: p.admin })).json()).toEqual({
      rules: [{ allowed_origins: ['https://app.example'], allowed_methods: ['GET'] }],
    })
    expect((await c.send(new GetBucketCorsCommand({ Bucket: b }))).CORSRules).toEqual([{ AllowedOrigins: ['https://app.example'], AllowedMethods: ['GET'] }])
    const preflight = await fetch(`${p.endpoint}/${b}/x`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    })
    expect(preflight.status).toBe(200)
    await c.send(new DeleteBucketCommand({ Bucket: b }))
    expect(await (await p.t.call('GET', `/api/backends/local/buckets/${b}/cors`, { as: p.admin })).json()).toEqual({ rules: [] })
  })
})
