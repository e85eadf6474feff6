// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The MD5 (the ETag) of a body staged past the page cache, computed on a
 * thread of its own. MD5 runs at ≈720 MiB/s on one core and cannot be split
 * across cores; on the event loop it was about 40 % of the main thread's time
 * under 16 concurrent 1 MiB PUTs, which kept that thread saturated while the
 * second core had room. The slabs are shared memory, so only their place is
 * sent: the thread hashes one while the I/O pool writes it. Should the thread
 * fail to start, bodies are hashed here as before; should it die, the bodies
 * it was hashing fail (the client's retry is hashed here).
 */
import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import type { HashReply, HashRequest } from './hash-worker.ts'
import { helperThread } from './helper-thread.ts'

type Waiter = { resolve(reply: HashReply): void; reject(err: Error): void }

let nextId = 0
/** Per body, its requests not answered yet, in the order they were sent (the thread answers in that order). */
const waiting = new Map<number, Waiter[]>()

const thread = helperThread<HashReply>('hash-worker.ts', {
  reply(reply) {
    const queue = waiting.get(reply.id)
    const next = queue?.shift()
    if (queue && queue.length === 0) waiting.delete(reply.id)
    next?.resolve(reply)
  },
  stopped() {
    const err = new Error('the hashing thread stopped')
    for (const queue of waiting.values()) for (const w of queue) w.reject(err)
    waiting.clear()
  },
})

/**
 * Starts the thread (≈10 MiB) when a root that writes past the page cache
 * opens, so it belongs to the backend's resting size, not to a first upload.
 */
export function startHashing(): void {
  thread()
}

/**
 * The MD5 of a body given as consecutive views of shared-memory slabs (see
 * SlabPool): `update` settles once the slab has been read, after which it may
 * be refilled; `digest` once all of it is hashed. Exactly one of `digest` or
 * `drop` ends it.
 */
export class SlabHasher {
  private readonly id = nextId++
  private readonly here = thread() ? null : createHash('md5')
  private started = false

  update(slab: Uint8Array): Promise<void> {
    if (this.here) {
      this.here.update(slab)
      return Promise.resolve()
    }
    const memory = slab.buffer
    if (!(memory instanceof SharedArrayBuffer)) throw new TypeError('a slab must be shared memory')
    this.started = true
    return this.send({ id: this.id, memory, offset: slab.byteOffset, length: slab.byteLength }).then(() => {})
  }

  async digest(): Promise<Buffer> {
    if (this.here) return this.here.digest()
    if (!this.started) return createHash('md5').digest()
    const reply = await this.send({ id: this.id, done: true })
    return Buffer.from(reply.md5!)
  }

  /** Forgets a body that will not be finished. */
  drop(): void {
    if (!this.here && this.started) thread()?.postMessage({ id: this.id, drop: true } satisfies HashRequest)
  }

  private send(message: HashRequest): Promise<HashReply> {
    const w = thread()
    if (!w) return Promise.reject(new Error('the hashing thread stopped'))
    return new Promise<HashReply>((resolve, reject) => {
      let queue = waiting.get(this.id)
      if (!queue) waiting.set(this.id, (queue = []))
      queue.push({ resolve, reject })
      w.postMessage(message)
    })
  }
}
