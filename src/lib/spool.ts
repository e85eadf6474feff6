// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Holds an uploaded file part whose size is not known until it ends (a form
 * upload on the dashboard, a POST Object on the proxy), because the backend
 * wants an exact length up front. Up to SPOOL_MEMORY bytes stay in memory;
 * past that the part goes to a private temp file (mode 0600) in `dir`,
 * removed by dispose(). Callers cap the size.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'

export const SPOOL_MEMORY = 1024 * 1024

export class Spool {
  size = 0
  private chunks: Uint8Array[] = []
  private path: string | undefined
  private file: FileHandle | undefined

  /** `prefix` names the temp file, so a leftover one says which feature wrote it. */
  constructor(
    private readonly dir: string,
    private readonly prefix: string,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.size += chunk.byteLength
    if (!this.file && this.size <= SPOOL_MEMORY) {
      this.chunks.push(chunk.slice())
      return
    }
    if (!this.file) {
      await mkdir(this.dir, { recursive: true, mode: 0o700 })
      this.path = join(this.dir, `${this.prefix}-${randomUUID()}`)
      this.file = await open(this.path, 'wx', 0o600)
      for (const c of this.chunks) await this.file.write(c)
      this.chunks = []
    }
    await this.file.write(chunk)
  }

  /** The spooled bytes as a stream, once writing is done. */
  async stream(): Promise<ReadableStream<Uint8Array>> {
    await this.finish()
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

  /** The spooled bytes, once writing is done: one buffer when they stayed in memory, else a stream of the file. */
  async body(): Promise<ReadableStream<Uint8Array> | Uint8Array> {
    await this.finish()
    if (this.path) return Bun.file(this.path).stream()
    return Buffer.concat(this.chunks)
  }

  async dispose(): Promise<void> {
    this.chunks = []
    await this.file?.close().catch(() => {})
    this.file = undefined
    if (this.path) await unlink(this.path).catch(() => {})
  }

  private async finish(): Promise<void> {
    if (this.file) {
      await this.file.close()
      this.file = undefined
    }
  }
}
