// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Incremental versions of the S3 flexible checksums (`x-amz-checksum-*`), so a streamed body
 * can be checked without holding it. CRC32 uses `node:zlib`'s native `crc32(data, value)`
 * (incremental under Bun 1.4.5); SHA-1/SHA-256 use `node:crypto`; CRC32C and CRC64/NVME are
 * the table implementations in crc.ts.
 */
import { createHash, type Hash } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { Crc32c, Crc64Nvme } from './crc.ts'

export type ChecksumAlgorithm = 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256'

export type Checksum = {
  update(data: Uint8Array): void
  /** The checksum bytes, big-endian for the CRCs, as S3 base64-encodes them. */
  digest(): Uint8Array
}

const ALGORITHMS: ReadonlySet<string> = new Set<ChecksumAlgorithm>(['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'])

/** `x-amz-checksum-crc32` → `crc32`; undefined for anything we cannot verify. */
export function checksumAlgorithmOf(headerName: string): ChecksumAlgorithm | undefined {
  const name = headerName.toLowerCase()
  if (!name.startsWith('x-amz-checksum-')) return undefined
  const alg = name.slice('x-amz-checksum-'.length)
  return ALGORITHMS.has(alg) ? (alg as ChecksumAlgorithm) : undefined
}

class Crc32 implements Checksum {
  private value = 0

  update(data: Uint8Array): void {
    this.value = crc32(data, this.value)
  }

  digest(): Uint8Array {
    const v = this.value >>> 0
    return new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff])
  }
}

class Digest implements Checksum {
  private readonly hash: Hash

  constructor(algorithm: 'sha1' | 'sha256') {
    this.hash = createHash(algorithm)
  }

  update(data: Uint8Array): void {
    this.hash.update(data)
  }

  digest(): Uint8Array {
    return this.hash.digest()
  }
}

export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case 'crc32':
      return new Crc32()
    case 'crc32c':
      return new Crc32c()
    case 'crc64nvme':
      return new Crc64Nvme()
    case 'sha1':
    case 'sha256':
      return new Digest(algorithm)
  }
}

/** The base64 form used in `x-amz-checksum-*` headers and trailers. */
export function checksumBase64(checksum: Checksum): string {
  return Buffer.from(checksum.digest()).toString('base64')
}
