// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `x-amz-expiration` on the engine's object reads and writes, in the form
 * RGW sends it (asked: `expiry-date="Fri, 11 Dec 2026 00:00:00 GMT",
 * rule-id="r-days"` for a 3-day rule on 7 December): the earliest rule that
 * applies by prefix, size and tags, the days rounded up to midnight UTC.
 */
import { describe, expect, test } from 'bun:test'
import { textOf } from '../../src/s3/xml.ts'
import { engineFixture, MiB, type EngineFixture } from './fixture.ts'

const DAY = 86_400_000

function rules(...inner: string[]): string {
  return `<LifecycleConfiguration>${inner.map((r) => `<Rule>${r}<Status>Enabled</Status></Rule>`).join('')}</LifecycleConfiguration>`
}

/** Midnight UTC after `ms` plus `days`, as S3 rounds a Days rule. */
function dueAfter(ms: number, days: number): string {
  return new Date(Math.ceil((ms + days * DAY) / DAY) * DAY).toUTCString()
}

async function configured(body: string): Promise<EngineFixture> {
  const f = await engineFixture()
  expect((await f.send('PUT', '/bkt?lifecycle', { body })).status).toBe(200)
  return f
}

describe('x-amz-expiration', () => {
  test('PUT, HEAD, GET and copy name the earliest rule that applies, by prefix, size and tags', async () => {
    const f = await configured(
      rules(
        '<ID>r-days</ID><Filter><Prefix>exp/</Prefix></Filter><Expiration><Days>3</Days></Expiration>',
        '<ID>r-soon</ID><Filter><Prefix>exp/soon</Prefix></Filter><Expiration><Days>1</Days></Expiration>',
        '<ID>r-tag</ID><Filter><And><Prefix>t/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Expiration><Days>2</Days></Expiration>',
        '<ID>r-big</ID><Filter><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan></Filter><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>',
        '<ID>r-noncurrent</ID><Filter><Prefix></Prefix></Filter><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>',
      ),
    )
    const now = Date.now()
    const header = (days: number, id: string): string => `expiry-date="${dueAfter(now, days)}", rule-id="${id}"`
    const put = await f.send('PUT', '/bkt/exp/a', { body: 'x' })
    expect(put.headers['x-amz-expiration']).toBe(header(3, 'r-days'))
    expect((await f.send('HEAD', '/bkt/exp/a')).headers['x-amz-expiration']).toBe(header(3, 'r-days'))
    expect((await f.send('GET', '/bkt/exp/a')).headers['x-amz-expiration']).toBe(header(3, 'r-days'))
    expect((await f.send('PUT', '/bkt/exp/soon', { body: 'x' })).headers['x-amz-expiration']).toBe(header(1, 'r-soon'))
    // Tags decide: given with the PUT, then read from the object.
    expect((await f.send('PUT', '/bkt/t/a', { body: 'x', headers: { 'x-amz-tagging': 'k=v' } })).headers['x-amz-expiration']).toBe(header(2, 'r-tag'))
    expect((await f.send('HEAD', '/bkt/t/a')).headers['x-amz-expiration']).toBe(header(2, 'r-tag'))
    expect((await f.send('PUT', '/bkt/t/b', { body: 'x', headers: { 'x-amz-tagging': 'k=w' } })).headers['x-amz-expiration']).toBeUndefined()
    expect((await f.send('HEAD', '/bkt/t/b')).headers['x-amz-expiration']).toBeUndefined()
    const copied = await f.send('PUT', '/bkt/t/c', { headers: { 'x-amz-copy-source': '/bkt/t/a' } })
    expect([copied.status, copied.headers['x-amz-expiration']]).toEqual([200, header(2, 'r-tag')])
    // Size decides: only the large object falls under r-big.
    expect((await f.send('PUT', '/bkt/other/big', { body: 'x'.repeat(200) })).headers['x-amz-expiration']).toBe(
      'expiry-date="Tue, 01 Jan 2030 00:00:00 GMT", rule-id="r-big"',
    )
    expect((await f.send('PUT', '/bkt/other/small', { body: 'x' })).headers['x-amz-expiration']).toBeUndefined()
  })

  test('a completed multipart upload says it too; a rule ID of any characters is URL-encoded; no rules, no header', async () => {
    const f = await configured(rules('<ID>week "one" é\n</ID><Filter><Prefix>mp/</Prefix></Filter><Expiration><Days>7</Days></Expiration>'))
    const id = textOf((await f.send('POST', '/bkt/mp/a?uploads')).xml(), 'UploadId')!
    const etag = (await f.send('PUT', `/bkt/mp/a?partNumber=1&uploadId=${id}`, { body: new Uint8Array(MiB) })).headers.etag!
    const done = await f.send('POST', `/bkt/mp/a?uploadId=${id}`, {
      body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`,
    })
    expect(done.status).toBe(200)
    const expected = `expiry-date="${dueAfter(Date.now(), 7)}", rule-id="week%20%22one%22%20%C3%A9%0A"`
    expect(done.headers['x-amz-expiration']).toBe(expected)
    expect((await f.send('HEAD', '/bkt/mp/a')).headers['x-amz-expiration']).toBe(expected)
    expect((await f.send('DELETE', '/bkt?lifecycle')).status).toBe(204)
    expect((await f.send('HEAD', '/bkt/mp/a')).headers['x-amz-expiration']).toBeUndefined()
  })
})
