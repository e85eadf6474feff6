// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The upload queue behind the upload panel: every file the user dropped or picked, with its state,
 * progress and speed. At most CAPACITY requests run at once (a multipart upload takes all three
 * slots, its parts going in parallel); the rest wait in order. Nothing fails silently: a failure
 * stays in the list with its reason and a retry button, and a multipart upload survives a reload
 * (see resume-store.ts) and continues with the parts the server does not have yet.
 */
import { ApiError, isAbort } from '../api.ts'
import { apiBucket } from '../paths.ts'
import type { ObjectInfo } from '../storage-types.ts'
import { identify, sameFile } from './identity.ts'
import { runMultipart } from './multipart.ts'
import { deleteRecord, recordsOf, saveRecord, type ResumeRecord } from './resume-store.ts'
import { abortMultipart, MULTIPART_THRESHOLD, partSizeFor, putSmall, uploadedParts, type Destination } from './transport.ts'

export type UploadState =
  'waiting-file' | 'queued' | 'preparing' | 'uploading' | 'completing' | 'paused' | 'conflict' | 'done' | 'failed' | 'cancelled' | 'skipped'

const RUNNING: ReadonlySet<UploadState> = new Set(['preparing', 'uploading', 'completing'])
const FINISHED: ReadonlySet<UploadState> = new Set(['done', 'cancelled', 'skipped'])
const CAPACITY = 3
const SPEED_WINDOW_MS = 4000

let counter = 0
function newId(): string {
  counter += 1
  return `${Date.now().toString(36)}${counter.toString(36)}${Math.random().toString(36).slice(2, 7)}`
}

export interface NewUpload {
  file: File
  /** Full object key, e.g. the current folder plus the file's path inside a dropped folder. */
  key: string
}

export class Upload {
  readonly id: string
  readonly backend: string
  readonly bucket: string
  readonly key: string
  readonly size: number
  file = $state.raw<File | null>(null)
  state = $state<UploadState>('queued')
  loaded = $state(0)
  /** Bytes per second over the last few seconds. */
  speed = $state(0)
  error = $state<unknown>(null)
  /** Parts found on the server when a multipart upload was resumed. */
  resumedParts = $state(0)
  /** The last file offered to resume it was another one; cleared when the right one comes. */
  wrongFile = $state(false)
  overwrite = false
  record: ResumeRecord | null = null
  controller: AbortController | null = null
  #samples: { at: number; bytes: number }[] = []

  constructor(init: { backend: string; bucket: string; key: string; size: number; file?: File; record?: ResumeRecord }) {
    this.id = init.record?.id ?? newId()
    this.backend = init.backend
    this.bucket = init.bucket
    this.key = init.key
    this.size = init.size
    this.file = init.file ?? null
    this.record = init.record ?? null
    this.state = init.file ? 'queued' : 'waiting-file'
  }

  get name(): string {
    return this.key.slice(this.key.lastIndexOf('/') + 1) || this.key
  }

  get multipart(): boolean {
    return this.size > MULTIPART_THRESHOLD
  }

  get running(): boolean {
    return RUNNING.has(this.state)
  }

  get finished(): boolean {
    return FINISHED.has(this.state)
  }

  /** Seconds left at the current speed, when there is one. */
  get eta(): number | undefined {
    return this.speed > 0 ? (this.size - this.loaded) / this.speed : undefined
  }

  get destination(): Destination {
    return { base: apiBucket(this.backend, this.bucket), key: this.key }
  }

  progress(bytes: number): void {
    this.loaded = bytes
    const now = performance.now()
    this.#samples.push({ at: now, bytes })
    while (this.#samples.length > 2 && now - this.#samples[0]!.at > SPEED_WINDOW_MS) this.#samples.shift()
    const first = this.#samples[0]!
    const seconds = (now - first.at) / 1000
    if (seconds >= 0.5) this.speed = Math.max(0, (bytes - first.bytes) / seconds)
  }

  resetSpeed(): void {
    this.#samples = []
    this.speed = 0
  }
}

type Listener = (upload: Upload, object: ObjectInfo) => void

class UploadQueue {
  items = $state<Upload[]>([])
  #userId = ''
  #policy: 'ask' | 'replace' | 'skip' = 'ask'
  #listeners = new Set<Listener>()

  /** The first upload waiting for a replace-or-skip answer. */
  get conflict(): Upload | undefined {
    return this.items.find((upload) => upload.state === 'conflict')
  }

  /** True while something is sending or about to: leaving the page would interrupt it. */
  get busy(): boolean {
    return this.items.some((upload) => upload.running || upload.state === 'queued')
  }

  /**
   * Binds the queue to the signed-in user and offers their interrupted multipart uploads again.
   * Another user's uploads stop (they keep their resume records for when that user returns).
   */
  restore(userId: string): void {
    if (this.#userId === userId) return
    for (const upload of this.items) upload.controller?.abort()
    this.#userId = userId
    this.items = recordsOf(userId).map(
      (record) => new Upload({ backend: record.backend, bucket: record.bucket, key: record.key, size: record.file.size, record }),
    )
    for (const upload of this.items) void this.#showStored(upload)
  }

  /** An interrupted upload's bar shows what the server already holds, not zero. */
  async #showStored(upload: Upload): Promise<void> {
    if (!upload.record) return
    try {
      const parts = await uploadedParts(upload.destination, upload.record.uploadId, new AbortController().signal)
      if (parts && upload.state === 'waiting-file') upload.loaded = parts.reduce((sum, part) => sum + part.size, 0)
    } catch {
      // Only the bar stays empty; resuming asks the server again anyway.
    }
  }

