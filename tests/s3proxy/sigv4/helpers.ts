// SPDX-License-Identifier: AGPL-3.0-or-later
/** Stream and aws-chunked helpers shared by the SigV4 tests. */
import { createHmac } from 'node:crypto'
import { EMPTY_SHA256, deriveSigningKey, scopeString, sha256Hex, type Scope } from '../../../src/s3/canonical.ts'

export const enc = new TextEncoder()

/** Headers from a fixture record (absent keys of a JSON union type come through as undefined). */
export function headersFrom(record: Record<string, string | undefined>): Headers {
  const headers = new Headers()
  for (const [name, value] of Object.entries(record)) if (value !== undefined) headers.set(name, value)
  return headers
}

export function concat(parts: Array<Uint8Array | string>): Uint8Array {
  const bytes = parts.map((p) => (typeof p === 'string' ? enc.encode(p) : p))
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0))
  let at = 0
  for (const b of bytes) {
    out.set(b, at)
    at += b.length
  }
  return out
}

/** A stream that yields `bytes` in pieces of the given sizes (cycled), to exercise split reads. */
export function streamOf(bytes: Uint8Array, pieceSizes: number[] = [bytes.length || 1]): ReadableStream<Uint8Array> {
  let at = 0
  let i = 0
  return new ReadableStream<Uint8Array>({
    pull(controller): void {
      if (at >= bytes.length) {
        controller.close()
        return
      }
      const n = Math.max(1, pieceSizes[i++ % pieceSizes.length]!)
      controller.enqueue(bytes.slice(at, at + n))
      at += n
    },
  })
}

/** A stream that yields `bytes` and then fails, like a client that disconnects. */
export function failingStreamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let sent = false
  return new ReadableStream<Uint8Array>({
    pull(controller): void {
      if (sent) controller.error(new Error('connection reset'))
      else controller.enqueue(bytes)
      sent = true
    },
  })
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

/** Reads a stream to its end and returns the error it fails with, or undefined. */
export async function readError(stream: ReadableStream<Uint8Array>): Promise<(Error & { code?: string }) | undefined> {
  try {
    await readAll(stream)
    return undefined
  } catch (err) {
    return err as Error & { code?: string }
  }
}

export type Signer = { key: Uint8Array; amzDate: string; scope: Scope }

export function signerFor(secret: string, amzDate: string, region = 'us-east-1', service = 's3'): Signer {
  const scope = { date: amzDate.slice(0, 8), region, service }
  return { key: deriveSigningKey(secret, scope), amzDate, scope }
}

export function chunkSignature(s: Signer, previous: string, data: Uint8Array): string {
  const sts = ['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, scopeString(s.scope), previous, EMPTY_SHA256, sha256Hex(data)].join('\n')
  return createHmac('sha256', s.key).update(sts).digest('hex')
}

export function trailerSignature(s: Signer, previous: string, trailers: string): string {
  const sts = ['AWS4-HMAC-SHA256-TRAILER', s.amzDate, scopeString(s.scope), previous, sha256Hex(trailers)].join('\n')
  return createHmac('sha256', s.key).update(sts).digest('hex')
}

/**
 * Encodes `data` as a signed aws-chunked body. `trailers` (e.g. ['x-amz-checksum-crc32:…'])
 * switch to the -TRAILER framing with a trailer signature.
 */
export function encodeSigned(s: Signer, seed: string, data: Uint8Array, chunkSize: number, trailers?: string[]): { body: Uint8Array; signatures: string[] } {
  const parts: Array<Uint8Array | string> = []
  const signatures: string[] = []
  let previous = seed
  for (let at = 0; ; at += chunkSize) {
    const chunk = data.subarray(at, Math.min(at + chunkSize, data.length))
    const sig = chunkSignature(s, previous, chunk)
    signatures.push(sig)
    previous = sig
    parts.push(`${chunk.length.toString(16)};chunk-signature=${sig}\r\n`, chunk)
    if (chunk.length === 0) break
    parts.push('\r\n')
  }
  if (trailers === undefined) parts.push('\r\n')
  else {
    const canonical = trailers.map((t) => t + '\n').join('')
    for (const t of trailers) parts.push(t + '\r\n')
    parts.push(`x-amz-trailer-signature:${trailerSignature(s, previous, canonical)}\r\n\r\n`)
  }
  return { body: concat(parts), signatures }
}

/** Encodes `data` the way the AWS SDK does for STREAMING-UNSIGNED-PAYLOAD-TRAILER. */
export function encodeUnsigned(data: Uint8Array, chunkSize: number, trailers: string[]): Uint8Array {
  const parts: Array<Uint8Array | string> = []
  for (let at = 0; at < data.length; at += chunkSize) {
    const chunk = data.subarray(at, Math.min(at + chunkSize, data.length))
    parts.push(`${chunk.length.toString(16)}\r\n`, chunk, '\r\n')
  }
  parts.push('0\r\n', ...trailers.map((t) => t + '\r\n'), '\r\n')
  return concat(parts)
}
