// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `stowage migrate-store` moves a single install onto PostgreSQL losslessly:
 * a dry run copies nothing, the real run copies every row and checks every
 * table's count, a second run refuses a target that is no longer empty, and
 * an app started on the target signs in the same accounts and serves the
 * same share. Needs PG_URL, a PostgreSQL server (`npm test` starts one for its
 * PostgreSQL pass).
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SQL } from 'bun'
import { PASSWORD, testApp } from '../helpers/app.ts'
import { createPgDatabase, freshStore, PG_URL_ENV } from '../helpers/store.ts'

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname

describe('migrate-store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-migrate-store-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  async function run(args: string[], url: string): Promise<{ code: number; err: string }> {
    const config = join(dir, 'config.yaml')
    writeFileSync(config, `db:\n  postgres:\n    url_env: MIGRATE_PG\n`)
    const p = Bun.spawn([process.execPath, MAIN, 'migrate-store', ...args, '--config', config], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, MIGRATE_PG: url },
      stdout: 'ignore',
      stderr: 'pipe',
    })
    const err = await new Response(p.stderr).text()
    return { code: await p.exited, err }
  }

  test('copies a quickstart-sized install whole, after a dry run that copies nothing', async () => {
    mkdirSync(join(dir, 'objects', 'photos'), { recursive: true })
    const doc = { backends: [{ id: 'local', type: 'fs', root: join(dir, 'objects') }] }
    const source = await freshStore(dir, 'sqlite')
    const before = await testApp(doc, { store: source })
    const ann = await before.user('user', { username: 'ann' })
    const put = await before.call('POST', '/api/backends/local/buckets/photos/object?key=cat.jpg', {
      as: ann,
      body: 'meow',
      headers: { 'content-type': 'image/jpeg', 'content-length': '4' },
    })
    expect(put.status).toBe(201)
    const share = await before.call('POST', '/api/shares', { as: ann, json: { backend_id: 'local', bucket: 'photos', key: 'cat.jpg', max_downloads: 3 } })
    expect(share.status).toBe(201)
    const { code } = (await share.json()) as { code: string }
    const counts = Object.fromEntries(
      await Promise.all(
        ['users', 'sessions', 'shares', 'audit_events', 'access_grants'].map(async (t) => [
          t,
          (await before.s.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`))!.n,
        ]),
      ),
    ) as Record<string, number>
    await before.close()
    expect(counts.users).toBeGreaterThan(0)
    expect(counts.audit_events).toBeGreaterThan(0)

    const pg = await createPgDatabase()
    const direct = new SQL(pg.url, { max: 1 })
    try {
      const from = `sqlite:${join(dir, 'stowage.db')}`
      const dry = await run(['--from', from, '--to', 'postgres', '--dry-run'], pg.url)
      expect([dry.code, dry.err]).toEqual([0, expect.stringContaining('dry run: would copy')])
      expect((await direct.unsafe('SELECT COUNT(*)::int AS n FROM users'))[0].n).toBe(0)

      const real = await run(['--from', from, '--to', 'postgres'], pg.url)
      expect([real.code, real.err]).toEqual([0, expect.stringContaining('every count matches')])
      for (const [table, n] of Object.entries(counts))
        expect([table, (await direct.unsafe(`SELECT COUNT(*)::int AS n FROM ${table}`))[0].n]).toEqual([table, n])

      const again = await run(['--from', from, '--to', 'postgres'], pg.url)
      expect(again.code).not.toBe(0)
      expect(again.err).toContain('already holds rows')
      await direct.close()

      const after = await testApp(doc, {
        store: {
          kind: 'postgres',
          doc: { driver: 'postgres', sqlite: { path: join(dir, 'stowage.db') }, postgres: { url_env: PG_URL_ENV } },
          env: { [PG_URL_ENV]: pg.url },
          url: pg.url,
          drop: async () => {},
        },
      })
      try {
        expect(after.s.db.dialect).toBe('postgres')
        expect((await after.login('ann', PASSWORD)).status).toBe(200)
        const got = await after.call('GET', `/s/${code}/raw`)
        expect([got.status, await got.text()]).toEqual([200, 'meow'])
        const audit = await after.s.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM audit_events')
        expect(audit!.n).toBeGreaterThanOrEqual(counts.audit_events!)
      } finally {
        await after.close()
      }
    } finally {
      await direct.close()
      await pg.drop()
      await source.drop()
    }
  }, 120_000)
})
