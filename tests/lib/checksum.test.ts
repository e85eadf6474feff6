// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Known-answer tests: the CRC catalogue "check" values (input "123456789"), the digests of "",
 * "abc" and the 65 KiB "a" body whose CRC32C the AWS trailer example sends (sOO8/Q==), plus
 * incremental = one-shot over awkward split points.
 */
import { describe, expect, test } from 'bun:test'
import { checksumAlgorithmOf, checksumBase64, createChecksum, type ChecksumAlgorithm } from '../../src/lib/checksum.ts'

const enc = new TextEncoder()

function hex(alg: ChecksumAlgorithm, parts: Uint8Array[]): string {
  const c = createChecksum(alg)
  for (const p of parts) c.update(p)
  return Buffer.from(c.digest()).toString('hex')
}

const VECTORS: Record<ChecksumAlgorithm, Record<string, string>> = {
  crc32: { '123456789': 'cbf43926', '': '00000000', abc: '352441c2' },
  crc32c: { '123456789': 'e3069283', '': '00000000', abc: '364b3fb7' },
  crc64nvme: { '123456789': 'ae8b14860a799888', '': '0000000000000000' },
  sha1: { '123456789': 'f7c3bc1d808e04732adf679965ccc34ca7ae3441', abc: 'a9993e364706816aba3e25717850c26c9cd0d89d' },
  sha256: { abc: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', '': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
}

describe('known answers', () => {
  for (const [alg, cases] of Object.entries(VECTORS) as Array<[ChecksumAlgorithm, Record<string, string>]>) {
    for (const [input, expected] of Object.entries(cases)) {
      test(`${alg}(${JSON.stringify(input)})`, () => {
        expect(hex(alg, [enc.encode(input)])).toBe(expected)
      })
    }
  }
  test('crc32c of 66560 bytes of "a" is the AWS trailer example value', () => {
    const c = createChecksum('crc32c')
    c.update(new Uint8Array(66560).fill(97))
    expect(checksumBase64(c)).toBe('sOO8/Q==')
  })
})

describe('incremental updates equal one-shot', () => {
  const big = new Uint8Array(100_003).map((_, i) => (i * 131 + 17) & 255)
  for (const alg of ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const) {
    test(alg, () => {
      const whole = hex(alg, [big])
      const splits = [1, 7, 8, 9, 4096, 65537]
      const parts: Uint8Array[] = []
      let at = 0
      for (let i = 0; at < big.length; i++) {
        const n = splits[i % splits.length]!
        parts.push(big.subarray(at, at + n))
        at += n
      }
      expect(hex(alg, parts)).toBe(whole)
    })
  }
})

describe('checksumAlgorithmOf', () => {
  test('maps trailer names and refuses the rest', () => {
    expect(checksumAlgorithmOf('x-amz-checksum-crc64nvme')).toBe('crc64nvme')
    expect(checksumAlgorithmOf('X-Amz-Checksum-CRC32C')).toBe('crc32c')
    expect(checksumAlgorithmOf('x-amz-checksum-xxhash64')).toBeUndefined()
    expect(checksumAlgorithmOf('x-amz-meta-crc32')).toBeUndefined()
  })
})
