// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * `stowage restore`: puts a backup's database and key where the server will
 * look for them, after proving the archive whole. Nothing in the target
 * changes until every member matched its checksum, the database passed
 * `PRAGMA integrity_check` and the key opened the sealed secrets. Refused:
 * - a database another process has open (a running server; see src/sqlite/in-use.ts);
 * - a database at a newer schema version than the backup: restoring would roll
 *   back migrations a newer Stowage applied, which is a downgrade to do by hand;
 * - a backup at a schema version newer than this binary knows;
 * - replacing an existing database or a different key file without --force,
 *   which then keeps them as `<name>.before-restore-<time>`.
 */
import { Database } from 'bun:sqlite'
import { createHash, randomBytes } from 'node:crypto'
import {
  chownSync,
  closeSync,
  createReadStream,
  existsSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { createGunzip } from 'node:zlib'
import type { DataPaths } from '../cli/data-paths.ts'
import { fsyncDir } from '../lib/fsync-dir.ts'
import { parseMasterKey } from '../lib/seal.ts'
import { readTar, TarError } from '../lib/tar.ts'
import { databaseInUse } from '../sqlite/in-use.ts'
import { readSchemaVersion } from '../sqlite/migrate.ts'
import { MIGRATIONS } from '../db/migrations.ts'
import { BackupError, DATABASE, KEY, MANIFEST, MANIFEST_MAX_BYTES, parseManifest, type Manifest } from './format.ts'
import { checkSealedSecrets } from './sealed.ts'

export type RestoreResult = { manifest: Manifest; database: string; keyFile?: string; keptAside: string[]; warnings: string[] }

function openArchive(path: string): AsyncIterable<Uint8Array> {
  const fd = openSync(path, 'r')
  const magic = Buffer.alloc(2)
  try {
    readSync(fd, magic, 0, 2, 0)
  } finally {
    closeSync(fd)
  }
  const raw = createReadStream(path)
  return magic[0] === 0x1f && magic[1] === 0x8b ? raw.pipe(createGunzip()) : raw
}

function stamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
}

/** Refuses a target database that is newer than the backup, or (without --force) there at all. */
function checkTargetDatabase(paths: DataPaths, manifest: Manifest, force: boolean): void {
  if (!existsSync(paths.database)) return
  // Read-write, so that closing the last connection removes the -wal and -shm it created.
  const db = new Database(paths.database, { readwrite: true, create: false })
  let version: number | undefined
  try {
    version = readSchemaVersion(db)
  } finally {
    db.close()
  }
  if (version !== undefined && version > manifest.schema_version) {
    throw new BackupError(
      `${paths.database} is at schema version ${version}, newer than the backup (${manifest.schema_version}): restoring would undo migrations; move it away yourself if you mean to go back`,
    )
  }
  if (!force)
    throw new BackupError(
      `${paths.database} already exists; --force replaces it and keeps the current files as ${basename(paths.database)}.before-restore-<time>`,
    )
}

async function extractTo(body: AsyncIterable<Uint8Array>, target: string): Promise<{ temp: string; size: number; sha256: string }> {
  const temp = join(dirname(target), `.${basename(target)}.restore-${randomBytes(4).toString('hex')}`)
  const fd = openSync(temp, 'wx', 0o600)
  const hash = createHash('sha256')
  let size = 0
  try {
    fchmodSync(fd, 0o600)
    for await (const chunk of body) {
      hash.update(chunk)
      size += chunk.byteLength
      let off = 0
      while (off < chunk.byteLength) off += writeSync(fd, chunk, off)
    }
    fsyncSync(fd)
  } catch (err) {
    rmSync(temp, { force: true })
    throw err
  } finally {
    closeSync(fd)
  }
  return { temp, size, sha256: hash.digest('hex') }
}

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const chunk of body) parts.push(chunk)
  return Buffer.concat(parts).toString('utf8')
}

type Extracted = Map<string, { temp: string; size: number; sha256: string }>

/** Streams the members after the manifest into temp files beside their targets, each checked against the manifest. */
async function extractMembers(
  members: AsyncGenerator<{ name: string; body: AsyncIterable<Uint8Array> }>,
  manifest: Manifest,
  targets: Record<string, string>,
  into: Extracted,
): Promise<void> {
  for (let m = await members.next(); !m.done; m = await members.next()) {
    const listed = manifest.files.find((f) => f.name === m.value.name)
    if (!listed || into.has(listed.name))
      throw new BackupError(`unexpected member ${JSON.stringify(m.value.name)} in the archive (it is damaged or not one of ours)`)
    const got = await extractTo(m.value.body, targets[listed.name]!)
    into.set(listed.name, got)
    if (got.size !== listed.size || got.sha256 !== listed.sha256)
      throw new BackupError(`${listed.name} in the archive does not match its checksum (the archive is damaged)`)
  }
  const missing = manifest.files.filter((f) => !into.has(f.name)).map((f) => f.name)
  if (missing.length) throw new BackupError(`the archive lacks ${missing.join(', ')} (it is truncated)`)
}

