// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Virtual S3 keys and grants, through the real S3 listener with the AWS SDK,
 * on both kinds of backend: real RGW behind the forwarder, and a local
 * directory served by the S3 engine. A user mints keys only within their grants; a key
 * owned by a user does no more than the owner's grants allow at the time of
 * each request, whatever its scope says — folder grants included, for
 * objects, listings, copy sources and multi-deletes — and a revoked grant
 * stops it on the very next request. Keys owned by nobody are held to their
 * scope only.
 */
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { codeOf } from './fixture.ts'
import type { Backend } from '../../src/backends/backend.ts'
import type { Client } from '../helpers/app.ts'
import { bucketName, proxyEnv, type Cred, type ProxyEnv } from '../s3proxy/fixture.ts'
import { s3Error } from '../s3proxy/xml.ts'

setDefaultTimeout(60_000)

type Grant = { id: string }

async function refused(send: Promise<unknown>): Promise<string> {
  try {
    await send
  } catch (err) {
    const e = err as { $metadata?: { httpStatusCode?: number }; name: string }
    return `${e.$metadata?.httpStatusCode} ${e.name}`
  }
  throw new Error('expected a refusal')
}

const put = (c: S3Client, bucket: string, key: string) => c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `bytes of ${key}` }))
const get = (c: S3Client, bucket: string, key: string) => c.send(new GetObjectCommand({ Bucket: bucket, Key: key })).then((o) => o.Body!.transformToString())

