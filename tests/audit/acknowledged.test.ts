// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Acknowledged means audited, through the HTTP surface of the dashboard and
 * of the S3 proxy: a success answer arrives only once its audit row is in the
 * database, and when the row cannot be written (the store refuses the insert)
 * the change is not acknowledged — 503 `store_unavailable` on the dashboard,
 * 503 ServiceUnavailable on the proxy — while the event stays queued and is
 * written once the database accepts it again.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Database } from '../../src/db/database.ts'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { errorCode, testApp, type Client, type TestApp } from '../helpers/app.ts'
import { proxyEnv, type Cred, type ProxyEnv } from '../s3proxy/fixture.ts'
import { s3Error } from '../s3proxy/xml.ts'

setDefaultTimeout(30_000)

/** Rows read straight from the store, without flushing the recorder: what a crash right now would leave. */
const committed = async (db: Database, requestId: string): Promise<string[]> =>
  (await db.all<{ action: string }>('SELECT action FROM audit_events WHERE request_id = ?', [requestId])).map((r) => r.action)

const refuseAudit = (db: Database): Promise<void> =>
  db.exec(
    db.dialect === 'sqlite'
      ? "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'disk full'); END"
      : `CREATE FUNCTION audit_refused() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
         CREATE TRIGGER audit_refused BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_refused()`,
  )
const acceptAudit = (db: Database): Promise<void> =>
  db.exec(db.dialect === 'sqlite' ? 'DROP TRIGGER audit_refused' : 'DROP TRIGGER audit_refused ON audit_events; DROP FUNCTION audit_refused()')

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('not written in time')
    await Bun.sleep(50)
  }
}

describe('dashboard', () => {
  let t: TestApp
  let user: Client
  let admin: Client
  beforeAll(async () => {
    t = await testApp({ backends: [{ id: 'local', type: 'fs', root: mkdtempSync(join(tmpdir(), 'stowage-ack-')) }] })
    user = await t.user('user')
    admin = await t.user('admin')
    await t.s.registry.get('local').createBucket('ack')
  })
  afterAll(() => t.close())

  const upload = (key: string, requestId: string): Promise<Response> =>
    t.call('POST', `/api/backends/local/buckets/ack/object?key=${key}`, {
      as: user,
      body: 'data',
      headers: { 'content-type': 'text/plain', 'content-length': '4', 'x-request-id': requestId },
    })

  test('a success answer arrives only after its audit row is committed', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await upload(`now-${i}.txt`, `ack-now-${i}`)
      expect(res.status).toBe(201)
      expect(await committed(t.s.db, `ack-now-${i}`)).toEqual(['object.upload'])
    }
    const share = await t.call('POST', '/api/shares', {
      as: user,
      json: { backend_id: 'local', bucket: 'ack', key: 'now-0.txt' },
      headers: { 'x-request-id': 'ack-share' },
    })
    expect(share.status).toBe(201)
    expect(await committed(t.s.db, 'ack-share')).toEqual(['share.create'])
    const created = await t.call('POST', '/api/admin/users', {
      as: admin,
      json: { username: 'acked', password: 'a long enough password', role: 'user' },
      headers: { 'x-request-id': 'ack-user' },
    })
    expect(created.status).toBe(201)
    expect(await committed(t.s.db, 'ack-user')).toEqual(['user.create'])
  })

  test('a streamed prefix job says `done` only after its audit row is committed', async () => {
    await upload('dir/a.txt', 'ack-dir-a')
    const res = await t.call('POST', '/api/backends/local/buckets/ack/objects/delete-prefix', {
      as: user,
      json: { prefix: 'dir/' },
      headers: { 'x-request-id': 'ack-prefix' },
    })
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    while (!text.includes('"done"')) {
      const { done, value } = await reader.read()
      if (done) break
      text += value
    }
    expect(text).toContain('"event":"done"')
    expect(await committed(t.s.db, 'ack-prefix')).toEqual(['object.delete_prefix'])
    await reader.cancel()
  })

  test('when the audit row cannot be written the change is not acknowledged, and the row follows once it can', async () => {
    await refuseAudit(t.s.db)
    try {
      const res = await upload('unaudited.txt', 'ack-refused')
      expect(res.status).toBe(503)
      expect(await errorCode(res)).toBe('store_unavailable')
      expect(await committed(t.s.db, 'ack-refused')).toEqual([])
    } finally {
      await acceptAudit(t.s.db)
    }
    // The event stayed queued; the recorder's retry writes it.
    await eventually(async () => (await committed(t.s.db, 'ack-refused')).length === 1)
    expect((await upload('after.txt', 'ack-after')).status).toBe(201)
    expect(await committed(t.s.db, 'ack-after')).toEqual(['object.upload'])
  })
})

describe('S3 proxy', () => {
  let p: ProxyEnv
  let bucket: string
  let cred: Cred
  beforeAll(async () => {
    p = await proxyEnv()
    bucket = await p.bucket('ack')
    cred = await p.mint({ buckets: [bucket] }, p.user)
  })
  afterAll(() => p.close())

  test('a write is answered only after its audit row is committed', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await p.signed(cred, 'PUT', `/${bucket}/now-${i}`, { body: 'data' })
      expect(res.status).toBe(200)
      await res.arrayBuffer()
      expect(await committed(p.t.s.db, res.headers.get('x-amz-request-id')!)).toEqual(['s3.proxy.putobject'])
    }
  })

  test('a write whose audit row cannot be written is not acknowledged', async () => {
    await refuseAudit(p.t.s.db)
    try {
      const res = await p.signed(cred, 'PUT', `/${bucket}/unaudited`, { body: 'data' })
      expect(res.status).toBe(503)
      expect((await s3Error(res)).code).toBe('ServiceUnavailable')
    } finally {
      await acceptAudit(p.t.s.db)
    }
    await eventually(async () => (await p.t.s.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM audit_events WHERE object_key = 'unaudited'"))!.n === 1)
  })
})
