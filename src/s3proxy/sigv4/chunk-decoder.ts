// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The aws-chunked state machine behind decodeAwsChunked: it is fed raw body bytes in whatever
 * pieces the network delivers and hands back views of the decoded data, so it never copies or
 * holds more than one chunk header line (≤ 4 KiB) and the trailer section (≤ 16 KiB).
 *
 * Wire format (S3 "Transferring payload in multiple chunks", with and without trailers):
 *   signed:   <hex>;chunk-signature=<sig>\r\n<data>\r\n … 0;chunk-signature=<sig>\r\n[trailers]\r\n
 *   unsigned: <hex>\r\n<data>\r\n … 0\r\n[trailers]\r\n
 *   trailers: <name>:<value>\r\n … [x-amz-trailer-signature:<sig>\r\n]
 * Each chunk signature signs
 *   AWS4-HMAC-SHA256-PAYLOAD\n<amz date>\n<scope>\n<previous signature>\n<sha256("")>\n<sha256(data)>
 * starting from the request's own signature; the trailer signature signs
 *   AWS4-HMAC-SHA256-TRAILER\n<amz date>\n<scope>\n<last chunk signature>\n<sha256("name:value\n"…)>
 */
import { createHash, timingSafeEqual, type Hash } from 'node:crypto'
import { EMPTY_SHA256, hmac, scopeString, sha256Hex, type Scope } from '../../s3/canonical.ts'
import { checksumAlgorithmOf, checksumBase64, createChecksum, type Checksum } from '../../lib/checksum.ts'
import { SigV4StreamError } from './errors.ts'

export type ChunkedMode = 'streaming-signed' | 'streaming-signed-trailer' | 'streaming-unsigned-trailer'

export type DecoderOptions = {
  mode: ChunkedMode
  decodedLength: number
  maxChunkSize: number
  seedSignature: string
  signingKey: Uint8Array
  amzDate: string
  scope: Scope
  trailerHeader: string | undefined
}

const MAX_LINE = 4096
const MAX_TRAILER_BYTES = 16 * 1024
const SIGNED_HEADER = /^([0-9a-fA-F]{1,16});chunk-signature=([0-9a-f]{64})$/
const UNSIGNED_HEADER = /^([0-9a-fA-F]{1,16})$/
const SIGNATURE = /^[0-9a-f]{64}$/
const TRAILER_SIGNATURE = 'x-amz-trailer-signature'

type State = 'header' | 'data' | 'data-cr' | 'data-lf' | 'trailer' | 'done'

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

function framing(message: string): SigV4StreamError {
  return new SigV4StreamError('InvalidRequest', 'Malformed aws-chunked body: ' + message)
}

export class ChunkDecoder {
  private readonly options: DecoderOptions
  private readonly signed: boolean
  private readonly payloadPrefix: string
  private readonly checksums = new Map<string, Checksum>()
  private readonly line = new Uint8Array(MAX_LINE)
  private lineLength = 0
  private state: State = 'header'
  private remaining = 0
  private total = 0
  private chunkHash: Hash | undefined
  private chunkSignature = ''
  private previousSignature: string
  private trailerBytes = 0
  private skippedBlankLine = false
  private readonly trailers: Record<string, string> = {}
  private canonicalTrailers = ''
  private trailerSignature: string | undefined

  constructor(options: DecoderOptions) {
    this.options = options
    this.signed = options.mode !== 'streaming-unsigned-trailer'
    this.previousSignature = options.seedSignature
    this.payloadPrefix = 'AWS4-HMAC-SHA256-PAYLOAD\n' + options.amzDate + '\n' + scopeString(options.scope) + '\n'
    if (!Number.isSafeInteger(options.decodedLength) || options.decodedLength < 0) throw framing('invalid x-amz-decoded-content-length')
    if (this.signed && !SIGNATURE.test(options.seedSignature)) throw framing('invalid seed signature')
    if (options.trailerHeader !== undefined && options.trailerHeader !== '') {
      if (options.mode === 'streaming-signed') throw framing('x-amz-trailer needs a STREAMING-*-TRAILER payload')
      for (const raw of options.trailerHeader.split(',')) {
        const name = raw.trim().toLowerCase()
        const algorithm = checksumAlgorithmOf(name)
        if (algorithm === undefined) throw new SigV4StreamError('InvalidRequest', `Unsupported trailer ${name.slice(0, 64)}`)
        this.checksums.set(name, createChecksum(algorithm))
      }
    }
  }

  /** Consumes `data`, appending decoded views of it to `out`. Throws SigV4StreamError. */
  push(data: Uint8Array, out: Uint8Array[]): void {
    let pos = 0
    while (pos < data.length) {
      switch (this.state) {
        case 'header':
        case 'trailer': {
          const lf = data.indexOf(10, pos)
          const end = lf < 0 ? data.length : lf
          if (this.lineLength + (end - pos) > MAX_LINE) throw framing('header line too long')
          if (lf < 0) {
            this.line.set(data.subarray(pos), this.lineLength)
            this.lineLength += data.length - pos
            return
          }
          let text: string
          if (this.lineLength === 0) text = latin1(data.subarray(pos, lf))
          else {
            this.line.set(data.subarray(pos, lf), this.lineLength)
            text = latin1(this.line.subarray(0, this.lineLength + lf - pos))
            this.lineLength = 0
          }
          pos = lf + 1
          if (!text.endsWith('\r')) throw framing('line not terminated by CRLF')
          text = text.slice(0, -1)
          if (this.state === 'header') this.chunkHeader(text)
          else this.trailerLine(text)
          break
        }
        case 'data': {
          const n = Math.min(this.remaining, data.length - pos)
          const slice = data.subarray(pos, pos + n)
          this.chunkHash?.update(slice)
          for (const c of this.checksums.values()) c.update(slice)
          out.push(slice)
          pos += n
          this.remaining -= n
          this.total += n
          if (this.remaining === 0) {
            if (this.signed) this.verifyChunk(this.chunkHash!.digest('hex'))
            this.state = 'data-cr'
          }
          break
        }
        case 'data-cr':
          if (data[pos++] !== 13) throw framing('chunk data not followed by CRLF')
          this.state = 'data-lf'
          break
        case 'data-lf':
          if (data[pos++] !== 10) throw framing('chunk data not followed by CRLF')
          this.state = 'header'
          break
        case 'done':
          throw framing('data after the end of the body')
      }
    }
  }