  /** Queues files; a file that matches an interrupted upload to the same key continues it. */
  async add(backend: string, bucket: string, files: NewUpload[]): Promise<void> {
    this.#policy = 'ask'
    for (const { file, key } of files) {
      const waiting = this.items.find(
        (u) => u.state === 'waiting-file' && u.backend === backend && u.bucket === bucket && u.key === key && u.size === file.size,
      )
      if (waiting?.record && sameFile(await identify(file), waiting.record.file)) {
        waiting.wrongFile = false
        waiting.file = file
        waiting.state = 'queued'
        continue
      }
      this.items.push(new Upload({ backend, bucket, key, size: file.size, file }))
    }
    this.#pump()
  }

  /** Gives an interrupted upload its file back; false when it is not the same file. */
  async attach(upload: Upload, file: File): Promise<boolean> {
    if (!upload.record || !sameFile(await identify(file), upload.record.file)) {
      upload.wrongFile = true
      return false
    }
    upload.wrongFile = false
    upload.file = file
    upload.error = null
    upload.state = 'queued'
    this.#pump()
    return true
  }

  pause(upload: Upload): void {
    if (!upload.running && upload.state !== 'queued') return
    upload.state = 'paused'
    upload.controller?.abort()
    upload.resetSpeed()
    this.#pump()
  }

  resume(upload: Upload): void {
    if (upload.state !== 'paused' && upload.state !== 'failed') return
    upload.error = null
    upload.state = 'queued'
    this.#pump()
  }

  /** Stops for good and, for a multipart upload, drops the parts already stored on the server. */
  async cancel(upload: Upload): Promise<void> {
    upload.state = 'cancelled'
    upload.controller?.abort()
    upload.resetSpeed()
    await this.#forget(upload)
    this.#pump()
  }

  resolve(upload: Upload, choice: 'replace' | 'skip', forAll: boolean): void {
    const targets = forAll ? this.items.filter((u) => u.state === 'conflict') : [upload]
    if (forAll) this.#policy = choice
    for (const target of targets) void this.#decide(target, choice)
    this.#pump()
  }

  dismiss(upload: Upload): void {
    if (upload.running) return
    this.items = this.items.filter((u) => u !== upload)
  }

  clearFinished(): void {
    this.items = this.items.filter((upload) => !upload.finished)
  }

  /** Called after each finished upload, so an open folder can show the new object at once. */
  onUploaded(listener: Listener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async #decide(upload: Upload, choice: 'replace' | 'skip'): Promise<void> {
    if (choice === 'replace') {
      upload.overwrite = true
      upload.state = 'queued'
      this.#pump()
    } else {
      upload.state = 'skipped'
      await this.#forget(upload)
    }
  }

  async #forget(upload: Upload): Promise<void> {
    const record = upload.record
    if (!record) return
    upload.record = null
    deleteRecord(record.id)
    try {
      await abortMultipart(upload.destination, record.uploadId)
    } catch {
      // The parts stay until the backend's own cleanup; nothing else depends on them.
    }
  }

  #pump(): void {
    let used = 0
    for (const upload of this.items) if (upload.running) used += upload.multipart ? CAPACITY : 1
    for (const upload of this.items) {
      if (upload.state !== 'queued') continue
      const weight = upload.multipart ? CAPACITY : 1
      // In order: a big upload waits for the slots it needs instead of being overtaken forever.
      if (used > 0 && used + weight > CAPACITY) break
      used += weight
      void this.#run(upload)
    }
  }

  async #run(upload: Upload): Promise<void> {
    const file = upload.file
    if (!file) return
    const controller = new AbortController()
    upload.controller = controller
    upload.error = null
    upload.resetSpeed()
    upload.state = upload.multipart ? 'preparing' : 'uploading'
    try {
      const object = upload.multipart
        ? await this.#multipart(upload, file, controller.signal)
        : await putSmall(upload.destination, file, upload.overwrite, controller.signal, (bytes) => upload.progress(bytes))
      upload.progress(upload.size)
      upload.state = 'done'
      for (const listener of this.#listeners) listener(upload, object)
    } catch (err) {
      if (isAbort(err) || controller.signal.aborted) {
        if (upload.running) upload.state = 'paused'
      } else if (err instanceof ApiError && err.code === 'object_exists') {
        if (this.#policy === 'ask') upload.state = 'conflict'
        else await this.#decide(upload, this.#policy)
      } else {
        upload.error = err
        upload.state = 'failed'
      }
    } finally {
      if (upload.controller === controller) upload.controller = null
      upload.speed = 0
      this.#pump()
    }
  }

  async #multipart(upload: Upload, file: File, signal: AbortSignal): Promise<ObjectInfo> {
    const contentType = file.type || 'application/octet-stream'
    const partSize = upload.record?.partSize ?? partSizeFor(file.size)
    const identity = upload.record?.file ?? (await identify(file))
    const object = await runMultipart({
      to: upload.destination,
      file,
      partSize,
      contentType,
      overwrite: upload.overwrite,
      uploadId: upload.record?.uploadId,
      signal,
      onStarted: (uploadId) => {
        upload.record = {
          id: upload.id,
          userId: this.#userId,
          backend: upload.backend,
          bucket: upload.bucket,
          key: upload.key,
          uploadId,
          partSize,
          contentType,
          file: identity,
          createdAt: Date.now(),
        }
        saveRecord(upload.record)
      },
      onLost: () => {
        if (upload.record) deleteRecord(upload.record.id)
        upload.record = null
      },
      onResumed: (parts) => (upload.resumedParts = parts),
      onProgress: (bytes) => {
        // Every byte sent: what remains is the server assembling the parts.
        if (upload.running) upload.state = bytes >= file.size ? 'completing' : 'uploading'
        upload.progress(bytes)
      },
    })
    if (upload.record) deleteRecord(upload.record.id)
    upload.record = null
    return object
  }
}

export const uploads = new UploadQueue()
