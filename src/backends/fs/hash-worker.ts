// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The thread hash-thread.ts hands large bodies' digests to. Each body has an
 * id; its slabs arrive in order as views of shared memory, each answered
 * once read so its slab can be reused, and `done` answers with the digests.
 */
import { BodyHasher } from './digests.ts'
import type { ChecksumAlgorithm } from '../backend.ts'

declare const self: Worker

export type HashRequest =
  | { id: number; memory: SharedArrayBuffer; offset: number; length: number; algorithm?: ChecksumAlgorithm }
  | { id: number; done: true }
  | { id: number; drop: true }

export type HashReply = { id: number; md5?: Uint8Array; checksum?: string }

const bodies = new Map<number, BodyHasher>()

self.onmessage = (e: MessageEvent<HashRequest>) => {
  const m = e.data
  if ('drop' in m) {
    bodies.delete(m.id)
    return
  }
  if ('done' in m) {
    const digests = (bodies.get(m.id) ?? new BodyHasher()).digest()
    bodies.delete(m.id)
    postMessage({ id: m.id, md5: new Uint8Array(digests.md5), checksum: digests.checksum } satisfies HashReply)
    return
  }
  let hasher = bodies.get(m.id)
  if (!hasher) bodies.set(m.id, (hasher = new BodyHasher(m.algorithm)))
  hasher.update(new Uint8Array(m.memory, m.offset, m.length))
  postMessage({ id: m.id } satisfies HashReply)
}
