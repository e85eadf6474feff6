// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * In-process mutual exclusion by name. Commits (rename into place, sidecar
 * swap, directory creation and pruning) are a handful of syscalls, so one
 * lock per bucket serialises them without holding up the slow part of a
 * write, which streams into a private temp file first. Locks live at module
 * level so two drivers opened on the same root in one process share them;
 * separate processes on one root are not supported.
 */

type Entry = { tail: Promise<void>; holders: number }

const locks = new Map<string, Entry>()

/** Runs `fn` once every earlier holder of `name` has finished. */
export async function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  let entry = locks.get(name)
  if (!entry) {
    entry = { tail: Promise.resolve(), holders: 0 }
    locks.set(name, entry)
  }
  const previous = entry.tail
  let release!: () => void
  entry.tail = new Promise<void>((resolve) => (release = resolve))
  entry.holders++
  try {
    await previous
    return await fn()
  } finally {
    release()
    if (--entry.holders === 0) locks.delete(name)
  }
}

/** Waits for everyone now holding or queued for `name`; false when nobody was. */
export async function waitIfLocked(name: string): Promise<boolean> {
  const entry = locks.get(name)
  if (!entry) return false
  await entry.tail
  return true
}
