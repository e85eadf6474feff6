// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The thread stat-batch.ts hands listing pages' lstat calls to. Per path,
 * four unsigned 64-bit slots: the kind (1 a regular file, 0 missing or
 * anything else, 2 an error stat-batch.ts repeats to surface), inode, size and
 * mtime in nanoseconds (as its two's complement: it may be negative).
 */
import { lstatSync } from 'node:fs'

declare const self: Worker

const MISSING = new Set(['ENOENT', 'ENOTDIR'])

self.onmessage = (e: MessageEvent<{ id: number; paths: string }>) => {
  const { id } = e.data
  const paths = e.data.paths.split('\0')
  const out = new BigUint64Array(paths.length * 4)
  paths.forEach((path, i) => {
    try {
      const st = lstatSync(path, { bigint: true })
      out[i * 4] = st.isFile() ? 1n : 0n
      out[i * 4 + 1] = st.ino
      out[i * 4 + 2] = st.size
      out[i * 4 + 3] = BigInt.asUintN(64, st.mtimeNs)
    } catch (err) {
      out[i * 4] = MISSING.has((err as { code?: string }).code ?? '') ? 0n : 2n
    }
  })
  postMessage({ id, out }, [out.buffer])
}
