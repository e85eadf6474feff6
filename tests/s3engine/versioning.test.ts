// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Versioning through the engine: the bucket's status, the version ids and
 * delete-marker headers of writes, reads and deletes, and ListObjectVersions
 * (what S3 clients see; the store itself is tests/backends/fs-versions).
 */
import { describe, expect, test } from 'bun:test'
import { children, textOf } from '../../src/s3/xml.ts'
import { engineFixture } from './fixture.ts'

const VERSIONING = (status: string): string => `<VersioningConfiguration><Status>${status}</Status></VersioningConfiguration>`

describe('versioning', () => {
  test('status: none until set, Enabled, Suspended; MFA delete and bad documents refused', async () => {
    const f = await engineFixture()
    const status = async (): Promise<string | undefined> => textOf((await f.send('GET', '/bkt?versioning')).xml(), 'Status')
    expect(await status()).toBeUndefined()
    expect((await f.send('PUT', '/bkt?versioning', { body: VERSIONING('Enabled') })).status).toBe(200)
    expect(await status()).toBe('Enabled')
    expect((await f.send('PUT', '/bkt?versioning', { body: VERSIONING('Suspended') })).status).toBe(200)
    expect(await status()).toBe('Suspended')
    expect(await f.send('PUT', '/bkt?versioning', { body: VERSIONING('Off') })).toMatchObject({ status: 400, code: 'MalformedXML' })
    const mfa = '<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>'
    expect(await f.send('PUT', '/bkt?versioning', { body: mfa })).toMatchObject({ status: 501, code: 'NotImplemented' })
    expect(await status()).toBe('Suspended')
    expect(await f.send('PUT', '/nobucket?versioning', { body: VERSIONING('Enabled') })).toMatchObject({ status: 404, code: 'NoSuchBucket' })
  })

  test('writes answer their version id, deletes their marker, and a read of a deleted key says it met a marker', async () => {
    const f = await engineFixture()
    await f.send('PUT', '/bkt?versioning', { body: VERSIONING('Enabled') })
    const v1 = (await f.send('PUT', '/bkt/dir/ü.txt', { body: 'one' })).headers['x-amz-version-id']!
    const v2 = (await f.send('PUT', '/bkt/dir/ü.txt', { body: 'two!' })).headers['x-amz-version-id']!
    expect(v1).toMatch(/^[0-9a-f]{32}$/)
    expect(v2).not.toBe(v1)
    const old = await f.send('GET', `/bkt/dir/%C3%BC.txt?versionId=${v1}`)
    expect([old.status, old.text, old.headers['x-amz-version-id']]).toEqual([200, 'one', v1])
    expect((await f.send('HEAD', '/bkt/dir/%C3%BC.txt')).headers['x-amz-version-id']).toBe(v2)
    const deleted = await f.send('DELETE', '/bkt/dir/%C3%BC.txt')
    expect(deleted.status).toBe(204)
    expect(deleted.headers['x-amz-delete-marker']).toBe('true')
    const marker = deleted.headers['x-amz-version-id']!
    const miss = await f.send('GET', '/bkt/dir/%C3%BC.txt')
    expect([miss.status, miss.code, miss.headers['x-amz-delete-marker'], miss.headers['x-amz-version-id']]).toEqual([404, 'NoSuchKey', 'true', marker])
    expect(await f.send('GET', '/bkt/dir/%C3%BC.txt?versionId=no-such')).toMatchObject({ status: 404, code: 'NoSuchVersion' })

    const listed = (await f.send('GET', '/bkt?versions')).xml()
    expect(listed.name).toBe('ListVersionsResult')
    expect(
      listed.children.filter((c) => c.name === 'Version' || c.name === 'DeleteMarker').map((c) => [c.name, textOf(c, 'VersionId'), textOf(c, 'IsLatest')]),
    ).toEqual([
      ['DeleteMarker', marker, 'true'],
      ['Version', v2, 'false'],
      ['Version', v1, 'false'],
    ])
    expect(textOf(children(listed, 'Version')[0]!, 'Size')).toBe('4')

    const page = (await f.send('GET', '/bkt?versions&max-keys=2')).xml()
    expect([textOf(page, 'IsTruncated'), textOf(page, 'NextKeyMarker'), textOf(page, 'NextVersionIdMarker')]).toEqual(['true', 'dir/ü.txt', v2])
    const rest = (await f.send('GET', `/bkt?versions&key-marker=${encodeURIComponent('dir/ü.txt')}&version-id-marker=${v2}`)).xml()
    expect(children(rest, 'Version').map((v) => textOf(v, 'VersionId'))).toEqual([v1])
    expect(textOf(rest, 'IsTruncated')).toBe('false')

    const undo = await f.send('DELETE', `/bkt/dir/%C3%BC.txt?versionId=${marker}`)
    expect([undo.status, undo.headers['x-amz-delete-marker'], undo.headers['x-amz-version-id']]).toEqual([204, 'true', marker])
    expect((await f.send('GET', '/bkt/dir/%C3%BC.txt')).text).toBe('two!')
  })

  test('under Suspended, writes are the null version and answer no version id; DeleteObjects reports markers', async () => {
    const f = await engineFixture()
    await f.send('PUT', '/bkt?versioning', { body: VERSIONING('Enabled') })
    const kept = (await f.send('PUT', '/bkt/k', { body: 'kept' })).headers['x-amz-version-id']!
    await f.send('PUT', '/bkt?versioning', { body: VERSIONING('Suspended') })
    const put = await f.send('PUT', '/bkt/k', { body: 'null one' })
    expect(put.headers['x-amz-version-id']).toBeUndefined()
    expect((await f.send('HEAD', '/bkt/k?versionId=null')).headers['x-amz-version-id']).toBe('null')
    const deleted = (await f.send('POST', '/bkt?delete', { body: '<Delete><Object><Key>k</Key></Object></Delete>' })).xml()
    const entry = children(deleted, 'Deleted')[0]!
    expect([textOf(entry, 'Key'), textOf(entry, 'DeleteMarker'), textOf(entry, 'DeleteMarkerVersionId')]).toEqual(['k', 'true', 'null'])
    const versions = (await f.send('GET', '/bkt?versions')).xml()
    expect(children(versions, 'Version').map((v) => textOf(v, 'VersionId'))).toEqual([kept])
    expect(children(versions, 'DeleteMarker').map((v) => textOf(v, 'VersionId'))).toEqual(['null'])
    expect(await f.send('DELETE', '/bkt')).toMatchObject({ status: 409, code: 'BucketNotEmpty' })
  })

  test('a version id from a stranger that no store makes (control characters, non-ASCII, empty, overlong) is 400 before anything echoes it', async () => {
    const f = await engineFixture()
    await f.send('PUT', '/bkt?versioning', { body: VERSIONING('Enabled') })
    await f.send('PUT', '/bkt/k', { body: 'v' })
    for (const bad of ['%0D%0Ax-evil:%201', '%C3%BC', '', 'a%20b', 'v'.repeat(1025)]) {
      for (const method of ['GET', 'HEAD', 'DELETE']) {
        const res = await f.send(method, `/bkt/k?versionId=${bad}`)
        expect(res.status).toBe(400)
        expect(res.headers['x-evil']).toBeUndefined()
      }
      expect(await f.send('PUT', '/bkt/copy', { headers: { 'x-amz-copy-source': `bkt/k?versionId=${bad || '%20'}` } })).toMatchObject({
        status: 400,
        code: 'InvalidArgument',
      })
    }
    const body = '<Delete><Object><Key>k</Key><VersionId>vü</VersionId></Object></Delete>'
    expect(await f.send('POST', '/bkt?delete', { body })).toMatchObject({ status: 400, code: 'InvalidArgument' })
    expect((await f.send('GET', '/bkt/k')).text).toBe('v')
  })
})
