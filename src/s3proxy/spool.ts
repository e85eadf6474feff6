// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Holds a POST Object file part until its length is known, because the
 * upstream needs an exact Content-Length. Up to SPOOL_MEMORY bytes stay in
 * memory; past that the part goes to a private temp file (mode 0600) under
 * the data directory's `tmp/`, removed by dispose(). The caller caps the size
 * (the policy's content-length-range maximum, else 5 GiB).
 */
import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { open, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'

export const SPOOL_MEMORY = 1024 * 1024

export class Spool {
  size = 0
  private chunks: Uint8Array[] = []
  private path: string | undefined
  private file: FileHandle | undefined

  constructor(private readonly dir: string) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.size += chunk.byteLength
    if (!this.file && this.size <= SPOOL_MEMORY) {
      this.chunks.push(chunk.slice())
      return
    }
    if (!this.file) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      this.path = join(this.dir, `post-object-${randomUUID()}`)
      this.file = await open(this.path, 'wx', 0o600)
      for (const c of this.chunks) await this.file.write(c)
      this.chunks = []
    }
    await this.file.write(chunk)
  }

  /** The spooled bytes, once writing is done. */
  async body(): Promise<ReadableStream<Uint8Array> | Uint8Array> {
    if (this.file) {
      await this.file.close()
      this.file = undefined
    }
    if (this.path) return Bun.file(this.path).stream()
    return Buffer.concat(this.chunks)
  }

  async dispose(): Promise<void> {
    this.chunks = []
    await this.file?.close().catch(() => {})
    this.file = undefined
    if (this.path) await unlink(this.path).catch(() => {})
  }
}
