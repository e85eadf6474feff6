// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The call's body as the engine consumes it: a stream of exactly its length
 * for objects and parts (never held whole), or a small document read whole
 * (XML requests), with its Content-MD5 checked when one was sent. A body an
 * operation does not use is left alone: the pipeline drains it.
 */
import { createHash } from 'node:crypto'
import { boundGarbage, isLongBody } from '../lib/garbage-bound.ts'
import { parseXml, type XmlElement } from '../s3/xml.ts'
import type { CallBody } from '../s3proxy/call.ts'
import { S3Error } from '../s3proxy/errors.ts'
import { malformedXml, streamFailure } from './errors.ts'

/**
 * The body as a stream of its exact length. The call's body is only taken on
 * the first read, so a driver that refuses a write before reading (no such
 * bucket, a bad key) lets go of a body nobody touched, and the pipeline can
 * still drain it and keep the connection (linger.ts). An unsigned body is
 * read from the node stream it arrives on, which pauses the socket while the
 * disk catches up; its web-stream form buffers ahead without bound. Each
 * piece arrives in fresh memory, hence the bound on its garbage.
 */
export function bodyStream(body: CallBody): { stream: ReadableStream<Uint8Array>; size: number } {
  if (body.kind === 'stream') {
    const long = isLongBody(body.length)
    let next: (() => Promise<IteratorResult<Uint8Array>>) | undefined
    let stop: ((reason: unknown) => Promise<unknown>) | undefined
    const start = (): void => {
      if (body.source) {
        const it = (body.source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
        next = () => it.next()
        stop = async () => it.return?.()
      } else {
        const reader = body.stream.getReader()
        next = () => reader.read() as Promise<IteratorResult<Uint8Array>>
        stop = (reason) => reader.cancel(reason)
      }
    }
    const stream = new ReadableStream<Uint8Array>(
      {
        async pull(c) {
          if (!next) start()
          const { done, value } = await next!()
          if (done) c.close()
          else {
            if (long) boundGarbage(value.byteLength)
            c.enqueue(value)
          }
        },
        async cancel(reason) {
          await stop?.(reason)
        },
      },
      { highWaterMark: 0 },
    )
    return { stream, size: body.length }
  }
  const bytes = body.kind === 'whole' ? body.bytes : new Uint8Array(0)
  return {
    size: bytes.byteLength,
    stream: new ReadableStream<Uint8Array>({
      start(c) {
        if (bytes.byteLength > 0) c.enqueue(bytes)
        c.close()
      },
    }),
  }
}

const tooBig = (): S3Error => new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.', 'bad-request')

/** Reads an XML request document whole, up to `limit` bytes, checking its Content-MD5 if it has one. */
export async function readDocument(body: CallBody, limit: number, md5: string | undefined): Promise<Uint8Array> {
  let bytes: Uint8Array
  if (body.kind === 'empty') bytes = new Uint8Array(0)
  else if (body.kind === 'whole') bytes = body.bytes
  else {
    if (body.length > limit) throw tooBig()
    const chunks: Uint8Array[] = []
    let size = 0
    try {
      for await (const chunk of body.stream) {
        size += chunk.byteLength
        if (size > limit) throw tooBig()
        chunks.push(chunk)
      }
    } catch (err) {
      throw streamFailure(err)
    }
    bytes = Buffer.concat(chunks)
  }
  if (bytes.byteLength > limit) throw tooBig()
  if (md5 !== undefined && createHash('md5').update(bytes).digest('base64') !== md5) {
    throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.', 'bad-digest')
  }
  return bytes
}

/** A request document's root element, which must be named `root`; MalformedXML when it is not XML or not that. */
export function parseDocument(document: string | Uint8Array, root: string): XmlElement {
  let el: XmlElement
  try {
    el = parseXml(typeof document === 'string' ? document : Buffer.from(document).toString('utf8'))
  } catch {
    throw malformedXml()
  }
  if (el.name !== root) throw malformedXml()
  return el
}
