// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `stowage backup` and `stowage restore` with the compiled binary, on real
 * SQLite files: where they find the database and the key, what the archive
 * holds, and every refusal (misuse, a running server, a newer database, an
 * existing one without --force, a damaged archive, the wrong key). A refused
 * restore leaves the target exactly as it was.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sealContext } from '../../src/backends/registry.ts'
import { createSealer, parseMasterKey } from '../../src/lib/seal.ts'
import { readTar, writeTar } from '../../src/lib/tar.ts'
import { MIGRATIONS } from '../../src/db/migrations.ts'
import { isolatedBinary, startBinary, type Running } from '../helpers/binary.ts'

let bin: string
let root: string
const servers: Running[] = []
beforeAll(() => {
  ;({ bin, dir: root } = isolatedBinary())
})
afterAll(() => {
  for (const s of servers) if (s.proc.exitCode === null) s.proc.kill('SIGKILL')
  rmSync(root, { recursive: true, force: true })
})

let n = 0
/** A fresh working directory under the binary's. */
function workDir(): string {
  const d = join(root, `case-${++n}`)
  mkdirSync(d)
  return d
}

type Result = { code: number; stdout: string; stderr: string }
async function stowage(cwd: string, args: string[], opts: { env?: Record<string, string>; umask?: string } = {}): Promise<Result> {
  const argv = opts.umask ? ['/bin/sh', '-c', `umask ${opts.umask} && exec "$@"`, 'sh', bin, ...args] : [bin, ...args]
  const p = Bun.spawn(argv, { cwd, env: { PATH: '/usr/bin:/bin', HOME: cwd, ...opts.env }, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { code, stdout, stderr }
}

/** A stopped quickstart data directory with one marker user and one sealed backend secret. */
async function dataDir(cwd: string, name: string, marker: string, env: Record<string, string> = {}): Promise<string> {
  const s = await startBinary(bin, cwd, ['quickstart', '--data-dir', name, '--listen', '127.0.0.1:0', '--no-s3'], env)
  s.proc.kill('SIGTERM')
  expect(await s.proc.exited).toBe(0)
  const dir = join(cwd, name)
  const key = parseMasterKey(env.STOWAGE_SECRET_KEY ?? readFileSync(join(dir, 'stowage.key'), 'utf8'))!
  const db = new Database(join(dir, 'stowage.db'))
  const now = Date.now()
  db.query("INSERT INTO users (id, username, password_hash, role, created_at) VALUES (?, ?, 'x', 'user', ?)").run(`id-${marker}`, marker, now)
  db.query(
    "INSERT INTO backends (id, name, type, endpoint, access_key, secret_key_enc, created_at, updated_at) VALUES (?, ?, 's3', 'http://127.0.0.1:9', 'AK', ?, ?, ?)",
  ).run(marker, marker, createSealer(key).seal(`secret of ${marker}`, sealContext(marker)), now, now)
  db.close()
  return dir
}

function usernames(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true })
  try {
    return db
      .query<{ username: string }, []>('SELECT username FROM users ORDER BY username')
      .all()
      .map((u) => u.username)
  } finally {
    db.close()
  }
}

function snapshotOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, f)
    if (statSync(p).isFile()) out[f] = Bun.hash(readFileSync(p)).toString()
  }
  return out
}

describe('misuse', () => {
  test('missing or conflicting options exit 2 with a message', async () => {
    const cwd = workDir()
    const cases: Array<[string[], string]> = [
      [['backup'], '--to FILE is required'],
      [['backup', '--to', 'x.tar', '--config', 'c.yaml', '--data-dir', 'd'], 'give --config or --data-dir, not both'],
      [['restore', '--data-dir', 'd'], '--from FILE is required'],
      [['restore', '--from', 'x.tar'], '--data-dir DIR or --config PATH is required'],
      [['restore', '--from', 'x.tar', '--data-dir'], '--data-dir needs a value'],
      [['backup', '--to', 'x.tar', 'extra'], 'unexpected argument'],
    ]
    const results = await Promise.all(cases.map(([args]) => stowage(cwd, args)))
    results.forEach((r, i) => {
      expect([cases[i]![0], r.code]).toEqual([cases[i]![0], 2])
      expect(r.stderr).toContain(cases[i]![1])
    })
  }, 60_000)

  test('--help describes both commands', async () => {
    const cwd = workDir()
    for (const cmd of ['backup', 'restore']) {
      const r = await stowage(cwd, [cmd, '--help'])
      expect(r.code).toBe(0)
      expect(r.stdout).toStartWith(`Usage: stowage ${cmd}`)
    }
  }, 60_000)
})

