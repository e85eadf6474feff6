// SPDX-License-Identifier: AGPL-3.0-or-later
import { randomBytes } from 'node:crypto'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** A ULID: sortable by creation time, 80 random bits, the id format of the original's rows. */
export function ulid(now = Date.now()): string {
  let time = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time
    t = Math.floor(t / 32)
  }
  const rand = randomBytes(16)
  let tail = ''
  for (let i = 0; i < 16; i++) tail += CROCKFORD[rand[i]! % 32]
  return time + tail
}

/** Request ids: short, log-friendly, unique enough within a process lifetime. */
export function requestId(): string {
  return randomBytes(9).toString('base64url')
}
