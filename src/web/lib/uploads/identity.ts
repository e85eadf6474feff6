// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What makes "the same file" when an upload is resumed after a reload: a browser cannot keep a
 * File across page loads, so the user picks it again and we compare name, size, modification time
 * and a hash of its first and last 64 KiB. The hash is not for security (the server checks nothing
 * with it); it catches a different file that happens to share name, size and date.
 */

const SAMPLE = 64 * 1024

export interface FileIdentity {
  name: string
  size: number
  lastModified: number
  sample: string
}

/** cyrb53: a fast 53-bit string-free hash; `crypto.subtle` would need a secure context, and plain-http LAN installs are common. */
function hash(bytes: Uint8Array, seed = 0): string {
  let h1 = 0xdeadbeef ^ seed
  let h2 = 0x41c6ce57 ^ seed
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!
    h1 = Math.imul(h1 ^ byte, 2654435761)
    h2 = Math.imul(h2 ^ byte, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36)
}

export async function identify(file: File): Promise<FileIdentity> {
  const head = new Uint8Array(await file.slice(0, SAMPLE).arrayBuffer())
  const tail = file.size > SAMPLE ? new Uint8Array(await file.slice(Math.max(SAMPLE, file.size - SAMPLE)).arrayBuffer()) : new Uint8Array()
  return { name: file.name, size: file.size, lastModified: file.lastModified, sample: `${hash(head)}.${hash(tail, 1)}` }
}

export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.name === b.name && a.size === b.size && a.lastModified === b.lastModified && a.sample === b.sample
}
