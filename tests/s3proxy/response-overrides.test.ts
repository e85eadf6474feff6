// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * GetObject's `response-*` parameters name headers the upstream writes into
 * its answer. A value no HTTP header may carry (CR, LF, other control
 * characters) is the client's mistake: 400 InvalidArgument before anything
 * is forwarded, never a 502 from the upstream's unparseable answer. Values a
 * header can carry, UTF-8 included, pass through byte for byte.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { captureLogger, type Captured } from '../http/support.ts'
import { proxyEnv, type Cred, type ProxyEnv } from './fixture.ts'
import { s3Error } from './xml.ts'

let p: ProxyEnv
let log: Captured
let bucket: string
let cred: Cred

beforeAll(async () => {
  log = captureLogger()
  p = await proxyEnv({ logger: log.logger })
  bucket = await p.bucket('overrides')
  cred = await p.mint({ buckets: [bucket] })
  await p.rgw.putObject(bucket, 'doc.txt', new Response('hello').body!, { size: 5 })
})
afterAll(() => p.close())

describe('values no header may carry', () => {
  for (const [name, value] of [
    ['response-content-type', 'text/plain\r\nx-evil: 1'],
    ['response-content-disposition', 'attachment\nx: y'],
    ['response-cache-control', 'no-cache\u0000'],
    ['response-expires', 'Thu, 01 Jan 2099 00:00:00 GMT\r'],
  ] as const) {
    test(`${name} with ${JSON.stringify(value.replace(/^[^\r\n\u0000]*/, ''))} → 400 InvalidArgument, nothing logged as an upstream failure`, async () => {
      const before = log.lines.length
      const res = await p.signed(cred, 'GET', `/${bucket}/doc.txt?${name}=${encodeURIComponent(value)}`)
      expect(res.status).toBe(400)
      const e = await s3Error(res)
      expect(e.code).toBe('InvalidArgument')
      expect(e.message).toContain(name)
      expect(
        log
          .entries()
          .slice(before)
          .filter((l) => l.level === 'warn' || l.level === 'error'),
      ).toEqual([])
    })
  }
})

describe('values a header can carry', () => {
  test('pass through to the answer, UTF-8 byte for byte', async () => {
    const disposition = 'attachment; filename="grüße.txt"'
    const res = await p.signed(
      cred,
      'GET',
      `/${bucket}/doc.txt?response-content-type=${encodeURIComponent('text/plain; charset=utf-8')}&response-content-disposition=${encodeURIComponent(disposition)}`,
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(Buffer.from(res.headers.get('content-disposition')!, 'latin1').equals(Buffer.from(disposition, 'utf8'))).toBe(true)
    expect(await res.text()).toBe('hello')
  })
})
