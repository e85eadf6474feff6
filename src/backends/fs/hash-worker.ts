// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The thread hash-thread.ts hands large bodies' MD5 to. Each body has an id;
 * its slabs arrive in order as views of shared memory, each answered once
 * read so its slab can be reused, and `done` answers with the digest. It
 * imports nothing of Stowage's own: in the compiled binary a module the
 * thread shares with the server is compiled when first loaded and cached
 * under the user's ~/.bun, which a service must not write.
 */
import { createHash, type Hash } from 'node:crypto'

declare const self: Worker

export type HashRequest = { id: number; memory: SharedArrayBuffer; offset: number; length: number } | { id: number; done: true } | { id: number; drop: true }

export type HashReply = { id: number; md5?: Uint8Array }

const bodies = new Map<number, Hash>()

self.onmessage = (e: MessageEvent<HashRequest>) => {
  const m = e.data
  if ('drop' in m) {
    bodies.delete(m.id)
    return
  }
  if ('done' in m) {
    const md5 = (bodies.get(m.id) ?? createHash('md5')).digest()
    bodies.delete(m.id)
    postMessage({ id: m.id, md5: new Uint8Array(md5) } satisfies HashReply)
    return
  }
  let hash = bodies.get(m.id)
  if (!hash) bodies.set(m.id, (hash = createHash('md5')))
  hash.update(new Uint8Array(m.memory, m.offset, m.length))
  postMessage({ id: m.id } satisfies HashReply)
}
