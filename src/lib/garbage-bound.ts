// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A bound on the garbage a long upload leaves between collections.
 *
 * Every piece of a request body arrives in fresh memory that is garbage once
 * hashed and copied out, and the runtime collects it late: a 1 GiB PUT grew
 * the server's RSS by 75–90 MiB, and asking for an asynchronous collection
 * changed nothing. So while bodies stream in, the resident size is read every
 * CHECK_BYTES (≈30 µs from /proc) and, once it has grown ALLOWANCE past the
 * lowest size seen since the last collection, a full collection runs. The
 * sizes after a collection become the new floor, so memory that stays in use
 * costs one collection, not one per check.
 */
const CHECK_BYTES = 8 * 1024 * 1024
const ALLOWANCE = 40 * 1024 * 1024

let sinceCheck = 0
let floor = Infinity

/** Counts `bytes` of body received; now and then collects garbage if the process has grown. */
export function boundGarbage(bytes: number): void {
  sinceCheck += bytes
  if (sinceCheck < CHECK_BYTES) return
  sinceCheck = 0
  const rss = process.memoryUsage.rss()
  if (rss < floor) floor = rss
  if (rss - floor < ALLOWANCE) return
  Bun.gc(true)
  floor = process.memoryUsage.rss()
}