/** Integrity, schema version, and the sealed secrets against the key the server will use (the environment's when set, as the server prefers it). */
function verifyDatabase(path: string, manifest: Manifest, envKey: string | undefined, archivedKey: Buffer | undefined, warnings: string[]): void {
  const db = new Database(path, { readonly: true })
  try {
    const integrity = db.query<{ integrity_check: string }, []>('PRAGMA integrity_check').all()
    if (integrity.length !== 1 || integrity[0]!.integrity_check !== 'ok')
      throw new BackupError(
        `the database in the archive fails PRAGMA integrity_check: ${integrity
          .slice(0, 3)
          .map((r) => r.integrity_check)
          .join('; ')}`,
      )
    if (readSchemaVersion(db) !== manifest.schema_version)
      throw new BackupError('the database in the archive is not at the schema version its manifest states (the archive is damaged)')
    const key = envKey ? parseMasterKey(envKey) : archivedKey ? parseMasterKey(archivedKey.toString('utf8')) : undefined
    if (envKey && !key) throw new BackupError('STOWAGE_SECRET_KEY is set but is not a valid key')
    if (key) {
      const sealed = checkSealedSecrets(db, key)
      if (sealed.unreadable.length > manifest.sealed_secrets.unreadable) {
        throw new BackupError(
          `${envKey ? 'STOWAGE_SECRET_KEY' : 'the archived key'} does not open ${sealed.unreadable.length} of ${sealed.total} sealed secrets (${sealed.unreadable.slice(0, 5).join(', ')}); it is not the key they were sealed with`,
        )
      }
    } else if (manifest.sealed_secrets.total > 0) {
      warnings.push(
        `the ${manifest.sealed_secrets.total} sealed secrets need the master key that was in STOWAGE_SECRET_KEY (key id ${manifest.key_id ?? 'unknown'}); set it before starting Stowage`,
      )
    }
  } finally {
    db.close()
  }
}

function refuseInUse(database: string): void {
  if (existsSync(database) && databaseInUse(database))
    throw new BackupError(`${database} is open in another process (a running Stowage?); stop it, then restore`)
}

export async function restoreBackup(from: string, paths: DataPaths, opts: { force: boolean }): Promise<RestoreResult> {
  const archive = resolve(from)
  if (!existsSync(archive) || !statSync(archive).isFile()) throw new BackupError(`no backup file at ${archive}`)
  const temps: Extracted = new Map()
  const createdDirs: string[] = []
  let restored = false
  try {
    const members = readTar(openArchive(archive))
    const first = await members.next()
    if (first.done || first.value.name !== MANIFEST) throw new BackupError('not a Stowage backup (it does not start with manifest.json)')
    if (first.value.size > MANIFEST_MAX_BYTES) throw new BackupError('not a Stowage backup (manifest.json is too large)')
    const manifest = parseManifest(await text(first.value.body))
    const known = MIGRATIONS.at(-1)!.version
    if (manifest.schema_version > known) {
      throw new BackupError(
        `the backup is at schema version ${manifest.schema_version}, newer than this Stowage knows (${known}); restore it with Stowage ${manifest.stowage_version} or later`,
      )
    }
    refuseInUse(paths.database)
    checkTargetDatabase(paths, manifest, opts.force)

    for (const dir of new Set([dirname(paths.database), dirname(paths.keyFile)])) {
      const created = mkdirSync(dir, { recursive: true, mode: 0o700 })
      if (created) createdDirs.push(created)
    }
    const targets: Record<string, string> = { [DATABASE]: paths.database, [KEY]: paths.keyFile }
    await extractMembers(members, manifest, targets, temps)
    const archivedKey = temps.has(KEY) ? readFileSync(temps.get(KEY)!.temp) : undefined
    const replacesKey = archivedKey !== undefined && existsSync(paths.keyFile) && !readFileSync(paths.keyFile).equals(archivedKey)
    if (replacesKey && !opts.force)
      throw new BackupError(`${paths.keyFile} holds a different key; --force replaces it and keeps it as ${basename(paths.keyFile)}.before-restore-<time>`)
    const warnings: string[] = []
    verifyDatabase(temps.get(DATABASE)!.temp, manifest, paths.envKey, archivedKey, warnings)

    // Extraction takes a while for a large database: a server may have started meanwhile.
    refuseInUse(paths.database)
    const keptAside: string[] = []
    const aside = `.before-restore-${stamp(Date.now())}`
    const moveAside = (path: string, to: string) => {
      renameSync(path, to)
      keptAside.push(to)
    }
    // `stowage.db-wal` becomes `stowage.db.before-restore-T-wal`, so SQLite still pairs it with its
    // database; a stray -wal left without its database would otherwise be replayed into the restored one.
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(paths.database + suffix)) moveAside(paths.database + suffix, paths.database + aside + suffix)
    if (replacesKey) moveAside(paths.keyFile, paths.keyFile + aside)
    for (const [name, got] of temps) {
      const target = targets[name]!
      // Run as root for a service's data directory, the files must belong to the service's user.
      if (process.getuid?.() === 0) {
        const owner = statSync(dirname(target))
        chownSync(got.temp, owner.uid, owner.gid)
      }
      renameSync(got.temp, target)
    }
    temps.clear()
    for (const dir of new Set([dirname(paths.database), dirname(paths.keyFile)])) fsyncDir(dir)
    restored = true
    return { manifest, database: paths.database, ...(archivedKey ? { keyFile: paths.keyFile } : {}), keptAside, warnings }
  } catch (err) {
    if (err instanceof TarError) throw new BackupError(err.message)
    if ((err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw new BackupError(`the archive is damaged (gzip: ${(err as Error).message})`)
    throw err
  } finally {
    for (const got of temps.values()) rmSync(got.temp, { force: true })
    if (!restored) for (const dir of createdDirs) rmSync(dir, { recursive: true, force: true })
  }
}
