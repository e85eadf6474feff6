// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Object metadata lives in a JSON sidecar per key under
 * `<root>/.stowage/meta/<bucket>/<h[0..2]>/<h>.json`, h = sha256(key).
 *
 * Why sidecars and not xattrs: Node has no xattr API (it would take FFI to
 * libc, per platform), and xattrs are silently dropped by the tools people
 * use on a NAS folder (cp, rsync without -X, SMB clients, backups). Keying by
 * hash instead of mirroring the object tree means the file/directory dance in
 * keys.ts never has to move a sidecar, and a hidden tree keeps the bucket
 * folder clean for people browsing it.
 *
 * A sidecar records the inode, size and mtime (ns) of the file it describes;
 * rename keeps all three. A commit renames the data, then the sidecar, so a
 * failure leaves the old pair intact; readers that see the two disagree while
 * the bucket's commit lock is held wait and look again. Since format 2 a
 * sidecar also names its bucket and key, so one left staged by a crash
 * between those two renames can be put in place at the next start (see
 * recover.ts). A mismatch with no commit in flight means the file was
 * replaced by other means: the sidecar is ignored, and the file is treated
 * like any file dropped into the folder:
 * - content type from the extension;
 * - ETag `"md5(ino:size:mtimeNs)-1"`: cheap and stable until the file
 *   changes, with a `-N` suffix so clients treat it like a multipart ETag
 *   rather than an MD5 to verify downloads against. Hashing the content on
 *   first sight would make listing a folder of videos read every byte, and
 *   switching to the real MD5 later would change the ETag under clients'
 *   conditional requests.
 *
 * Format 1 (no bucket, key, content headers, checksum or parts) is still
 * read; it is rewritten as format 2 the next time the object changes.
 */
import { createHash } from 'node:crypto'
import type { BigIntStats } from 'node:fs'
import { extname, join } from 'node:path'
import type { Checksum, ContentHeaders, ObjectInfo, PartInfo, PutResult } from '../backend.ts'
import type { FsContext } from './context.ts'
import { readRecord } from './json.ts'

export type Sidecar = {
  v: 2
  bucket: string
  key: string
  ino: string
  size: number
  mtimeNs: string
  etag: string
  contentType: string
  metadata: Record<string, string>
  tags: Record<string, string>
  lastModified: number
  headers?: ContentHeaders
  checksum?: Checksum
  /** The sizes (and checksums) of the parts of a multipart object, in order. */
  parts?: PartInfo[]
  /** The multipart upload the object was completed from: a repeated completion of it is answered as the first was. */
  uploadId?: string
  /** Written while the bucket keeps versions: its version id (`null` while versioning is suspended). Absent: written before versioning, `null` too. */
  versionId?: string
}

type SidecarV1 = Omit<Sidecar, 'v' | 'bucket' | 'key' | 'headers' | 'checksum' | 'parts'> & { v: 1 }

export function sidecarPath(ctx: FsContext, bucket: string, key: string): string {
  const h = Bun.SHA256.hash(key, 'hex')
  return join(ctx.metaDir(bucket), h.slice(0, 2), `${h}.json`)
}

/** A parsed sidecar of either format, or null for anything else (torn, foreign, another key's). */
export function parseSidecar(text: string, bucket: string, key: string): Sidecar | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  const sc = value as Partial<Sidecar> | Partial<SidecarV1> | null
  if (!sc || typeof sc !== 'object' || typeof sc.etag !== 'string') return null
  if (sc.v === 2) return sc.bucket === bucket && sc.key === key ? (sc as Sidecar) : null
  if (sc.v === 1) return { ...(sc as SidecarV1), v: 2, bucket, key }
  return null
}

/** The sidecar of `key`; null when there is none (see readRecord for what is never followed). */
export async function readSidecar(ctx: FsContext, bucket: string, key: string, opts: { dirChecked?: boolean } = {}): Promise<Sidecar | null> {
  const text = readRecord(sidecarPath(ctx, bucket, key), opts)
  return text === null ? null : parseSidecar(text, bucket, key)
}

/** The sidecar describing this exact file, or what a dropped-in file would have. */
export async function describeNow(ctx: FsContext, bucket: string, key: string, st: FileStamp): Promise<Sidecar> {
  const sc = await readSidecar(ctx, bucket, key)
  return describes(sc, st) ? sc : adopt(bucket, key, st)
}

/** What identifies the file a sidecar describes (a BigIntStats has it). */
export type FileStamp = Pick<BigIntStats, 'ino' | 'size' | 'mtimeNs'>

export function describes(sc: Sidecar | null, st: FileStamp): sc is Sidecar {
  return sc !== null && sc.ino === String(st.ino) && sc.size === Number(st.size) && sc.mtimeNs === String(st.mtimeNs)
}

export function stampOf(st: FileStamp): Pick<Sidecar, 'ino' | 'size' | 'mtimeNs'> {
  return { ino: String(st.ino), size: Number(st.size), mtimeNs: String(st.mtimeNs) }
}

const typesByExtension = new Map<string, string>()

/** By extension, from Bun's MIME table; the extension alone is passed so odd keys cannot upset it. */
export function contentTypeFor(key: string): string {
  const ext = extname(key.slice(key.lastIndexOf('/') + 1))
  if (!/^\.[A-Za-z0-9]{1,16}$/.test(ext)) return 'application/octet-stream'
  let type = typesByExtension.get(ext)
  if (type === undefined) {
    type = Bun.file('x' + ext).type
    if (typesByExtension.size < 4096) typesByExtension.set(ext, type)
  }
  return type
}

function foreignEtag(st: FileStamp): string {
  return `"${createHash('md5').update(`${st.ino}:${st.size}:${st.mtimeNs}`).digest('hex')}-1"`
}

/** The sidecar a file would have if it described itself (for files dropped in from outside). */
export function adopt(bucket: string, key: string, st: FileStamp): Sidecar {
  return {
    v: 2,
    bucket,
    key,
    ...stampOf(st),
    etag: foreignEtag(st),
    contentType: contentTypeFor(key),
    metadata: {},
    tags: {},
    lastModified: Number(st.mtimeNs / 1_000_000n),
  }
}

/** The sidecar fields a listing shows. */
export type Listed = Pick<Sidecar, 'key' | 'size' | 'etag' | 'contentType' | 'lastModified' | 'metadata' | 'versionId'>

/** What a listing shows; head and get add the rest with `fullInfoOf`. */
export function infoOf(sc: Listed, withMetadata: boolean): ObjectInfo {
  const info: ObjectInfo = {
    key: sc.key,
    size: sc.size,
    etag: sc.etag,
    contentType: sc.contentType,
    lastModified: new Date(sc.lastModified),
    storageClass: 'STANDARD',
  }
  if (withMetadata) info.metadata = { ...sc.metadata }
  if (sc.versionId !== undefined) info.versionId = sc.versionId
  return info
}

export function fullInfoOf(sc: Sidecar): ObjectInfo {
  const info = infoOf(sc, true)
  info.headers = { ...sc.headers }
  info.tagCount = Object.keys(sc.tags).length
  if (sc.checksum) info.checksum = { ...sc.checksum }
  if (sc.parts) info.parts = sc.parts.map((p) => ({ ...p }))
  return info
}

/** What a write answers with: the ETag, and the checksum and version id when the object has them. */
export function putResultOf(sc: Sidecar): PutResult {
  const out: PutResult = { etag: sc.etag, size: sc.size, lastModified: new Date(sc.lastModified) }
  if (sc.checksum) out.checksum = sc.checksum
  if (sc.versionId !== undefined) out.versionId = sc.versionId
  return out
}
