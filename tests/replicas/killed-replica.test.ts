// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A replica killed mid-request loses nothing committed: while writes (new
 * users, uploads) stream to replica A, A is SIGKILLed. Every write A
 * acknowledged with a 2xx is then visible, whole, through replica B; a write
 * A never acknowledged is either wholly there (it committed before the
 * answer was lost) or not there at all — no user without its fields, no
 * object with part of its bytes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { ServerProcess, Session } from '../helpers/server-process.ts'
import { replicaPair, type Pair } from './pair.ts'

const BUCKET = 'crash'
/** Big enough that a kill can land while an upload's body is still arriving. */
const BODY_BYTES = 256 * 1024
const WORKERS = 4

type Write = { kind: 'user' | 'object'; name: string; acked: boolean }

const bodyOf = (name: string): string => name.padEnd(BODY_BYTES, '.')

describe('a replica killed mid-request', () => {
  let a: ServerProcess
  let b: ServerProcess
  let admin: Session
  let pair: Pair

  beforeAll(async () => {
    pair = await replicaPair({ bucket: BUCKET })
    ;({ a, b } = pair)
    admin = await a.signIn()
  }, 120_000)

  afterAll(() => pair?.dispose(), 60_000)

  const send = (w: Write): Promise<Response> =>
    w.kind === 'user'
      ? a.call(admin, 'POST', '/api/admin/users', {
          json: { username: w.name, email: `${w.name}@example.test`, password: 'correct horse battery staple', role: 'user' },
        })
      : a.call(admin, 'POST', `/api/backends/local/buckets/${BUCKET}/object?key=${w.name}`, {
          body: bodyOf(w.name),
          headers: { 'content-type': 'text/plain', 'content-length': String(BODY_BYTES) },
        })

  test('every write it acknowledged is visible on the other replica, and no write is half there', async () => {
    const writes: Write[] = []
    let killed = false
    // Several writers at once, so the kill finds requests in flight rather than between them.
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; !killed; i++) {
        const write: Write = { kind: i % 2 ? 'user' : 'object', name: `k${w}-${i}`, acked: false }
        writes.push(write)
        const res = await send(write).catch(() => undefined)
        if (!res) return
        write.acked = res.status >= 200 && res.status < 300
        if (!write.acked && !killed) throw new Error(`${write.kind} ${write.name}: ${res.status} ${await res.text()}`)
      }
    }
    const workers = Array.from({ length: WORKERS }, (_, w) => worker(w))
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && writes.filter((w) => w.acked).length < 12;) await Bun.sleep(10)
    killed = true
    await a.kill('SIGKILL')
    await Promise.all(workers)
    expect(writes.filter((w) => w.acked).length).toBeGreaterThanOrEqual(12)

    const users = (await (await b.call(admin, 'GET', '/api/admin/users?query=k&limit=500')).json()) as {
      users: { username: string; email: string | null; role: string }[]
    }
    const byName = new Map(users.users.map((u) => [u.username, u]))
    for (const w of writes) {
      if (w.kind === 'user') {
        const u = byName.get(w.name)
        if (w.acked) expect(u).toBeDefined()
        if (u) expect([u.email, u.role]).toEqual([`${w.name}@example.test`, 'user'])
      } else {
        const res = await b.call(admin, 'GET', `/api/backends/local/buckets/${BUCKET}/object?key=${w.name}`)
        if (w.acked) expect(res.status).toBe(200)
        if (res.status === 200) expect(await res.text()).toBe(bodyOf(w.name))
        else expect(res.status).toBe(404)
      }
    }
    // Nor does the bucket list a partial upload under any other name.
    const listed = (await (await b.call(admin, 'GET', `/api/backends/local/buckets/${BUCKET}/objects`)).json()) as { objects: { key: string; size: number }[] }
    const sent = new Set(writes.filter((w) => w.kind === 'object').map((w) => w.name))
    for (const o of listed.objects) expect([sent.has(o.key), o.size]).toEqual([true, BODY_BYTES])
  }, 60_000)
})
