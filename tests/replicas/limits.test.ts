// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Rate limits are counted in memory by each replica (docs/replicas.md), so
 * with N replicas a client gets at most N times a limit through. Two
 * `stowage serve` processes on one PostgreSQL, a client spreading its
 * requests over both: each replica refuses once its own count is spent, and
 * the total admitted stays within twice one replica's allowance: the per-IP
 * sign-in limit (a fixed 15-minute window, so exactly 2 × 4), and the S3
 * listener's per-key and anonymous per-IP token buckets (a burst of
 * 2 × rate + 1, refilled at the rate, per replica).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { signRequest } from '../../src/s3/sign.ts'
import type { ServerProcess, Session } from '../helpers/server-process.ts'
import { replicaPair, type Pair } from './pair.ts'

const LOGIN_PER_IP = 4
const RPS = 2
const BUCKET = 'limits'
const PUBLIC = 'open'

/** What one replica's token bucket admits over `ms`: its burst and what it refills. */
const allowance = (ms: number): number => 2 * RPS + 1 + (RPS * ms) / 1000

type Outcome = { on: ServerProcess; status: number; code: string }

async function errorCode(res: Response): Promise<string> {
  const text = await res.text()
  return /"code":"([^"]+)"/.exec(text)?.[1] ?? /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? ''
}

/** Sends `count` requests one after another, alternating between the replicas; how long it took. */
async function alternate(pair: Pair, count: number, send: (on: ServerProcess) => Promise<Response>): Promise<{ outcomes: Outcome[]; ms: number }> {
  const outcomes: Outcome[] = []
  const started = performance.now()
  for (let i = 0; i < count; i++) {
    const on = i % 2 ? pair.b : pair.a
    const res = await send(on)
    outcomes.push({ on, status: res.status, code: await errorCode(res) })
  }
  return { outcomes, ms: performance.now() - started }
}

describe('rate limits on two replicas', () => {
  let pair: Pair
  let admin: Session

  beforeAll(async () => {
    pair = await replicaPair({
      bucket: BUCKET,
      env: {
        STOWAGE_RATELIMIT__LOGIN_PER_IP: String(LOGIN_PER_IP),
        STOWAGE_S3_PROXY__ENABLED: 'true',
        STOWAGE_S3_PROXY__LISTEN: '127.0.0.1:0',
        STOWAGE_S3_PROXY__PER_KEY_RPS: String(RPS),
        STOWAGE_S3_PROXY__ANONYMOUS_ENABLED: 'true',
      },
    })
    mkdirSync(join(pair.shared, PUBLIC))
    admin = await pair.a.signIn()
  }, 120_000)

  afterAll(() => pair?.dispose(), 60_000)

  test('the per-IP sign-in limit admits exactly its count on each replica, twice it in all', async () => {
    const { outcomes } = await alternate(pair, 4 * LOGIN_PER_IP, (on) =>
      fetch(`${on.url}/auth/login/local`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'nobody-here', password: 'not the password at all' }),
      }),
    )
    for (const on of [pair.a, pair.b]) {
      const mine = outcomes.filter((o) => o.on === on).map((o) => `${o.status} ${o.code}`)
      expect(mine).toEqual([...Array(LOGIN_PER_IP).fill('401 invalid_credentials'), ...Array(LOGIN_PER_IP).fill('429 rate_limited')])
    }
  }, 60_000)

  test("the S3 listener's per-key limit admits at most one replica's allowance on each", async () => {
    const minted = await pair.a.call(admin, 'POST', '/api/admin/s3-credentials', { json: { backend_id: 'local', buckets: [BUCKET] } })
    expect(minted.status).toBe(201)
    const cred = (await minted.json()) as { access_key: string; secret_key: string }
    const { outcomes, ms } = await alternate(pair, 60, (on) => {
      const url = new URL(`${on.proxyUrl}/${BUCKET}?list-type=2`)
      const headers = new Headers()
      signRequest({
        method: 'GET',
        url: { host: url.host, pathname: url.pathname, search: url.search },
        headers,
        payloadHash: 'UNSIGNED-PAYLOAD',
        accessKeyId: cred.access_key,
        secretKey: cred.secret_key,
        region: 'us-east-1',
      })
      return fetch(url, { headers })
    })
    expectWithinAllowance(pair, outcomes, ms)
  }, 60_000)

  test('the anonymous per-IP limit of a bound bucket admits at most one replica’s allowance on each', async () => {
    const bound = await pair.a.call(admin, 'POST', '/api/admin/s3-anonymous', { json: { backend_id: 'local', bucket: PUBLIC, per_source_ip_rps: RPS } })
    expect(bound.status).toBe(200)
    const { outcomes, ms } = await alternate(pair, 60, (on) => fetch(`${on.proxyUrl}/${PUBLIC}?list-type=2`))
    expectWithinAllowance(pair, outcomes, ms)
  }, 60_000)
})

function expectWithinAllowance(pair: Pair, outcomes: Outcome[], ms: number): void {
  expect(outcomes.filter((o) => o.status !== 200 && o.status !== 503)).toEqual([])
  for (const on of [pair.a, pair.b]) {
    const mine = outcomes.filter((o) => o.on === on)
    const admitted = mine.filter((o) => o.status === 200).length
    expect(admitted).toBeGreaterThanOrEqual(2 * RPS)
    expect(admitted).toBeLessThanOrEqual(allowance(ms))
    expect(mine.filter((o) => o.status === 503).map((o) => o.code)).toContain('SlowDown')
  }
}
