// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Holds one uploaded form file whose size is not known until the form ends:
 * small files stay in memory, larger ones go to a temp file, so a form upload
 * never holds more than SPOOL_MEMORY bytes of it in RAM. The temp file is
 * removed by `dispose()`.
 */
import { randomUUID } from 'node:crypto'
import { open, unlink, type FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const SPOOL_MEMORY = 1024 * 1024

export class Spool {
  size = 0
  private chunks: Uint8Array[] = []
  private path: string | undefined
  private file: FileHandle | undefined

  async write(chunk: Uint8Array): Promise<void> {
    this.size += chunk.byteLength
    if (!this.file && this.size <= SPOOL_MEMORY) {
      this.chunks.push(chunk.slice())
      return
    }
    if (!this.file) {
      this.path = join(tmpdir(), `stowage-upload-${randomUUID()}`)
      this.file = await open(this.path, 'wx', 0o600)
      for (const c of this.chunks) await this.file.write(c)
      this.chunks = []
    }
    await this.file.write(chunk)
  }

  /** The spooled bytes, once writing is done. */
  async stream(): Promise<ReadableStream<Uint8Array>> {
    if (this.file) {
      await this.file.close()
      this.file = undefined
    }
    if (this.path) return Bun.file(this.path).stream()
    const chunks = this.chunks
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift()
        if (next) controller.enqueue(next)
        else controller.close()
      },
    })
  }

  async dispose(): Promise<void> {
    this.chunks = []
    await this.file?.close().catch(() => {})
    this.file = undefined
    if (this.path) await unlink(this.path).catch(() => {})
  }
}