describe('backup', () => {
  test('writes a 0600 tar that plain `tar` extracts into a working database and key, whatever the umask', async () => {
    const cwd = workDir()
    const dir = await dataDir(cwd, 'data', 'alice')
    const r = await stowage(cwd, ['backup', '--data-dir', 'data', '--to', 'b.tar'], { umask: '000' })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(statSync(join(cwd, 'b.tar')).mode & 0o777).toBe(0o600)
    expect(r.stdout).not.toContain(readFileSync(join(dir, 'stowage.key'), 'utf8').trim())

    const list = Bun.spawnSync(['tar', '-tvf', 'b.tar'], { cwd })
    const lines = list.stdout.toString().trim().split('\n')
    expect(lines.map((l) => l.split(/\s+/).at(-1))).toEqual(['manifest.json', 'stowage.db', 'stowage.key'])
    for (const l of lines) expect(l).toStartWith('-rw-------')
    mkdirSync(join(cwd, 'by-hand'))
    expect(Bun.spawnSync(['tar', '-xf', '../b.tar'], { cwd: join(cwd, 'by-hand') }).exitCode).toBe(0)
    expect(readFileSync(join(cwd, 'by-hand', 'stowage.key'))).toEqual(readFileSync(join(dir, 'stowage.key')))
    expect(usernames(join(cwd, 'by-hand', 'stowage.db'))).toEqual(['admin', 'alice'])

    const manifest = JSON.parse(readFileSync(join(cwd, 'by-hand', 'manifest.json'), 'utf8'))
    expect(manifest).toMatchObject({
      format: 'stowage-backup',
      format_version: 1,
      schema_version: MIGRATIONS.at(-1)!.version,
      master_key: 'file',
      sealed_secrets: { total: 1, unreadable: 0 },
    })
    expect(manifest.key_id).toBe(createSealer(parseMasterKey(readFileSync(join(dir, 'stowage.key'), 'utf8'))!).keyId)
    expect(manifest.files.map((f: { name: string }) => f.name)).toEqual(['stowage.db', 'stowage.key'])
    expect(manifest.files[0].sha256).toBe(new Bun.CryptoHasher('sha256').update(readFileSync(join(cwd, 'by-hand', 'stowage.db'))).digest('hex'))
    expect(manifest.not_included[0]).toBe(`object bytes of fs backend "local" in ${join(dir, 'objects')}: back up that directory itself`)
  }, 60_000)

  test('a .tar.gz name gives a gzip archive that restores', async () => {
    const cwd = workDir()
    await dataDir(cwd, 'data', 'bob')
    expect((await stowage(cwd, ['backup', '--data-dir', 'data', '--to', 'b.tar.gz'])).code).toBe(0)
    expect([...readFileSync(join(cwd, 'b.tar.gz')).subarray(0, 2)]).toEqual([0x1f, 0x8b])
    expect(Bun.spawnSync(['tar', '-tzf', 'b.tar.gz'], { cwd }).stdout.toString().split('\n').filter(Boolean)).toEqual([
      'manifest.json',
      'stowage.db',
      'stowage.key',
    ])
    const r = await stowage(cwd, ['restore', '--from', 'b.tar.gz', '--data-dir', 'copy'])
    expect(r.code).toBe(0)
    expect(usernames(join(cwd, 'copy', 'stowage.db'))).toEqual(['admin', 'bob'])
  }, 60_000)

  test('never replaces an existing file, and refuses a missing or foreign database', async () => {
    const cwd = workDir()
    await dataDir(cwd, 'data', 'carol')
    writeFileSync(join(cwd, 'taken.tar'), 'keep me')
    const taken = await stowage(cwd, ['backup', '--data-dir', 'data', '--to', 'taken.tar'])
    expect(taken.code).toBe(1)
    expect(taken.stderr).toContain('already exists; a backup never replaces a file')
    expect(readFileSync(join(cwd, 'taken.tar'), 'utf8')).toBe('keep me')
    const missing = await stowage(cwd, ['backup', '--data-dir', 'nowhere', '--to', 'x.tar'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain(`no database at ${join(cwd, 'nowhere', 'stowage.db')}`)
    mkdirSync(join(cwd, 'foreign'))
    new Database(join(cwd, 'foreign', 'stowage.db'), { create: true }).exec('CREATE TABLE t (x)')
    const foreign = await stowage(cwd, ['backup', '--data-dir', 'foreign', '--to', 'x.tar'])
    expect(foreign.code).toBe(1)
    expect(foreign.stderr).toContain('is not a Stowage database')
    expect(readdirSync(cwd).filter((f) => f.startsWith('.') || f === 'x.tar')).toEqual([])
  }, 60_000)

  test('--config finds the database, a key file kept elsewhere and the fs backends as serve would, without the backends secrets', async () => {
    const cwd = workDir()
    mkdirSync(join(cwd, 'keys'))
    const config = (db: string, key: string) =>
      `server:\n  listen: 127.0.0.1:0\n  secret_key_file: ${key}\ndb:\n  sqlite:\n    path: ${db}\nbackends:\n  - id: nas\n    type: fs\n    root: ${join(cwd, 'nas')}\n  - id: minio\n    type: s3\n    endpoint: http://127.0.0.1:9\n    access_key_env: MINIO_ACCESS\n    secret_key_env: MINIO_SECRET\n`
    writeFileSync(join(cwd, 'a.yaml'), config(join(cwd, 'state', 'main.db'), join(cwd, 'keys', 'master.key')))
    mkdirSync(join(cwd, 'nas'))
    const s = await startBinary(bin, cwd, ['serve', '--config', 'a.yaml'], { MINIO_ACCESS: 'a', MINIO_SECRET: 'b' })
    const r = await stowage(cwd, ['backup', '--config', 'a.yaml', '--to', 'c.tar'])
    s.proc.kill('SIGTERM')
    expect(await s.proc.exited).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`database  ${join(cwd, 'state', 'main.db')}`)
    expect(r.stdout).toContain(`master key from ${join(cwd, 'keys', 'master.key')}`)
    expect(r.stdout).toContain(`object bytes of fs backend "nas" in ${join(cwd, 'nas')}`)

    writeFileSync(join(cwd, 'b.yaml'), config(join(cwd, 'other', 'b.db'), join(cwd, 'other-keys', 'b.key')))
    const back = await stowage(cwd, ['restore', '--from', 'c.tar', '--config', 'b.yaml'])
    expect(back.stderr).toBe('')
    expect(back.code).toBe(0)
    expect(readFileSync(join(cwd, 'other-keys', 'b.key'))).toEqual(readFileSync(join(cwd, 'keys', 'master.key')))
    expect(usernames(join(cwd, 'other', 'b.db'))).toEqual([])
  }, 60_000)

  test('a key from STOWAGE_SECRET_KEY stays out of the archive, and restore checks the one it is given', async () => {
    const cwd = workDir()
    const key = 'ab'.repeat(32)
    await dataDir(cwd, 'data', 'dave', { STOWAGE_SECRET_KEY: key })
    const r = await stowage(cwd, ['backup', '--data-dir', 'data', '--to', 'e.tar'], { env: { STOWAGE_SECRET_KEY: key } })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('the master key is in STOWAGE_SECRET_KEY')
    expect(r.stdout).toContain('the master key: it is in STOWAGE_SECRET_KEY; keep it with this backup')
    expect(Bun.spawnSync(['tar', '-tf', 'e.tar'], { cwd }).stdout.toString().split('\n').filter(Boolean)).toEqual(['manifest.json', 'stowage.db'])
    expect(readFileSync(join(cwd, 'e.tar')).includes(Buffer.from(key))).toBe(false)

    const wrong = await stowage(cwd, ['restore', '--from', 'e.tar', '--data-dir', 'x'], { env: { STOWAGE_SECRET_KEY: 'cd'.repeat(32) } })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('STOWAGE_SECRET_KEY does not open 1 of 1 sealed secrets (backends/dave)')
    expect(existsSync(join(cwd, 'x', 'stowage.db'))).toBe(false)
    const without = await stowage(cwd, ['restore', '--from', 'e.tar', '--data-dir', 'y'])
    expect(without.code).toBe(0)
    expect(without.stderr).toContain('need the master key that was in STOWAGE_SECRET_KEY')
    expect(existsSync(join(cwd, 'y', 'stowage.key'))).toBe(false)
    const right = await stowage(cwd, ['restore', '--from', 'e.tar', '--data-dir', 'z'], { env: { STOWAGE_SECRET_KEY: key } })
    expect(right.stderr).toBe('')
    expect(right.code).toBe(0)
  }, 60_000)
})

describe('restore refuses', () => {
  test('a database a running server has open', async () => {
    const cwd = workDir()
    await dataDir(cwd, 'data', 'erin')
    expect((await stowage(cwd, ['backup', '--data-dir', 'data', '--to', 'b.tar'])).code).toBe(0)
    const s = await startBinary(bin, cwd, ['quickstart', '--data-dir', 'data', '--listen', '127.0.0.1:0', '--no-s3'])
    servers.push(s)
    // The live server may write meanwhile, so "untouched" is: the same files, the same database inode.
    const state = () => ({ files: readdirSync(join(cwd, 'data')).sort(), inode: statSync(join(cwd, 'data', 'stowage.db')).ino })
    const before = state()
    for (const force of [[], ['--force']]) {
      const r = await stowage(cwd, ['restore', '--from', 'b.tar', '--data-dir', 'data', ...force])
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`${join(cwd, 'data', 'stowage.db')} is open in another process (a running Stowage?); stop it, then restore`)
    }
    expect(state()).toEqual(before)
    s.proc.kill('SIGKILL')
    await s.proc.exited
    // A killed server holds no lock: nothing stale blocks the restore.
    const after = await stowage(cwd, ['restore', '--from', 'b.tar', '--data-dir', 'data', '--force'])
    expect(after.stderr).toBe('')
    expect(after.code).toBe(0)
  }, 60_000)

  test('a database at a newer schema version than the backup, even with --force', async () => {
    const cwd = workDir()
    await dataDir(cwd, 'data', 'frank')
    expect((await stowage(cwd, ['backup', '--data-dir', 'data', '--to', 'b.tar'])).code).toBe(0)
    const db = new Database(join(cwd, 'data', 'stowage.db'))
    db.exec("INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 0)")
    db.close()
    const before = snapshotOf(join(cwd, 'data'))
    for (const force of [[], ['--force']]) {
      const r = await stowage(cwd, ['restore', '--from', 'b.tar', '--data-dir', 'data', ...force])
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`is at schema version 999, newer than the backup (${MIGRATIONS.at(-1)!.version})`)
    }
    expect(snapshotOf(join(cwd, 'data'))).toEqual(before)
  }, 60_000)

  test('an existing database without --force; with it, keeps the old files aside', async () => {
    const cwd = workDir()
    await dataDir(cwd, 'data', 'grace')
    expect((await stowage(cwd, ['backup', '--data-dir', 'data', '--to', 'b.tar'])).code).toBe(0)
    await dataDir(cwd, 'other', 'heidi')
    const before = snapshotOf(join(cwd, 'other'))
    const oldKey = readFileSync(join(cwd, 'other', 'stowage.key'))
    const refused = await stowage(cwd, ['restore', '--from', 'b.tar', '--data-dir', 'other'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('already exists; --force replaces it')
    expect(snapshotOf(join(cwd, 'other'))).toEqual(before)

    const forced = await stowage(cwd, ['restore', '--from', 'b.tar', '--data-dir', 'other', '--force'])
    expect(forced.stderr).toBe('')
    expect(forced.code).toBe(0)
    expect(usernames(join(cwd, 'other', 'stowage.db'))).toEqual(['admin', 'grace'])
    expect(readFileSync(join(cwd, 'other', 'stowage.key'))).toEqual(readFileSync(join(cwd, 'data', 'stowage.key')))
    const aside = readdirSync(join(cwd, 'other'))
      .filter((f) => f.includes('.before-restore-'))
      .sort()
    expect(aside).toHaveLength(2)
    expect(aside[0]).toMatch(/^stowage\.db\.before-restore-\d{8}T\d{6}Z$/)
    expect(usernames(join(cwd, 'other', aside[0]!))).toEqual(['admin', 'heidi'])
    expect(aside[1]).toMatch(/^stowage\.key\.before-restore-\d{8}T\d{6}Z$/)
    expect(readFileSync(join(cwd, 'other', aside[1]!))).toEqual(oldKey)
    expect(forced.stdout).toContain(`kept      ${join(cwd, 'other', aside[0]!)}`)
  }, 60_000)

  test('damaged, truncated, foreign or too-new archives, leaving the target untouched', async () => {
    const cwd = workDir()
    await dataDir(cwd, 'data', 'ivan')
    expect((await stowage(cwd, ['backup', '--data-dir', 'data', '--to', 'good.tar'])).code).toBe(0)
    expect((await stowage(cwd, ['backup', '--data-dir', 'data', '--to', 'good.tar.gz'])).code).toBe(0)
    const good = readFileSync(join(cwd, 'good.tar'))
    const dbAt = good.indexOf(Buffer.from('SQLite format 3\0'))
    expect(dbAt).toBeGreaterThan(0)

    const flipped = Buffer.from(good)
    flipped[dbAt + 5000] = flipped[dbAt + 5000]! ^ 0xff
    writeFileSync(join(cwd, 'flipped.tar'), flipped)
    writeFileSync(join(cwd, 'truncated.tar'), good.subarray(0, dbAt + 4096))
    // A gzip header naming an unknown compression method: gunzip itself must fail.
    const gz = Buffer.from(readFileSync(join(cwd, 'good.tar.gz')))
    gz[2] = 0x09
    writeFileSync(join(cwd, 'bad.tar.gz'), gz)
    writeFileSync(join(cwd, 'random.tar'), crypto.getRandomValues(new Uint8Array(4096)))

    // A well-formed archive whose manifest claims a schema this binary does not know.
    const members: Array<{ name: string; bytes: Uint8Array }> = []
    for await (const m of readTar(
      (async function* () {
        yield good
      })(),
    )) {
      const parts: Uint8Array[] = []
      for await (const c of m.body) parts.push(c)
      members.push({ name: m.name, bytes: Buffer.concat(parts) })
    }
    const manifest = JSON.parse(new TextDecoder().decode(members[0]!.bytes))
    members[0]!.bytes = new TextEncoder().encode(JSON.stringify({ ...manifest, schema_version: 999, stowage_version: '9.9.9' }))
    const chunks: Uint8Array[] = []
    for await (const c of writeTar(
      members.map((m) => ({
        name: m.name,
        size: m.bytes.byteLength,
        mode: 0o600,
        mtimeMs: 0,
        body: async function* () {
          yield m.bytes
        },
      })),
    ))
      chunks.push(c)
    writeFileSync(join(cwd, 'future.tar'), Buffer.concat(chunks))

    const cases: Array<[string, string]> = [
      ['flipped.tar', 'stowage.db in the archive does not match its checksum (the archive is damaged)'],
      ['truncated.tar', 'archive is truncated inside stowage.db'],
      ['bad.tar.gz', 'the archive is damaged (gzip'],
      ['random.tar', 'not a tar archive'],
      ['future.tar', 'the backup is at schema version 999, newer than this Stowage knows'],
      ['missing.tar', 'no backup file at'],
    ]
    for (const [file, message] of cases) {
      const r = await stowage(cwd, ['restore', '--from', file, '--data-dir', 'target'])
      expect([file, r.code]).toEqual([file, 1])
      expect(r.stderr).toContain(message)
      expect(existsSync(join(cwd, 'target'))).toBe(false)
    }
  }, 60_000)

  test('a different key file at the target without --force', async () => {
    const cwd = workDir()
    await dataDir(cwd, 'data', 'judy')
    expect((await stowage(cwd, ['backup', '--data-dir', 'data', '--to', 'b.tar'])).code).toBe(0)
    mkdirSync(join(cwd, 'target'))
    writeFileSync(join(cwd, 'target', 'stowage.key'), 'ef'.repeat(32) + '\n', { mode: 0o600 })
    const r = await stowage(cwd, ['restore', '--from', 'b.tar', '--data-dir', 'target'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('stowage.key holds a different key; --force replaces it')
    expect(readdirSync(join(cwd, 'target'))).toEqual(['stowage.key'])
  }, 60_000)
})

describe('as root, for a service user’s files', () => {
  test('backup refuses a database another user owns; restore gives the files to the directory’s owner', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs root (it hands files to another user); CI runs as root')
    const cwd = workDir()
    await dataDir(cwd, 'data', 'kim')
    const service = 65532
    Bun.spawnSync(['chown', '-R', `${service}:${service}`, join(cwd, 'data')])
    const refused = await stowage(cwd, ['backup', '--data-dir', 'data', '--to', 'b.tar'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`belongs to uid ${service}; run backup as that user`)
    expect(existsSync(join(cwd, 'b.tar'))).toBe(false)

    // The service user must reach the binary and the data (temp directories are 0700).
    chmodSync(root, 0o755)
    const asService = Bun.spawn(
      ['setpriv', `--reuid=${service}`, `--regid=${service}`, '--clear-groups', bin, 'backup', '--data-dir', 'data', '--to', join(cwd, 'data', 'b.tar')],
      { cwd, env: { PATH: '/usr/bin:/bin' }, stderr: 'pipe', stdout: 'pipe' },
    )
    expect([await asService.exited, await new Response(asService.stderr).text()]).toEqual([0, ''])
    expect(statSync(join(cwd, 'data', 'b.tar')).uid).toBe(service)

    mkdirSync(join(cwd, 'target'))
    Bun.spawnSync(['chown', `${service}:${service}`, join(cwd, 'target')])
    const r = await stowage(cwd, ['restore', '--from', join(cwd, 'data', 'b.tar'), '--data-dir', 'target'])
    expect(r.code).toBe(0)
    for (const f of readdirSync(join(cwd, 'target')))
      expect([f, statSync(join(cwd, 'target', f)).uid, statSync(join(cwd, 'target', f)).gid]).toEqual([f, service, service])
  }, 60_000)
})
