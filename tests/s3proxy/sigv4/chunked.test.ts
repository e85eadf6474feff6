// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { checksumBase64, createChecksum, type ChecksumAlgorithm } from '../../../src/lib/checksum.ts'
import { chunkedOptionsFor, decodeAwsChunked, SigV4StreamError, type ChunkedOptions } from '../../../src/s3proxy/sigv4/chunked.ts'
import { concat, encodeSigned, encodeUnsigned, failingStreamOf, readAll, readError, signerFor, streamOf } from './helpers.ts'

const SEED = 'a'.repeat(64)
const signer = signerFor('chunk-secret', '20260301T120000Z')
const data = new Uint8Array(randomBytes(200_000))

function opts(mode: ChunkedOptions['mode'], decodedLength: number, extra: Partial<ChunkedOptions> = {}): ChunkedOptions {
  return { mode, decodedLength, seedSignature: SEED, signingKey: signer.key, amzDate: signer.amzDate, scope: signer.scope, ...extra }
}

function checksumOf(alg: ChecksumAlgorithm, bytes: Uint8Array): string {
  const c = createChecksum(alg)
  c.update(bytes)
  return checksumBase64(c)
}

/** Reads until the stream ends or fails; returns how many bytes came out and the error. */
async function drain(stream: ReadableStream<Uint8Array>): Promise<{ bytes: number; error: SigV4StreamError | undefined }> {
  const reader = stream.getReader()
  let bytes = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { bytes, error: undefined }
      bytes += value.length
    }
  } catch (err) {
    return { bytes, error: err as SigV4StreamError }
  }
}

describe('decoding', () => {
  test('signed chunks decode whatever the read boundaries (including 1-byte reads)', async () => {
    const { body: wire } = encodeSigned(signer, SEED, data, 65536)
    for (const pieces of [[wire.length], [1], [3, 5, 7], [65536 + 86], [65536 + 87, 1]]) {
      const { body, trailers } = decodeAwsChunked(streamOf(wire, pieces), opts('streaming-signed', data.length))
      expect(await readAll(body)).toEqual(data)
      expect(await trailers).toEqual({})
    }
  })

  test('an empty body is just the signed final chunk', async () => {
    const { body: wire } = encodeSigned(signer, SEED, new Uint8Array(0), 65536)
    expect(await readAll(decodeAwsChunked(streamOf(wire), opts('streaming-signed', 0)).body)).toEqual(new Uint8Array(0))
  })

  for (const alg of ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const) {
    test(`signed trailer with x-amz-checksum-${alg}`, async () => {
      const trailer = `x-amz-checksum-${alg}:${checksumOf(alg, data)}`
      const { body: wire } = encodeSigned(signer, SEED, data, 8192, [trailer])
      const { body, trailers } = decodeAwsChunked(
        streamOf(wire, [1000]),
        opts('streaming-signed-trailer', data.length, { trailerHeader: `x-amz-checksum-${alg}` }),
      )
      expect(await readAll(body)).toEqual(data)
      expect(await trailers).toEqual({ [`x-amz-checksum-${alg}`]: checksumOf(alg, data) })
    })

    test(`unsigned trailer with x-amz-checksum-${alg}`, async () => {
      const wire = encodeUnsigned(data, 16384, [`x-amz-checksum-${alg}:${checksumOf(alg, data)}`])
      const { body, trailers } = decodeAwsChunked(
        streamOf(wire, [4097]),
        opts('streaming-unsigned-trailer', data.length, { trailerHeader: `x-amz-checksum-${alg}` }),
      )
      expect(await readAll(body)).toEqual(data)
      expect(Object.keys(await trailers)).toEqual([`x-amz-checksum-${alg}`])
    })
  }

  test('an unsigned body without a checksum may end right after "0\\r\\n" (what the SDK sends)', async () => {
    const wire = concat(['5\r\nhello\r\n', '0\r\n'])
    expect(await readAll(decodeAwsChunked(streamOf(wire), opts('streaming-unsigned-trailer', 5)).body)).toEqual(new TextEncoder().encode('hello'))
  })

  test('a blank line between the final chunk and the trailers is tolerated once', async () => {
    const trailer = `x-amz-checksum-crc32:${checksumOf('crc32', data)}`
    const wire = concat([encodeUnsigned(data, 65536, []).subarray(0, -2), '\r\n', trailer + '\r\n\r\n'])
    const { body, trailers } = decodeAwsChunked(streamOf(wire), opts('streaming-unsigned-trailer', data.length, { trailerHeader: 'x-amz-checksum-crc32' }))
    expect(await readAll(body)).toEqual(data)
    expect((await trailers)['x-amz-checksum-crc32']).toBe(checksumOf('crc32', data))
  })

  test('chunkedOptionsFor maps a streaming verification and ignores others', () => {
    const base = {
      ok: true as const,
      accessKeyId: 'k',
      authMode: 'header' as const,
      signature: SEED,
      amzDate: signer.amzDate,
      scope: signer.scope,
      signingKey: signer.key,
    }
    expect(chunkedOptionsFor({ ...base, payload: { kind: 'unsigned' } })).toBeUndefined()
    expect(
      chunkedOptionsFor({ ...base, payload: { kind: 'streaming-unsigned-trailer' }, chunked: { decodedLength: 7, trailerHeader: 'x-amz-checksum-crc32' } }),
    ).toEqual(opts('streaming-unsigned-trailer', 7, { trailerHeader: 'x-amz-checksum-crc32' }))
  })
})

