// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * One multipart upload from start (or resume) to the assembled object: find out which parts the
 * server already has, send the missing ones PART_CONCURRENCY at a time (each retried on its own),
 * then complete. Progress counts confirmed parts plus the bytes of parts in flight.
 */
import type { ObjectInfo, UploadedPart } from '../storage-types.ts'
import { completeMultipart, PART_CONCURRENCY, partCount, putPart, startMultipart, uploadedParts, type Destination } from './transport.ts'

export interface MultipartJob {
  to: Destination
  file: File
  partSize: number
  contentType: string
  overwrite: boolean
  /** Set when resuming an upload started earlier (possibly before a reload). */
  uploadId?: string
  signal: AbortSignal
  /** Called with the upload id as soon as it exists, so it can be stored for a later resume. */
  onStarted: (uploadId: string) => void
  /** The server lost the upload being resumed; forget it before a new one starts. */
  onLost: () => void
  onProgress: (loaded: number) => void
  /** Parts that were already on the server when this run began (0 for a fresh upload). */
  onResumed: (parts: number) => void
}

function expectedSize(file: File, partSize: number, partNumber: number): number {
  return Math.min(partSize, file.size - (partNumber - 1) * partSize)
}

export async function runMultipart(job: MultipartJob): Promise<ObjectInfo> {
  const total = partCount(job.file.size, job.partSize)
  const done = new Map<number, UploadedPart>()
  let uploadId = job.uploadId

  if (uploadId) {
    const existing = await uploadedParts(job.to, uploadId, job.signal)
    if (existing === null) {
      job.onLost()
      uploadId = undefined
    } else {
      // A part of the wrong size came from a different part size or file: send it again.
      for (const part of existing)
        if (part.part_number <= total && part.size === expectedSize(job.file, job.partSize, part.part_number)) done.set(part.part_number, part)
      job.onResumed(done.size)
    }
  }
  if (!uploadId) {
    uploadId = await startMultipart(job.to, job.contentType, job.overwrite)
    job.onStarted(uploadId)
  }
  const id = uploadId

  const inFlight = new Map<number, number>()
  const report = (): void => {
    let loaded = 0
    for (const part of done.values()) loaded += part.size
    for (const bytes of inFlight.values()) loaded += bytes
    job.onProgress(loaded)
  }
  report()

  const missing: number[] = []
  for (let n = 1; n <= total; n++) if (!done.has(n)) missing.push(n)

  // One failed part (after its own retries) stops the others: the run fails as a whole and can be
  // retried or resumed later, and no request keeps going in the background.
  const local = new AbortController()
  const stop = (): void => local.abort()
  job.signal.addEventListener('abort', stop, { once: true })
  if (job.signal.aborted) stop()
  const worker = async (): Promise<void> => {
    try {
      for (let n = missing.shift(); n !== undefined; n = missing.shift()) {
        const partNumber = n
        const start = (partNumber - 1) * job.partSize
        const body = job.file.slice(start, start + expectedSize(job.file, job.partSize, partNumber))
        const part = await putPart(job.to, id, partNumber, body, local.signal, (loaded) => {
          inFlight.set(partNumber, loaded)
          report()
        })
        inFlight.delete(partNumber)
        done.set(partNumber, part)
        report()
      }
    } catch (err) {
      local.abort()
      throw err
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, missing.length) }, worker))
  } finally {
    job.signal.removeEventListener('abort', stop)
  }
  return completeMultipart(job.to, id, [...done.values()], job.overwrite)
}
