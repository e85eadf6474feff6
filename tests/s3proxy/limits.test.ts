// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Proxy rate limits: the global and per-key token buckets answer 503
 * SlowDown with a Retry-After header, and one key's flood does not starve
 * another key.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { proxyEnv, type Cred, type ProxyEnv } from './fixture.ts'
import { s3Error } from './xml.ts'

describe('per-key limit', () => {
  let p: ProxyEnv
  let a: Cred
  let b: Cred
  let bucket: string
  beforeAll(async () => {
    p = await proxyEnv({ s3_proxy: { per_key_rps: 2 } })
    bucket = await p.bucket('perkey')
    a = await p.mint({ buckets: [bucket] })
    b = await p.mint({ buckets: [bucket] })
  })
  afterAll(() => p.close())

  test('a key past its rate gets 503 SlowDown + Retry-After; another key is unaffected', async () => {
    const statuses: number[] = []
    let last: Response | undefined
    // Burst 2×2+1 = 5; a slow machine refills while it works, so keep going until refused.
    for (let i = 0; i < 60; i++) {
      last = await p.signed(a, 'GET', `/${bucket}?list-type=2`)
      statuses.push(last.status)
      if (last.status === 503) break
      await last.arrayBuffer()
    }
    expect(statuses.at(-1)).toBe(503)
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(4)
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect((await s3Error(last!)).code).toBe('SlowDown')
    expect((await p.signed(b, 'GET', `/${bucket}?list-type=2`)).status).toBe(200)
  })
})

describe('global limit', () => {
  let p: ProxyEnv
  let cred: Cred
  let bucket: string
  beforeAll(async () => {
    p = await proxyEnv({ s3_proxy: { global_rps: 2 } })
    bucket = await p.bucket('global')
    cred = await p.mint({ buckets: [bucket] })
  })
  afterAll(() => p.close())

  test('past the global rate everything gets 503 SlowDown, even unauthenticated junk', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 60 && !statuses.includes(503); i++) statuses.push((await p.signed(cred, 'GET', `/${bucket}?list-type=2`)).status)
    expect(statuses).toContain(503)
    const junk = await fetch(`${p.endpoint}/${bucket}`)
    expect(junk.status).toBe(503)
    expect(junk.headers.get('retry-after')).not.toBeNull()
  })
})
