// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Directory syncs shared by concurrent commits (group commit). A rename is
 * durable once its directory has been synced after it; every commit that
 * renamed into a directory before a sync of it began is covered by that one
 * sync. So while a sync of a directory runs, the commits that come meanwhile
 * wait for one more that starts when it ends, and share it. Sixteen uploads
 * into one folder then cost a sync or two of that folder instead of sixteen:
 * on the reference machine a commit took half the time, the disk flush
 * (about 1 ms) being what bounds small writes.
 */
import { closeSync, fsync, openSync } from 'node:fs'

type Pending = { running: Promise<void> | null; next: Promise<void> | null }

const pending = new Map<string, Pending>()

/** fsync(2) on the I/O thread pool: it waits for the disk, which the event loop must not. */
export function syncFd(fd: number): Promise<void> {
  return new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())))
}

async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r')
  try {
    await syncFd(fd)
  } finally {
    closeSync(fd)
  }
}

/** Resolves once a sync of `dir` that began after this call has completed. */
export function syncDir(dir: string): Promise<void> {
  let p = pending.get(dir)
  if (!p) {
    p = { running: null, next: null }
    pending.set(dir, p)
  }
  const state = p
  const start = (): Promise<void> => {
    const run = fsyncDir(dir).finally(() => {
      state.running = null
      if (!state.next && pending.get(dir) === state) pending.delete(dir)
    })
    state.running = run
    return run
  }
  if (state.next) return state.next
  if (!state.running) return start()
  state.next = state.running
    .catch(() => {})
    .then(() => {
      state.next = null
      return start()
    })
  return state.next
}