describe('refusals (each surfaces as a stream error; the full body is never delivered)', () => {
  async function refused(wire: Uint8Array, o: ChunkedOptions, pieces?: number[]): Promise<SigV4StreamError> {
    const { body, trailers } = decodeAwsChunked(streamOf(wire, pieces), o)
    const { bytes, error } = await drain(body)
    expect(error).toBeInstanceOf(SigV4StreamError)
    expect(bytes).toBeLessThan(Math.max(o.decodedLength, 1))
    await expect(trailers).rejects.toBe(error!)
    return error!
  }

  test('a chunk signature tampered in the middle', async () => {
    const { body: wire, signatures } = encodeSigned(signer, SEED, data, 65536)
    const text = Buffer.from(wire)
      .toString('latin1')
      .replace(
        signatures[1]!,
        signatures[1]!.replace(/^./, (c) => (c === '0' ? '1' : '0')),
      )
    expect((await refused(Buffer.from(text, 'latin1'), opts('streaming-signed', data.length))).code).toBe('SignatureDoesNotMatch')
  })

  test('chunk data changed under a valid-looking signature', async () => {
    const { body: wire } = encodeSigned(signer, SEED, data, 65536)
    const tampered = wire.slice()
    tampered[70_000] = tampered[70_000]! ^ 1
    expect((await refused(tampered, opts('streaming-signed', data.length))).code).toBe('SignatureDoesNotMatch')
  })

  test('a tampered final (zero-length) chunk signature', async () => {
    const { body: wire, signatures } = encodeSigned(signer, SEED, data, 65536)
    const last = signatures[signatures.length - 1]!
    const text = Buffer.from(wire).toString('latin1').replace(last, 'f'.repeat(64))
    expect((await refused(Buffer.from(text, 'latin1'), opts('streaming-signed', data.length))).code).toBe('SignatureDoesNotMatch')
  })

  test('a wrong seed signature', async () => {
    const { body: wire } = encodeSigned(signer, SEED, data, 65536)
    expect((await refused(wire, opts('streaming-signed', data.length, { seedSignature: 'b'.repeat(64) }))).code).toBe('SignatureDoesNotMatch')
  })

  test('a chunk larger than the bound, before any of its data is read', async () => {
    const { body: wire } = encodeSigned(signer, SEED, data, 65536)
    expect((await refused(wire, opts('streaming-signed', data.length, { maxChunkSize: 65535 }))).code).toBe('InvalidChunkSizeError')
    const huge = concat([`2000000;chunk-signature=${SEED}\r\n`])
    expect((await refused(huge, opts('streaming-signed', 1 << 30))).code).toBe('InvalidChunkSizeError')
  })

  test('a truncated stream', async () => {
    const { body: wire } = encodeSigned(signer, SEED, data, 65536)
    for (const cut of [10, 65536, wire.length - 3]) {
      expect((await refused(wire.subarray(0, cut), opts('streaming-signed', data.length))).code).toBe('IncompleteBody')
    }
  })

  test('a body that decodes to more or fewer bytes than x-amz-decoded-content-length', async () => {
    const { body: wire } = encodeSigned(signer, SEED, data, 65536)
    expect((await refused(wire, opts('streaming-signed', data.length + 1))).code).toBe('IncompleteBody')
    expect((await refused(wire, opts('streaming-signed', data.length - 1))).code).toBe('IncompleteBody')
  })

  test('a wrong trailer checksum', async () => {
    const bad = `x-amz-checksum-crc32:${checksumOf('crc32', new Uint8Array([1]))}`
    const wire = encodeUnsigned(data, 65536, [bad])
    const err = await refused(wire, opts('streaming-unsigned-trailer', data.length, { trailerHeader: 'x-amz-checksum-crc32' }))
    expect(err.code).toBe('BadDigest')
    const signed = encodeSigned(signer, SEED, data, 65536, [`x-amz-checksum-sha256:${checksumOf('sha256', new Uint8Array(0))}`]).body
    expect((await refused(signed, opts('streaming-signed-trailer', data.length, { trailerHeader: 'x-amz-checksum-sha256' }))).code).toBe('BadDigest')
  })

  test('a wrong or missing trailer signature', async () => {
    const trailer = `x-amz-checksum-crc32c:${checksumOf('crc32c', data)}`
    const { body: wire } = encodeSigned(signer, SEED, data, 65536, [trailer])
    const o = opts('streaming-signed-trailer', data.length, { trailerHeader: 'x-amz-checksum-crc32c' })
    const text = Buffer.from(wire).toString('latin1')
    const forged = text.replace(/x-amz-trailer-signature:[0-9a-f]{64}/, 'x-amz-trailer-signature:' + '0'.repeat(64))
    expect((await refused(Buffer.from(forged, 'latin1'), o)).code).toBe('SignatureDoesNotMatch')
    const swapped = text.replace(trailer, `x-amz-checksum-crc32c:${checksumOf('crc32c', new Uint8Array(0))}`)
    expect((await refused(Buffer.from(swapped, 'latin1'), o)).code).toBe('SignatureDoesNotMatch')
    const missing = text.replace(/x-amz-trailer-signature:[0-9a-f]{64}\r\n/, '')
    expect((await refused(Buffer.from(missing, 'latin1'), o)).code).toBe('SignatureDoesNotMatch')
  })

  test('a declared trailer that never comes, an undeclared one, an unsupported algorithm', async () => {
    const o = opts('streaming-unsigned-trailer', data.length, { trailerHeader: 'x-amz-checksum-crc32' })
    expect((await refused(encodeUnsigned(data, 65536, []), o)).code).toBe('InvalidRequest')
    const extra = encodeUnsigned(data, 65536, [`x-amz-checksum-crc32:${checksumOf('crc32', data)}`, 'x-amz-meta-evil:1'])
    expect((await refused(extra, o)).code).toBe('InvalidRequest')
    const undeclared = encodeUnsigned(data, 65536, [`x-amz-checksum-crc32:${checksumOf('crc32', data)}`])
    expect((await refused(undeclared, opts('streaming-unsigned-trailer', data.length))).code).toBe('InvalidRequest')
    expect((await refused(undeclared, opts('streaming-unsigned-trailer', data.length, { trailerHeader: 'x-amz-checksum-xxhash64' }))).code).toBe(
      'InvalidRequest',
    )
  })

  test('malformed framing', async () => {
    const sig = SEED
    const cases: Array<[string, Uint8Array, ChunkedOptions]> = [
      ['a bare LF after the chunk header', concat(['5\nhello\r\n0\r\n\r\n']), opts('streaming-unsigned-trailer', 5)],
      ['chunk data not followed by CRLF', concat(['5\r\nhelloX\r\n0\r\n\r\n']), opts('streaming-unsigned-trailer', 5)],
      ['a non-hex chunk size', concat(['zz\r\n']), opts('streaming-unsigned-trailer', 5)],
      ['a signed chunk without chunk-signature', concat(['5\r\nhello\r\n']), opts('streaming-signed', 5)],
      ['a chunk extension in unsigned mode', concat([`5;chunk-signature=${sig}\r\nhello\r\n`]), opts('streaming-unsigned-trailer', 5)],
      ['an endless chunk header line', concat(['5' + ';x'.repeat(4000)]), opts('streaming-unsigned-trailer', 5)],
      ['data after the end', concat(['5\r\nhello\r\n0\r\n\r\nextra']), opts('streaming-unsigned-trailer', 5)],
      ['x-amz-trailer with a payload mode that has no trailers', concat([]), opts('streaming-signed', 5, { trailerHeader: 'x-amz-checksum-crc32' })],
    ]
    for (const [name, wire, o] of cases) {
      const err = await refused(wire, o, [3])
      expect([name, err.code]).toEqual([name, 'InvalidRequest'])
    }
  })

  test('an input stream error', async () => {
    const { body: wire } = encodeSigned(signer, SEED, data, 65536)
    const err = await readError(decodeAwsChunked(failingStreamOf(wire.subarray(0, 1000)), opts('streaming-signed', data.length)).body)
    expect(err).toBeInstanceOf(SigV4StreamError)
    expect(err?.code).toBe('IncompleteBody')
  })

  test('the last decoded piece is held back until the checksum has matched', async () => {
    // Reads of about one chunk each: earlier chunks stream out, the last one must not.
    const bad = `x-amz-checksum-crc32:${checksumOf('crc32', new Uint8Array([1]))}`
    const wire = encodeUnsigned(data, 65536, [bad])
    const { body } = decodeAwsChunked(streamOf(wire, [65536 + 9]), opts('streaming-unsigned-trailer', data.length, { trailerHeader: 'x-amz-checksum-crc32' }))
    const { bytes, error } = await drain(body)
    expect(error?.code).toBe('BadDigest')
    expect(bytes).toBeGreaterThan(65536)
    expect(bytes).toBeLessThan(data.length)
  })
})
