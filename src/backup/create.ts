// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `stowage backup`: a consistent copy of the database and the master key in
 * one archive, safe while the server runs. `VACUUM INTO` reads the database in
 * one read transaction, so the snapshot holds every write committed before it
 * began and none after, and on a WAL database it never blocks the server's
 * writes. (bun:sqlite has no online-backup API; `serialize()` would hold the
 * whole database in memory.)
 */
import { Database } from 'bun:sqlite'
import { createHash } from 'node:crypto'
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import type { DataPaths } from '../cli/data-paths.ts'
import { fsyncDir } from '../lib/fsync-dir.ts'
import { createSealer, parseMasterKey } from '../lib/seal.ts'
import { writeTar, type TarEntry } from '../lib/tar.ts'
import { readSchemaVersion } from '../sqlite/migrate.ts'
import { MIGRATIONS } from '../db/migrations.ts'
import { VERSION } from '../version.ts'
import { BackupError, DATABASE, FORMAT, FORMAT_VERSION, isGzipName, KEY, MANIFEST, sha256File, type Manifest } from './format.ts'
import { checkSealedSecrets, type SealedCheck } from './sealed.ts'

export type BackupResult = { file: string; bytes: number; ms: number; manifest: Manifest; warnings: string[] }

type MasterKey = { mode: Manifest['master_key']; key?: Uint8Array; file?: Uint8Array }

function masterKey(paths: DataPaths): MasterKey {
  if (paths.envKey) {
    const key = parseMasterKey(paths.envKey)
    if (!key) throw new BackupError('STOWAGE_SECRET_KEY is set but is not a valid key (64 hex characters or base64 of 32 bytes)')
    return { mode: 'environment', key }
  }
  if (!existsSync(paths.keyFile)) return { mode: 'none' }
  const file = readFileSync(paths.keyFile)
  const key = parseMasterKey(file.toString('utf8'))
  if (!key) throw new BackupError(`${paths.keyFile} does not hold a valid master key`)
  return { mode: 'file', key, file }
}

function notIncluded(paths: DataPaths, mode: Manifest['master_key']): string[] {
  const out = paths.fsBackends.map((b) => `object bytes of fs backend "${b.id}" in ${b.root}: back up that directory itself`)
  out.push('object bytes in s3 backends: they stay in your storage')
  out.push('the config file and the environment (STOWAGE_* variables, the secrets named by *_env keys)')
  if (mode === 'environment') out.push('the master key: it is in STOWAGE_SECRET_KEY; keep it with this backup')
  return out
}

/** VACUUM INTO `into`, then reads back what the manifest needs from the copy. */
function snapshot(database: string, into: string, key: Uint8Array | undefined): { takenAt: number; schemaVersion: number; sealed: SealedCheck } {
  const source = new Database(database, { readwrite: true, create: false })
  let takenAt: number
  try {
    source.exec('PRAGMA busy_timeout = 5000')
    const version = readSchemaVersion(source)
    if (version === undefined) throw new BackupError(`${database} is not a Stowage database (it has no schema_migrations table)`)
    const known = MIGRATIONS.at(-1)!.version
    if (version > known)
      throw new BackupError(`the database is at schema version ${version}, newer than this Stowage knows (${known}); back it up with the Stowage that runs it`)
    takenAt = Date.now()
    source.run('VACUUM INTO ?', [into])
  } finally {
    source.close()
  }
  const copy = new Database(into, { readonly: true })
  try {
    return { takenAt, schemaVersion: readSchemaVersion(copy)!, sealed: checkSealedSecrets(copy, key) }
  } finally {
    copy.close()
  }
}

/** Writes the tar (gzipped for a .gz/.tgz name) to `part`, exactly 0600 whatever the umask: it holds the master key. */
async function writeArchive(part: string, gzip: boolean, members: Array<TarEntry & { body: () => AsyncIterable<Uint8Array> }>): Promise<void> {
  const fd = openSync(part, 'wx', 0o600)
  try {
    fchmodSync(fd, 0o600)
    const out = createWriteStream('', { fd, autoClose: false })
    const tar = Readable.from(writeTar(members))
    await (gzip ? pipeline(tar, createGzip(), out) : pipeline(tar, out))
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

export async function createBackup(paths: DataPaths, to: string): Promise<BackupResult> {
  const started = performance.now()
  const file = resolve(to)
  if (existsSync(file)) throw new BackupError(`${file} already exists; a backup never replaces a file (put the date in its name)`)
  if (!existsSync(dirname(file))) throw new BackupError(`directory ${dirname(file)} does not exist`)
  if (!existsSync(paths.database)) throw new BackupError(`no database at ${paths.database}`)
  const owner = statSync(paths.database).uid
  // SQLite creates the -wal and -shm files as whoever opens the database; left
  // behind by an interrupted root run, they would lock the service out.
  if (process.getuid?.() === 0 && owner !== 0)
    throw new BackupError(`${paths.database} belongs to uid ${owner}; run backup as that user (e.g. sudo -u stowage stowage backup …), not as root`)
  const key = masterKey(paths)
  const warnings: string[] = []
  if (key.mode === 'none') warnings.push(`no master key (${paths.keyFile} does not exist and STOWAGE_SECRET_KEY is not set): the archive holds none`)

  // The snapshot and the archive are made in a private directory next to the
  // target, so the archive appears under its name complete or not at all.
  const work = mkdtempSync(join(dirname(file), `.${basename(file)}.`))
  try {
    const db = join(work, DATABASE)
    const snap = snapshot(paths.database, db, key.key)
    if (snap.sealed.unreadable.length) {
      warnings.push(
        `${snap.sealed.unreadable.length} of ${snap.sealed.total} sealed secrets do not open with the master key (${snap.sealed.unreadable.slice(0, 5).join(', ')}); the server cannot read them either`,
      )
    }
    const dbSize = statSync(db).size
    const files: Manifest['files'] = [{ name: DATABASE, size: dbSize, sha256: await sha256File(db) }]
    if (key.file) files.push({ name: KEY, size: key.file.byteLength, sha256: createHash('sha256').update(key.file).digest('hex') })
    const manifest: Manifest = {
      format: FORMAT,
      format_version: FORMAT_VERSION,
      created_at: new Date(snap.takenAt).toISOString(),
      stowage_version: VERSION,
      schema_version: snap.schemaVersion,
      source: { database: paths.database, ...(key.mode === 'file' ? { key_file: paths.keyFile } : {}) },
      master_key: key.mode,
      ...(key.key ? { key_id: createSealer(key.key).keyId } : {}),
      sealed_secrets: { total: snap.sealed.total, unreadable: snap.sealed.unreadable.length },
      files,
      not_included: notIncluded(paths, key.mode),
    }
    const bytes = (data: Uint8Array) =>
      async function* () {
        yield data
      }
    const member = (name: string, size: number, body: () => AsyncIterable<Uint8Array>) => ({ name, size, mode: 0o600, mtimeMs: snap.takenAt, body })
    const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n')
    const part = join(work, 'archive')
    await writeArchive(part, isGzipName(file), [
      member(MANIFEST, manifestBytes.byteLength, bytes(manifestBytes)),
      member(DATABASE, dbSize, () => createReadStream(db)),
      ...(key.file ? [member(KEY, key.file.byteLength, bytes(key.file))] : []),
    ])
    // link() refuses an existing name, so a file that appeared meanwhile is not replaced.
    try {
      linkSync(part, file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new BackupError(`${file} already exists; a backup never replaces a file`)
      throw err
    }
    fsyncDir(dirname(file))
    return { file, bytes: statSync(file).size, ms: performance.now() - started, manifest, warnings }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