describe.each(['rgw', 'local'])('on the %s backend', (bid) => {
  let p: ProxyEnv
  /** The user's whole bucket, the team bucket where they hold `team/a/`, and a bucket they have nothing in. */
  let own: string
  let team: string
  let other: string
  let backend: Backend

  async function grant(body: Record<string, unknown>): Promise<Grant> {
    const res = await p.t.call('POST', '/api/admin/grants', { as: p.admin, json: { backend_id: bid, ...body } })
    if (res.status !== 201) throw new Error(`grant failed: ${res.status} ${await res.text()}`)
    return (await res.json()) as Grant
  }

  async function revoke(g: Grant): Promise<void> {
    expect((await p.t.call('DELETE', `/api/admin/grants/${g.id}`, { as: p.admin })).status).toBe(204)
  }

  async function bucket(tag: string): Promise<string> {
    if (bid === 'rgw') return p.bucket(tag)
    const name = bucketName(tag)
    await backend.createBucket(name)
    return name
  }

  const mint = (body: Record<string, unknown>, as?: Client): Promise<Cred> => p.mint({ backend_id: bid, ...body }, as)

  beforeAll(async () => {
    p = await proxyEnv({ app: { access: { default: 'none' } } })
    backend = p.t.s.registry.get(bid)
    own = await bucket('own')
    team = await bucket('team')
    other = await bucket('other')
    for (const key of ['team/a/doc.txt', 'team/b/secret.txt', 'team/ab/x.txt'])
      await backend.putObject(team, key, new Response(`bytes of ${key}`).body!, { size: `bytes of ${key}`.length })
    await backend.putObject(other, 'o.txt', new Response('o').body!, { size: 1 })
  })
  afterAll(() => p.close())

  describe('minting', () => {
    test('a user may scope a key only to buckets they hold a grant in, at no more than that access', async () => {
      const none = await p.t.call('POST', '/api/me/s3-credentials', { as: p.user, json: { backend_id: bid, buckets: [own] } })
      expect(none.status).toBe(403)
      expect(await codeOf(none)).toBe('access_denied')
      await grant({ user_id: p.user.userId, bucket: own, access: 'read-write' })
      await grant({ user_id: p.user.userId, bucket: team, prefix: 'team/a/', access: 'read' })
      expect((await mint({ buckets: [own] }, p.user)).buckets).toEqual([{ bucket: own, access: 'read-write' }])
      const wider = await p.t.call('POST', '/api/me/s3-credentials', {
        as: p.user,
        json: { backend_id: bid, buckets: [{ bucket: team, access: 'read-write' }] },
      })
      expect(wider.status).toBe(403)
      expect(await codeOf(wider)).toBe('read_only_access')
      expect((await mint({ buckets: [{ bucket: team, access: 'read' }] }, p.user)).buckets).toEqual([{ bucket: team, access: 'read' }])
      const elsewhere = await p.t.call('POST', '/api/me/s3-credentials', {
        as: p.user,
        json: { backend_id: bid, buckets: [{ bucket: other, access: 'read' }] },
      })
      expect(await codeOf(elsewhere)).toBe('access_denied')
    })

    test('widening an own key’s scope needs the grants too', async () => {
      const key = await mint({ buckets: [own] }, p.user)
      const res = await p.t.call('PATCH', `/api/me/s3-credentials/${key.access_key}`, { as: p.user, json: { buckets: [own, other] } })
      expect(res.status).toBe(403)
      expect(await codeOf(res)).toBe('access_denied')
    })
  })

  describe('a key is held to its owner’s grants on every request', () => {
    let owner: { userId: string }
    let key: Cred
    let c: S3Client
    let wide: Grant

    beforeAll(async () => {
      owner = await p.t.user('user')
      // Scoped by an admin to all three buckets, read-write: the grants decide what is left of that.
      key = await mint({ buckets: [own, team, other], user_id: owner.userId })
      c = p.sdk(key)
      wide = await grant({ user_id: owner.userId, bucket: own, access: 'read-write' })
      await grant({ user_id: owner.userId, bucket: team, prefix: 'team/a/', access: 'read-write' })
    })

    test('a revoked grant stops the key at once, and a new one lets it in again', async () => {
      await put(c, own, 'live.txt')
      expect(await get(c, own, 'live.txt')).toBe('bytes of live.txt')
      await revoke(wide)
      expect(await refused(get(c, own, 'live.txt'))).toBe('403 AccessDenied')
      expect(await refused(put(c, own, 'after.txt'))).toBe('403 AccessDenied')
      wide = await grant({ user_id: owner.userId, bucket: own, access: 'read' })
      expect(await get(c, own, 'live.txt')).toBe('bytes of live.txt')
      expect(await refused(put(c, own, 'after.txt'))).toBe('403 AccessDenied')
    })

    test('ListBuckets shows only the buckets the owner may see', async () => {
      const out = await c.send(new ListBucketsCommand({}))
      expect(out.Buckets!.map((b) => b.Name).sort()).toEqual([own, team].sort())
    })

    test('objects: inside the granted folder only, however the key is spelled', async () => {
      await put(c, team, 'team/a/new.txt')
      expect(await get(c, team, 'team/a/doc.txt')).toBe('bytes of team/a/doc.txt')
      for (const key of ['team/b/secret.txt', 'team/ab/x.txt', 'Team/a/doc.txt', 'team/A/doc.txt', 'team/a/../b/secret.txt', 'team/']) {
        expect([key, await refused(get(c, team, key))]).toEqual([key, '403 AccessDenied'])
      }
      for (const key of ['team/b/planted.txt', 'team/a/../b/planted.txt', 'other.txt'])
        expect([key, await refused(put(c, team, key))]).toEqual([key, '403 AccessDenied'])
      await expect(backend.headObject(team, 'team/b/planted.txt')).rejects.toThrow()
      expect(await refused(get(c, other, 'o.txt'))).toBe('403 AccessDenied')
    })

    test('listings: inside the granted folder only', async () => {
      const inside = await c.send(new ListObjectsV2Command({ Bucket: team, Prefix: 'team/a/' }))
      expect(inside.Contents!.map((o) => o.Key).sort()).toEqual(['team/a/doc.txt', 'team/a/new.txt'])
      for (const prefix of [undefined, 'team/', 'team/b/', 'team/a'])
        expect([prefix, await refused(c.send(new ListObjectsV2Command({ Bucket: team, Prefix: prefix })))]).toEqual([prefix, '403 AccessDenied'])
      await c.send(new HeadBucketCommand({ Bucket: team }))
      // A HEAD answer has no body, so the SDK names the error by its status alone.
      expect((await refused(c.send(new HeadBucketCommand({ Bucket: other })))).split(' ')[0]).toBe('403')
    })

    test('copies: the source and the destination must both be granted', async () => {
      expect(await refused(c.send(new CopyObjectCommand({ Bucket: team, Key: 'team/a/stolen.txt', CopySource: `${team}/team/b/secret.txt` })))).toBe(
        '403 AccessDenied',
      )
      expect(await refused(c.send(new CopyObjectCommand({ Bucket: team, Key: 'team/b/leak.txt', CopySource: `${team}/team/a/doc.txt` })))).toBe(
        '403 AccessDenied',
      )
      expect(await refused(c.send(new CopyObjectCommand({ Bucket: team, Key: 'team/a/from-other.txt', CopySource: `${other}/o.txt` })))).toBe(
        '403 AccessDenied',
      )
      await c.send(new CopyObjectCommand({ Bucket: team, Key: 'team/a/copy.txt', CopySource: `${team}/team/a/doc.txt` }))
      expect(await get(c, team, 'team/a/copy.txt')).toBe('bytes of team/a/doc.txt')
    })

    test('a multi-delete naming any key outside the folder deletes nothing', async () => {
      expect(
        await refused(c.send(new DeleteObjectsCommand({ Bucket: team, Delete: { Objects: [{ Key: 'team/a/copy.txt' }, { Key: 'team/b/secret.txt' }] } }))),
      ).toBe('403 AccessDenied')
      expect((await backend.headObject(team, 'team/a/copy.txt')).key).toBe('team/a/copy.txt')
      expect((await backend.headObject(team, 'team/b/secret.txt')).key).toBe('team/b/secret.txt')
      const out = await c.send(new DeleteObjectsCommand({ Bucket: team, Delete: { Objects: [{ Key: 'team/a/copy.txt' }] } }))
      expect(out.Deleted!.map((d) => d.Key)).toEqual(['team/a/copy.txt'])
    })

    test('a multi-delete document another XML reader could read differently is refused', async () => {
      const docs = [
        '<Delete><Object><Key>team/a/new.txt</Key><Key>team/b/secret.txt</Key></Object></Delete>',
        '<Delete><Object><Key>team/a/new.txt</Key></Object><Key>team/b/secret.txt</Key></Delete>',
        '<!DOCTYPE d [<!ENTITY e "b/secret.txt">]><Delete><Object><Key>team/a/../&e;</Key></Object></Delete>',
        '<Delete xmlns:s="http://s3.amazonaws.com/doc/2006-03-01/"><Object><s:Key>team/b/secret.txt</s:Key></Object></Delete>',
      ]
      for (const doc of docs) {
        const md5 = createHash('md5').update(doc).digest('base64')
        const res = await p.signed(key, 'POST', `/${team}?delete`, { body: doc, headers: { 'content-md5': md5, 'content-type': 'application/xml' } })
        expect([doc, res.status, (await s3Error(res)).code]).toEqual([doc, 403, 'AccessDenied'])
      }
      expect((await backend.headObject(team, 'team/b/secret.txt')).key).toBe('team/b/secret.txt')
    })

    test("a readonly owner's key only reads, whatever the grant says", async () => {
      const grantee = await p.t.user('readonly')
      await grant({ user_id: grantee.userId, bucket: own, access: 'read-write' })
      const ro = p.sdk(await mint({ buckets: [own], user_id: grantee.userId }))
      expect(await get(ro, own, 'live.txt')).toBe('bytes of live.txt')
      expect(await refused(put(ro, own, 'ro.txt'))).toBe('403 AccessDenied')
    })

    test('a key owned by nobody is held to its scope only', async () => {
      const unowned = p.sdk(await mint({ buckets: [other] }))
      expect(await get(unowned, other, 'o.txt')).toBe('o')
    })

    test('the owner’s view is computed once and rebuilt after a grant change', async () => {
      const first = await p.t.s.access.viewForUser(owner.userId)
      expect(await p.t.s.access.viewForUser(owner.userId)).toBe(first)
      const g = await grant({ user_id: owner.userId, bucket: other, access: 'read' })
      const next = await p.t.s.access.viewForUser(owner.userId)
      expect(next).not.toBe(first)
      expect(await get(c, other, 'o.txt')).toBe('o')
      await revoke(g)
      expect(await refused(get(c, other, 'o.txt'))).toBe('403 AccessDenied')
    })
  })
})
