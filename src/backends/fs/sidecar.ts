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
 * the bucket's commit lock is held wait and look again. A mismatch with no
 * commit in flight means the file was replaced by other means: the sidecar is
 * ignored, and the file is treated like any file dropped into the folder:
 * - content type from the extension;
 * - ETag `"md5(ino:size:mtimeNs)-1"`: cheap and stable until the file
 *   changes, with a `-N` suffix so clients treat it like a multipart ETag
 *   rather than an MD5 to verify downloads against. Hashing the content on
 *   first sight would make listing a folder of videos read every byte, and
 *   switching to the real MD5 later would change the ETag under clients'
 *   conditional requests.
 */
import { createHash } from 'node:crypto'
import type { BigIntStats } from 'node:fs'
import { rm } from 'node:fs/promises'
import { extname, join } from 'node:path'
import type { ObjectInfo } from '../backend.ts'
import type { FsContext } from './context.ts'
import { readJson } from './json.ts'

export type Sidecar = {
  v: 1
  ino: string
  size: number
  mtimeNs: string
  etag: string
  contentType: string
  metadata: Record<string, string>
  tags: Record<string, string>
  lastModified: number
}

export function sidecarPath(ctx: FsContext, bucket: string, key: string): string {
  const h = createHash('sha256').update(key).digest('hex')
  return join(ctx.metaDir(bucket), h.slice(0, 2), `${h}.json`)
}

export async function readSidecar(path: string): Promise<Sidecar | null> {
  const sc = await readJson<Sidecar>(path)
  return sc?.v === 1 && typeof sc.etag === 'string' ? sc : null
}

export async function removeSidecar(path: string): Promise<void> {
  await rm(path, { force: true })
}

export function describes(sc: Sidecar | null, st: BigIntStats): sc is Sidecar {
  return sc !== null && sc.ino === String(st.ino) && sc.size === Number(st.size) && sc.mtimeNs === String(st.mtimeNs)
}

export function stampOf(st: BigIntStats): Pick<Sidecar, 'ino' | 'size' | 'mtimeNs'> {
  return { ino: String(st.ino), size: Number(st.size), mtimeNs: String(st.mtimeNs) }
}

/** By extension, from Bun's MIME table; the extension alone is passed so odd keys cannot upset it. */
export function contentTypeFor(key: string): string {
  const ext = extname(key.slice(key.lastIndexOf('/') + 1))
  return /^\.[A-Za-z0-9]+$/.test(ext) ? Bun.file('x' + ext).type : 'application/octet-stream'
}

function foreignEtag(st: BigIntStats): string {
  return `"${createHash('md5').update(`${st.ino}:${st.size}:${st.mtimeNs}`).digest('hex')}-1"`
}

/** The sidecar a file would have if it described itself (for files dropped in from outside). */
export function adopt(key: string, st: BigIntStats): Sidecar {
  return {
    v: 1,
    ...stampOf(st),
    etag: foreignEtag(st),
    contentType: contentTypeFor(key),
    metadata: {},
    tags: {},
    lastModified: Math.floor(Number(st.mtimeMs)),
  }
}

export function infoOf(key: string, sc: Sidecar, withMetadata: boolean): ObjectInfo {
  const info: ObjectInfo = {
    key,
    size: sc.size,
    etag: sc.etag,
    contentType: sc.contentType,
    lastModified: new Date(sc.lastModified),
    storageClass: 'STANDARD',
  }
  if (withMetadata) info.metadata = { ...sc.metadata }
  return info
}
