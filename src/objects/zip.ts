// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * GET …/objects/zip: a streamed zip of up to 1000 keys, where a key ending in
 * "/" adds everything under it. Entries are opened one at a time, each only
 * after the previous one was written, so one download holds one upstream
 * connection. A key that cannot be read (or breaks off mid-way) is listed in
 * a final `_errors.txt` entry instead of being skipped silently. The zip stops
 * when the client disconnects.
 */
import { PassThrough, Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { ZipFile } from 'yazl'
import type { ObjectInfo } from '../backends/backend.ts'
import { fail } from '../http/errors.ts'
import { CONTENT_CSP } from '../http/security-headers.ts'
import type { Logger } from '../lib/log.ts'
import { storage, storageError } from '../storage/errors.ts'
import { keyProblem } from '../storage/validate.ts'
import { contentDisposition } from './content-safety.ts'
import type { ObjectDeps, Target } from './target.ts'

export const ZIP_MAX_KEYS = 1000

const STORED = /^(image|video|audio)\/|zip|gzip|compressed|x-7z|x-rar|x-xz|x-bzip2|zstd/

const pad = (n: number): string => String(n).padStart(2, '0')

export function zipName(bucket: string, now = new Date()): string {
  const d = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}`
  const t = `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`
  return `${bucket}-${d}-${t}.zip`
}

/** Zip entry names are relative paths without backslashes. */
function entryName(key: string, strip = ''): string {
  return (key.startsWith(strip) ? key.slice(strip.length) : key).replace(/^\/+/, '').replace(/\\/g, '_')
}

/**
 * How a zip presents itself. Share links use both: a recipient sees the
 * folder's name and paths inside it, never the bucket or where the folder sits.
 */
export type ZipOptions = {
  /** The download's file name (default `<bucket>-<date>-<time>.zip`). */
  filename?: string
  /** Removed from the start of every entry name. */
  stripPrefix?: string
}

async function* expand(t: Target, keys: string[], signal: AbortSignal, logger: Logger, errors: string[]): AsyncGenerator<{ key: string; info?: ObjectInfo }> {
  const seen = new Set<string>()
  for (const key of keys) {
    if (signal.aborted) return
    if (!key.endsWith('/')) {
      if (!seen.has(key)) yield { key }
      seen.add(key)
      continue
    }
    let token: string | undefined
    try {
      do {
        const page = await storage(t.backend.listObjects(t.bucket, { prefix: key, delimiter: '', maxKeys: 1000, ...(token ? { token } : {}) }), logger)
        for (const o of page.objects) {
          if (seen.has(o.key)) continue
          seen.add(o.key)
          yield { key: o.key, info: o }
        }
        token = page.isTruncated ? page.nextToken : undefined
      } while (token && !signal.aborted)
    } catch (err) {
      errors.push(`${key}\tlisting failed: ${storageError(err).code}`)
    }
  }
}

/** Streams one object into the zip and resolves once the zip has consumed it. */
async function addEntry(zip: ZipFile, t: Target, key: string, signal: AbortSignal, logger: Logger, errors: string[], strip?: string): Promise<void> {
  const name = entryName(key, strip)
  if (name === '' || name.endsWith('/')) {
    if (name !== '') zip.addEmptyDirectory(name)
    return
  }
  let got
  try {
    got = await storage(t.backend.getObject(t.bucket, key, { signal }), logger, { notFound: 'No such object.' })
  } catch (err) {
    if (!signal.aborted) errors.push(`${strip ? name : key}\t${storageError(err).code}`)
    return
  }
  if (got.status === 304) return
  const source = Readable.fromWeb(got.body as unknown as import('node:stream/web').ReadableStream<Uint8Array>)
  const entry = new PassThrough()
  source.on('error', () => {
    if (!signal.aborted) errors.push(`${strip ? name : key}\tread failed part-way; the entry in this zip is incomplete`)
    entry.end()
  })
  source.pipe(entry)
  zip.addReadStream(entry, name, { ...(got.info.lastModified ? { mtime: got.info.lastModified } : {}), compress: !STORED.test(got.info.contentType ?? '') })
  const stop = (): void => {
    source.destroy()
    entry.destroy()
  }
  signal.addEventListener('abort', stop, { once: true })
  try {
    await finished(entry).catch(() => {})
  } finally {
    signal.removeEventListener('abort', stop)
  }
}

export async function zipObjects(d: ObjectDeps, t: Target, keys: string[], client: AbortSignal, opts: ZipOptions = {}): Promise<Response> {
  if (keys.length > ZIP_MAX_KEYS) throw fail('too_many_keys', `At most ${ZIP_MAX_KEYS} keys per zip.`)
  for (const key of keys) {
    const problem = keyProblem(key)
    if (problem) throw fail('invalid_key', `The object key is not valid: ${problem}.`, [{ path: '/key', message: problem }])
  }
  if (!(await storage(t.backend.bucketExists(t.bucket), d.logger))) throw fail('not_found', 'No such bucket.')
  const zip = new ZipFile()
  const stop = new AbortController()
  const signal = AbortSignal.any([client, stop.signal])
  const output = zip.outputStream as unknown as Readable
  output.once('close', () => stop.abort())
  const errors: string[] = []
  void (async () => {
    try {
      for await (const item of expand(t, keys, signal, d.logger, errors)) {
        if (signal.aborted) break
        await addEntry(zip, t, item.key, signal, d.logger, errors, opts.stripPrefix)
      }
      if (signal.aborted) return
      if (errors.length) zip.addBuffer(Buffer.from(`Entries that could not be added:\n${errors.join('\n')}\n`), '_errors.txt')
      zip.end()
    } catch (err) {
      d.logger.error('zip failed', { error: (err as Error)?.message })
      output.destroy()
    }
  })()
  return new Response(Readable.toWeb(output) as unknown as ReadableStream<Uint8Array>, {
    headers: {
      'content-type': 'application/zip',
      'content-disposition': opts.filename ? contentDisposition('attachment', opts.filename) : `attachment; filename="${zipName(t.bucket)}"`,
      'content-security-policy': CONTENT_CSP,
      'x-content-type-options': 'nosniff',
      'cache-control': 'private, no-store',
    },
  })
}