  /** Called at end of input; returns the trailers or throws when the body is incomplete. */
  end(): Record<string, string> {
    // Some encoders stop right after the last chunk or trailer line without the closing CRLF;
    // everything that carries meaning has been verified by then, so that is accepted.
    if (this.state === 'trailer' && this.lineLength === 0) this.finishTrailers()
    if (this.state !== 'done') throw new SigV4StreamError('IncompleteBody', 'The request body terminated unexpectedly')
    return this.trailers
  }

  private chunkHeader(text: string): void {
    const m = (this.signed ? SIGNED_HEADER : UNSIGNED_HEADER).exec(text)
    if (m === null) throw framing('invalid chunk header')
    const size = parseInt(m[1]!, 16)
    if (size > this.options.maxChunkSize)
      throw new SigV4StreamError('InvalidChunkSizeError', `Chunk size ${size} exceeds the limit of ${this.options.maxChunkSize} bytes`)
    if (this.total + size > this.options.decodedLength) {
      throw new SigV4StreamError('IncompleteBody', 'The body is longer than x-amz-decoded-content-length')
    }
    if (this.signed) this.chunkSignature = m[2]!
    if (size === 0) {
      if (this.signed) this.verifyChunk(EMPTY_SHA256)
      if (this.total !== this.options.decodedLength) {
        throw new SigV4StreamError('IncompleteBody', 'The body is shorter than x-amz-decoded-content-length')
      }
      this.state = 'trailer'
      return
    }
    this.remaining = size
    this.chunkHash = this.signed ? createHash('sha256') : undefined
    this.state = 'data'
  }

  private verifyChunk(dataHash: string): void {
    const expected = hmac(this.options.signingKey, this.payloadPrefix + this.previousSignature + '\n' + EMPTY_SHA256 + '\n' + dataHash)
    if (!timingSafeEqual(expected, Buffer.from(this.chunkSignature, 'hex'))) {
      throw new SigV4StreamError('SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided')
    }
    this.previousSignature = this.chunkSignature
  }

  private expectsTrailers(): boolean {
    return this.checksums.size > 0 || this.options.mode === 'streaming-signed-trailer'
  }

  private trailerLine(text: string): void {
    this.trailerBytes += text.length + 2
    if (this.trailerBytes > MAX_TRAILER_BYTES) throw framing('trailer section too large')
    if (text === '') {
      // "0;chunk-signature=…\r\n\r\n" before the trailers: tolerated once, as some encoders
      // frame the empty final chunk like any other chunk before appending trailers.
      if (this.canonicalTrailers === '' && this.trailerSignature === undefined && this.expectsTrailers() && !this.skippedBlankLine) {
        this.skippedBlankLine = true
        return
      }
      this.finishTrailers()
      return
    }
    const colon = text.indexOf(':')
    if (colon <= 0) throw framing('invalid trailer line')
    const name = text.slice(0, colon).trim().toLowerCase()
    const value = text.slice(colon + 1).trim()
    if (name === TRAILER_SIGNATURE && this.options.mode === 'streaming-signed-trailer' && this.trailerSignature === undefined) {
      if (!SIGNATURE.test(value)) throw framing('invalid trailer signature')
      this.trailerSignature = value
      return
    }
    if (!this.checksums.has(name) || name in this.trailers) throw framing(`unexpected trailer ${name.slice(0, 64)}`)
    if (this.trailerSignature !== undefined) throw framing('trailer after the trailer signature')
    this.trailers[name] = value
    this.canonicalTrailers += name + ':' + value + '\n'
  }

  private finishTrailers(): void {
    if (this.options.mode === 'streaming-signed-trailer') {
      if (this.trailerSignature === undefined) throw new SigV4StreamError('SignatureDoesNotMatch', 'The trailer signature is missing')
      const sts =
        'AWS4-HMAC-SHA256-TRAILER\n' +
        this.options.amzDate +
        '\n' +
        scopeString(this.options.scope) +
        '\n' +
        this.previousSignature +
        '\n' +
        sha256Hex(this.canonicalTrailers)
      if (!timingSafeEqual(hmac(this.options.signingKey, sts), Buffer.from(this.trailerSignature, 'hex'))) {
        throw new SigV4StreamError('SignatureDoesNotMatch', 'The trailer signature we calculated does not match the signature you provided')
      }
    }
    for (const [name, checksum] of this.checksums) {
      const sent = this.trailers[name]
      if (sent === undefined) throw new SigV4StreamError('InvalidRequest', `The declared trailer ${name} was not sent`)
      if (checksumBase64(checksum) !== sent) {
        throw new SigV4StreamError(
          'BadDigest',
          `The ${name.slice('x-amz-checksum-'.length).toUpperCase()} you specified did not match the calculated checksum.`,
        )
      }
    }
    this.state = 'done'
  }
}
