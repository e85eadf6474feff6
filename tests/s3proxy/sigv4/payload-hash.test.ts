// SPDX-License-Identifier: AGPL-3.0-or-later
import { describe, expect, test } from 'bun:test'
import { createHash, randomBytes } from 'node:crypto'
import { SigV4StreamError } from '../../../src/s3proxy/sigv4/errors.ts'
import { verifyPayloadSha256 } from '../../../src/s3proxy/sigv4/payload-hash.ts'
import { failingStreamOf, readAll, streamOf } from './helpers.ts'

const body = new Uint8Array(randomBytes(300_000))
const digest = createHash('sha256').update(body).digest('hex')

describe('verifyPayloadSha256', () => {
  test('passes a matching body through unchanged, in any read sizes, hex case-insensitively', async () => {
    expect(await readAll(verifyPayloadSha256(streamOf(body, [1, 4096, 65536]), digest))).toEqual(body)
    expect(await readAll(verifyPayloadSha256(streamOf(body), digest.toUpperCase()))).toEqual(body)
    expect(await readAll(verifyPayloadSha256(streamOf(new Uint8Array(0)), createHash('sha256').digest('hex')))).toEqual(new Uint8Array(0))
  })

  test('a mismatch errors with XAmzContentSHA256Mismatch before the last piece is delivered', async () => {
    const tampered = body.slice()
    tampered[123] = tampered[123]! ^ 0xff
    const reader = verifyPayloadSha256(streamOf(tampered, [65536]), digest).getReader()
    let delivered = 0
    let error: unknown
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        delivered += value.length
      }
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(SigV4StreamError)
    expect((error as SigV4StreamError).code).toBe('XAmzContentSHA256Mismatch')
    expect(delivered).toBeLessThan(body.length)
  })

  test('a body cut short by the client fails as IncompleteBody', async () => {
    let error: unknown
    try {
      await readAll(verifyPayloadSha256(failingStreamOf(body.subarray(0, 10)), digest))
    } catch (err) {
      error = err
    }
    expect((error as SigV4StreamError).code).toBe('IncompleteBody')
  })
})
