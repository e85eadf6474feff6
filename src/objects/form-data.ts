// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A streaming multipart/form-data reader for the single-file upload form.
 * Bun's `request.formData()` buffers the whole body; this reads the stream
 * chunk by chunk, keeps text fields (small) in memory and sends the file part
 * into a Spool, so memory stays flat whatever the file size.
 */
import { tmpdir } from 'node:os'
import { fail } from '../http/errors.ts'
import { Spool } from '../lib/spool.ts'
import { decodeUtf8 } from '../lib/utf8.ts'

export type FormFile = { field: string; filename: string; contentType?: string; spool: Spool }
export type FormUpload = { fields: Map<string, string>; file?: FormFile }
export type FormLimits = { fileBytes: number; fieldBytes: number; totalBytes: number; fileField: string }

const CRLF = Buffer.from('\r\n')
const HEADER_END = Buffer.from('\r\n\r\n')
const MAX_HEADER_BYTES = 16 * 1024

export function boundaryOf(contentType: string): string {
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType)
  const boundary = m?.[1] ?? m?.[2]
  if (!boundary) throw fail('bad_request', 'The multipart/form-data body has no boundary.')
  return boundary
}

function dispositionParams(value: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const m of value.matchAll(/;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g)) {
    const name = m[1]!.toLowerCase()
    let v = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!.trim()
    if (name.endsWith('*')) {
      const ext = /^UTF-8''(.*)$/i.exec(v)
      if (!ext) continue
      try {
        v = decodeURIComponent(ext[1]!)
      } catch {
        continue
      }
      out.set(name.slice(0, -1), v)
      continue
    }
    if (!out.has(name)) out.set(name, v)
  }
  return out
}

type Part = { name: string; filename?: string; contentType?: string }

function parseHeaders(raw: Buffer): Part {
  let disposition: Map<string, string> | undefined
  let contentType: string | undefined
  const text = decodeUtf8(raw)
  if (text === undefined) throw fail('bad_request', 'A form part header is not valid UTF-8.')
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':')
    if (i <= 0) continue
    const name = line.slice(0, i).trim().toLowerCase()
    const value = line.slice(i + 1).trim()
    if (name === 'content-disposition') disposition = dispositionParams(value)
    else if (name === 'content-type') contentType = value
  }
  const name = disposition?.get('name')
  if (name === undefined) throw fail('bad_request', 'A form part has no name.')
  const filename = disposition!.get('filename')
  return { name, ...(filename !== undefined ? { filename } : {}), ...(contentType ? { contentType } : {}) }
}

/**
 * Reads the form. The file part (field `limits.fileField`) is spooled; the
 * caller must `dispose()` its spool. Other file parts are refused.
 */
export async function readForm(body: ReadableStream<Uint8Array> | null, contentType: string, limits: FormLimits): Promise<FormUpload> {
  const delim = Buffer.from(`\r\n--${boundaryOf(contentType)}`)
  const fields = new Map<string, string>()
  let file: FormFile | undefined
  // A leading CRLF makes the first boundary look like every other one.
  let buf: Buffer = Buffer.from(CRLF)
  let state = 'preamble' as 'preamble' | 'boundary' | 'headers' | 'body' | 'done'
  let part: Part | undefined
  let field: Buffer[] = []
  let fieldSize = 0
  let total = 0

  const emit = async (data: Buffer): Promise<void> => {
    if (!part || data.byteLength === 0) return
    if (part.filename !== undefined) {
      if (!file || file.field !== part.name) return
      if (file.spool.size + data.byteLength > limits.fileBytes)
        throw fail('too_large', `Form uploads are limited to ${limits.fileBytes} bytes; use the raw upload or multipart for larger files.`, {
          limit: limits.fileBytes,
        })
      await file.spool.write(data)
      return
    }
    fieldSize += data.byteLength
    if (fieldSize > limits.fieldBytes) throw fail('too_large', `Form field "${part.name}" is too long.`)
    field.push(Buffer.from(data))
  }

  const endPart = (): void => {
    if (part && part.filename === undefined) {
      const value = decodeUtf8(Buffer.concat(field))
      if (value === undefined)
        throw fail('bad_request', `Form field "${part.name}" is not valid UTF-8.`, [{ path: `/${part.name}`, message: 'Not valid UTF-8' }])
      fields.set(part.name, value)
    }
    part = undefined
    field = []
    fieldSize = 0
  }

  const drain = async (): Promise<void> => {
    for (;;) {
      if (state === 'preamble' || state === 'body') {
        const at = buf.indexOf(delim)
        if (at < 0) {
          const keep = Math.min(buf.length, delim.length - 1)
          if (state === 'body') await emit(buf.subarray(0, buf.length - keep))
          buf = buf.subarray(buf.length - keep)
          return
        }
        if (state === 'body') {
          await emit(buf.subarray(0, at))
          endPart()
        }
        buf = buf.subarray(at + delim.length)
        state = 'boundary'
      } else if (state === 'boundary') {
        if (buf.length < 2) return
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          state = 'done'
          return
        }
        const eol = buf.indexOf(CRLF)
        if (eol < 0) {
          if (buf.length > 256) throw fail('bad_request', 'The multipart/form-data body is malformed.')
          return
        }
        buf = buf.subarray(eol + 2)
        state = 'headers'
      } else if (state === 'headers') {
        const end = buf.indexOf(HEADER_END)
        const headersOnly = buf.subarray(0, 2).equals(CRLF)
        if (end < 0 && !headersOnly) {
          if (buf.length > MAX_HEADER_BYTES) throw fail('bad_request', 'A form part has too many headers.')
          return
        }
        part = headersOnly ? parseHeaders(Buffer.alloc(0)) : parseHeaders(buf.subarray(0, end))
        buf = buf.subarray(headersOnly ? 2 : end + 4)
        if (part.filename !== undefined && part.name === limits.fileField) {
          if (file) throw fail('bad_request', 'Send one file per upload.')
          file = {
            field: part.name,
            filename: part.filename,
            ...(part.contentType ? { contentType: part.contentType } : {}),
            spool: new Spool(tmpdir(), 'stowage-upload'),
          }
        }
        state = 'body'
      } else {
        return
      }
    }
  }

  try {
    if (body) {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        total += chunk.byteLength
        if (total > limits.totalBytes)
          throw fail('too_large', `Form uploads are limited to ${limits.fileBytes} bytes; use the raw upload or multipart for larger files.`, {
            limit: limits.fileBytes,
          })
        if (state === 'done') continue
        buf = buf.length ? Buffer.concat([buf, chunk]) : Buffer.from(chunk)
        await drain()
      }
    }
    if (state !== 'done') throw fail('bad_request', 'The multipart/form-data body ended early.')
  } catch (err) {
    await file?.spool.dispose()
    throw err
  }
  return { fields, ...(file ? { file } : {}) }
}
