// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The lstat of every object a listing page shows, done on a thread of its
 * own. A page stats up to a thousand files, ≈4 µs each (half of it in the
 * kernel), which was half the CPU time of a page on the event loop; handing
 * the paths over costs a fraction of that and lets another core do the
 * calls. Should the thread fail to start or die, pages stat synchronously,
 * as they did before; a path the thread could not stat for an unexpected
 * reason is stat'ed again here so its error surfaces as it would have.
 */
import { lstatSync } from 'node:fs'
import { isErrno } from './errors.ts'
import { helperThread } from './helper-thread.ts'

/** What a page needs of a file: whether it is a regular one, and its stamp (see sidecar.ts). */
export type Stamp = { ino: bigint; size: bigint; mtimeNs: bigint }

type Reply = { id: number; out: BigUint64Array }

let nextId = 0
const waiting = new Map<number, (out: BigUint64Array | null) => void>()

const thread = helperThread<Reply>('stat-worker.ts', {
  reply(reply) {
    const resolve = waiting.get(reply.id)
    waiting.delete(reply.id)
    resolve?.(reply.out)
  },
  stopped() {
    for (const resolve of waiting.values()) resolve(null)
    waiting.clear()
  },
})

/** The same, for one path, on the event loop. */
export function statHere(path: string): Stamp | null {
  try {
    const st = lstatSync(path, { bigint: true })
    return st.isFile() ? { ino: st.ino, size: st.size, mtimeNs: st.mtimeNs } : null
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null
    throw err
  }
}

/** Each path's stamp; null for one that is missing or not a regular file. */
export async function statFiles(paths: string[]): Promise<Array<Stamp | null>> {
  const w = paths.length > 0 ? thread() : null
  let out: BigUint64Array | null = null
  if (w) {
    const id = nextId++
    const reply = new Promise<BigUint64Array | null>((resolve) => waiting.set(id, resolve))
    // One string clones faster than an array of a thousand (no path holds a NUL).
    w.postMessage({ id, paths: paths.join('\0') })
    out = await reply
  }
  return paths.map((path, i) => {
    if (!out) return statHere(path)
    const kind = out[i * 4]!
    if (kind === 2n) return statHere(path)
    return kind === 1n ? { ino: out[i * 4 + 1]!, size: out[i * 4 + 2]!, mtimeNs: BigInt.asIntN(64, out[i * 4 + 3]!) } : null
  })
}
