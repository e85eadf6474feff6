// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A bound on the garbage long transfers leave between collections.
 *
 * Every piece of a body arrives in fresh memory that is garbage once hashed,
 * copied or sent on, and the runtime collects it late: a 1 GiB PUT grew the
 * server's RSS by 75–90 MiB and a 1 GiB download through the S3 listener by
 * 90–100, and asking for an asynchronous or an eden collection changed little.
 * So while long bodies stream, the resident size is read every CHECK_BYTES
 * (≈30 µs from /proc) and, once it has grown ALLOWANCE past the lowest size
 * seen since the last collection, a full collection runs. The sizes after a
 * collection become the new floor, so memory that stays in use costs one
 * collection, not one per check.
 *
 * Only bodies of LONG_BODY or more (or of unknown length) count: sixteen
 * clients moving 1 MiB objects also make garbage fast, but what is in flight
 * then is live, and collecting under it doubled the S3 listener's CPU per
 * 1 MiB GET. Those are left to the runtime.
 */
const CHECK_BYTES = 8 * 1024 * 1024
const ALLOWANCE = 32 * 1024 * 1024
/** The browser's multipart parts (16 MiB) and the dashboard's single uploads of a large file count. */
const LONG_BODY = 8 * 1024 * 1024

let sinceCheck = 0
let floor = Infinity

/** Whether a body of `length` bytes (-1: unknown) counts toward the bound. */
export function isLongBody(length: number): boolean {
  return length < 0 || length >= LONG_BODY
}

/** Counts `bytes` of a long body moved; now and then collects garbage if the process has grown. */
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
