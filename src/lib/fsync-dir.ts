// SPDX-License-Identifier: AGPL-3.0-or-later
import { closeSync, fsyncSync, openSync } from 'node:fs'

/** Makes a rename or a new name in `dir` survive a power cut (the file's own fsync does not cover its directory entry). */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
