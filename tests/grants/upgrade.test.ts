// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The upgrade to grants keeps existing databases working as before: every
 * existing `user` keeps read-write and every `readonly` read on every
 * backend — including backends defined only in the config file and ones
 * added later — as one grant on all backends (`*`, origin `upgrade`), while
 * `access.default` stays `none`. A fresh install (no users yet when the
 * migration runs) gets no grants, so a new user sees nothing.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'bun:test'
import { createApp, type Stowage } from '../../src/app.ts'
import { buildConfig } from '../../src/config/load.ts'
import { silentLogger } from '../../src/lib/log.ts'
import { migrate } from '../../src/db/migrate.ts'
import { MIGRATIONS } from '../../src/db/migrations.ts'
import { sqliteDatabase } from '../../src/db/sqlite.ts'
import { openDatabase } from '../../src/sqlite/open.ts'
import { cookiesOf, FAST_HASH, PASSWORD } from '../helpers/app.ts'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function start(dbPath: string, root: string): Promise<Stowage> {
  const config = buildConfig({ db: { sqlite: { path: dbPath } }, backends: [{ id: 'nas', type: 'fs', root }], ratelimit: { login_per_ip: 0 } }, {}, 'test')
  return createApp(config, { hashParams: FAST_HASH, defaultMetrics: false, logger: silentLogger })
}

async function signIn(s: Stowage, username: string): Promise<{ cookie: string; csrf: string }> {
  const res = await s.fetch(
    new Request('http://localhost/auth/login/local', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: PASSWORD }),
    }),
  )
  expect(res.status).toBe(200)
  const cookie = cookiesOf(res)
  return { cookie, csrf: /stowage_csrf=([^;]+)/.exec(cookie)![1]! }
}

function call(s: Stowage, who: { cookie: string; csrf: string }, method: string, path: string, body?: string): Promise<Response> {
  return s.fetch(
    new Request(`http://localhost${path}`, {
      method,
      headers: { cookie: who.cookie, 'x-csrf-token': who.csrf, ...(body ? { 'content-type': 'text/plain', 'content-length': String(body.length) } : {}) },
      body,
    }),
  )
}

function fresh(): { dir: string; dbPath: string; root: string } {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-upgrade-'))
  dirs.push(dir)
  const root = join(dir, 'objects')
  mkdirSync(join(root, 'family-photos'), { recursive: true })
  return { dir, dbPath: join(dir, 'stowage.db'), root }
}

describe('a database from before grants', () => {
  test('keeps every account able to do what it could: users read and write, readonly accounts read, everywhere', async () => {
    const { dbPath, root } = fresh()
    const db = openDatabase(dbPath)
    await migrate(
      sqliteDatabase(db, dbPath),
      MIGRATIONS.filter((m) => m.version < 5),
    )
    const hash = await Bun.password.hash(PASSWORD, { algorithm: 'argon2id', ...FAST_HASH })
    const insert = db.query('INSERT INTO users (id, username, password_hash, role, created_at) VALUES (?, ?, ?, ?, 1)')
    insert.run('u-ann', 'ann', hash, 'user')
    insert.run('u-bob', 'bob', hash, 'readonly')
    insert.run('u-cat', 'cat', hash, 'admin')
    db.close()

    const s = await start(dbPath, root)
    try {
      const grants = await s.db.all<{ subject: string; backend_id: string; bucket: string; prefix: string; access: string; origin: string }>(
        'SELECT subject, backend_id, bucket, prefix, access, origin FROM access_grants ORDER BY subject',
      )
      expect(grants).toEqual([
        { subject: 'u-ann', backend_id: '*', bucket: '', prefix: '', access: 'read-write', origin: 'upgrade' },
        { subject: 'u-bob', backend_id: '*', bucket: '', prefix: '', access: 'read', origin: 'upgrade' },
      ])
      expect(s.config.access.default).toBe('none')

      const ann = await signIn(s, 'ann')
      expect((await call(s, ann, 'GET', '/api/backends/nas/buckets')).status).toBe(200)
      expect((await call(s, ann, 'POST', '/api/backends/nas/buckets/family-photos/object?key=a.txt', 'data')).status).toBe(201)
      const bob = await signIn(s, 'bob')
      const read = await call(s, bob, 'GET', '/api/backends/nas/buckets/family-photos/object?key=a.txt')
      expect([read.status, await read.text()]).toEqual([200, 'data'])
      expect((await call(s, bob, 'POST', '/api/backends/nas/buckets/family-photos/object?key=b.txt', 'data')).status).toBe(403)
      // A user created after the upgrade starts with nothing, as on a fresh install.
      await s.users.insert({
        id: 'u-dan',
        username: 'dan',
        email: null,
        passwordHash: hash,
        role: 'user',
        identitySource: 'local',
        mustChangePw: false,
        createdBy: null,
        now: Date.now(),
      })
      const dan = await signIn(s, 'dan')
      expect((await call(s, dan, 'GET', '/api/backends/nas/buckets')).status).toBe(403)
    } finally {
      await s.close()
    }
  })
})

describe('a fresh install', () => {
  test('has no grants, and a new user sees no backend and no bucket', async () => {
    const { dbPath, root } = fresh()
    const s = await start(dbPath, root)
    try {
      expect(await s.db.get('SELECT COUNT(*) AS n FROM access_grants')).toEqual({ n: 0 })
      const hash = await Bun.password.hash(PASSWORD, { algorithm: 'argon2id', ...FAST_HASH })
      await s.users.insert({
        id: 'u-new',
        username: 'newbie',
        email: null,
        passwordHash: hash,
        role: 'user',
        identitySource: 'local',
        mustChangePw: false,
        createdBy: null,
        now: Date.now(),
      })
      const newbie = await signIn(s, 'newbie')
      expect(await (await call(s, newbie, 'GET', '/api/backends')).json()).toEqual({ backends: [] })
      expect((await call(s, newbie, 'GET', '/api/backends/nas/buckets')).status).toBe(403)
      expect((await call(s, newbie, 'GET', '/api/backends/nas/buckets/family-photos/objects')).status).toBe(403)
    } finally {
      await s.close()
    }
  })
})
