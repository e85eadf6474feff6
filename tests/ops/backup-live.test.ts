// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `stowage backup` against a live server taking writes, then `stowage restore`
 * into a new directory, all with the compiled binary. The claim under test:
 * the archive alone holds every write acknowledged before the backup began,
 * what it holds of the writes that raced it is a prefix (a consistent
 * snapshot, never a torn one), and every sealed secret in it opens with the
 * archived key. The server is SIGKILLed before the restore, so nothing it
 * might flush on a clean exit can help.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { existsSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { sealContext } from '../../src/backends/registry.ts'
import { createSealer, parseMasterKey } from '../../src/lib/seal.ts'
import { isolatedBinary, startBinary, type Running } from '../helpers/binary.ts'
import { firstSignIn, oneTimePassword, signIn, type Session } from '../helpers/http-session.ts'

const PASSWORD = 'backup drill lantern 5150'
const AUDIT_ROWS = 100_000
let bin: string
let dir: string
const running: Running[] = []

beforeAll(() => {
  ;({ bin, dir } = isolatedBinary())
})
afterAll(() => {
  for (const r of running) if (r.proc.exitCode === null) r.proc.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([bin, ...args], { cwd: dir, env: { PATH: '/usr/bin:/bin', HOME: dir, ...env }, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { code, stdout, stderr }
}

type Write = { id: string; secret: string; sentAt: number; ackedAt: number }

/** Creates S3 backends one after another (each a committed row with a sealed secret) until told to stop. */
function writer(s: Session): { writes: Write[]; stop: () => Promise<void> } {
  const writes: Write[] = []
  let stopping = false
  const done = (async () => {
    for (let i = 0; !stopping; i++) {
      const id = `w${String(i).padStart(5, '0')}`
      const secret = `secret-${i}-${crypto.randomUUID()}`
      const sentAt = performance.now()
      // Port 9 (discard) refuses at once, so the create's first probe fails fast.
      const res = await s.call('POST', '/api/admin/backends', { id, endpoint: 'http://127.0.0.1:9', access_key: `AK${i}`, secret_key: secret })
      if (res.status !== 201) throw new Error(`write ${id}: ${res.status} ${await res.text()}`)
      writes.push({ id, secret, sentAt, ackedAt: performance.now() })
    }
  })()
  return {
    writes,
    stop: async () => {
      stopping = true
      await done
    },
  }
}

test('a backup taken during writes restores every acknowledged write and every sealed secret', async () => {
  const server = await startBinary(bin, dir, ['quickstart', '--data-dir', './data', '--listen', '127.0.0.1:0', '--no-s3'], {
    STOWAGE_RATELIMIT__API_PER_MINUTE: '0',
  })
  running.push(server)
  const session = await firstSignIn(server.url, await oneTimePassword(server.stderr), PASSWORD)

  // A database of realistic size, so the backup takes long enough for writes to race it.
  const db = new Database(join(dir, 'data', 'stowage.db'))
  db.exec('PRAGMA busy_timeout = 5000')
  const insert = db.query('INSERT INTO audit_events (ts, username, action, backend_id, bucket, object_key, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
  db.transaction(() => {
    for (let i = 0; i < AUDIT_ROWS; i++)
      insert.run(Date.now() - i * 1000, 'admin', 'object.put', 'local', 'photos', `2024/img-${i}.jpg`, 'ok', JSON.stringify({ size: i * 17 }))
  })()
  db.close()

  const w = writer(session)
  while (w.writes.length < 20) await Bun.sleep(10)
  const backupStarted = performance.now()
  const backup = await run(['backup', '--data-dir', './data', '--to', './live.tar'])
  const backupEnded = performance.now()
  // One write sent after the backup ended, which no snapshot can hold.
  while (!w.writes.some((x) => x.sentAt > backupEnded)) await Bun.sleep(10)
  await w.stop()
  expect(backup.stderr).toBe('')
  expect(backup.code).toBe(0)
  expect(backup.stdout).toContain('backup written to')
  expect(backup.stdout).toContain(`object bytes of fs backend "local" in ${join(dir, 'data', 'objects')}`)
  expect(statSync(join(dir, 'live.tar')).mode & 0o777).toBe(0o600)
  const during = w.writes.filter((x) => x.ackedAt > backupStarted && x.ackedAt < backupEnded)
  expect(during.length).toBeGreaterThan(0)

  server.proc.kill('SIGKILL')
  await server.proc.exited

  const restore = await run(['restore', '--from', './live.tar', '--data-dir', './restored'])
  expect(restore.stderr).toBe('')
  expect(restore.code).toBe(0)
  for (const f of ['stowage.db', 'stowage.key']) expect(statSync(join(dir, 'restored', f)).mode & 0o777).toBe(0o600)

  const restored = new Database(join(dir, 'restored', 'stowage.db'), { readonly: true })
  const rows = restored.query<{ id: string; secret_key_enc: Uint8Array }, []>("SELECT id, secret_key_enc FROM backends WHERE id LIKE 'w%' ORDER BY id").all()
  const audit = restored.query<{ n: number }, []>("SELECT count(*) AS n FROM audit_events WHERE action = 'object.put'").get()!.n
  restored.close()
  expect(audit).toBe(AUDIT_ROWS)
  const ackedBefore = w.writes.filter((x) => x.ackedAt < backupStarted)
  // A prefix of the writes in order: every acknowledged-before one, and no gap after it.
  expect(rows.map((r) => r.id)).toEqual(w.writes.slice(0, rows.length).map((x) => x.id))
  expect(rows.length).toBeGreaterThanOrEqual(ackedBefore.length)
  expect(rows.length).toBeLessThan(w.writes.findIndex((x) => x.sentAt > backupEnded) + 1)
  const sealer = createSealer(parseMasterKey(await Bun.file(join(dir, 'restored', 'stowage.key')).text())!)
  for (const [i, r] of rows.entries()) expect(sealer.open(r.secret_key_enc, sealContext(r.id))).toBe(w.writes[i]!.secret)

  // The restored directory is a working Stowage: the account, the backends and their secrets.
  const again = await startBinary(bin, dir, ['quickstart', '--data-dir', './restored', '--listen', '127.0.0.1:0', '--no-s3'])
  running.push(again)
  expect(again.stderr()).not.toContain('Password:')
  const ready = (await (await fetch(`${again.url}/readyz`)).json()) as { checks: Record<string, { ok: boolean }> }
  expect(ready.checks.secret_key?.ok).toBe(true)
  const admin = await signIn(again.url, 'admin', PASSWORD)
  const listed = (await (await admin.call('GET', '/api/admin/backends')).json()) as { backends: Array<{ id: string; secret_set: boolean }> }
  expect(listed.backends.filter((b) => b.id.startsWith('w')).map((b) => b.id)).toEqual(rows.map((r) => r.id))
  expect(again.stdout()).not.toContain('backend secret unreadable')
  again.proc.kill('SIGTERM')
  expect(await again.proc.exited).toBe(0)
  expect(existsSync(join(dir, 'restored', 'objects'))).toBe(true)
}, 180_000)
