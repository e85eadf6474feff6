// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The digests of a body as it is staged: always MD5 (the ETag), plus the one
 * flexible checksum the caller asked for. Verifying the caller's expected
 * values happens after staging and before commit, so a mismatch leaves
 * nothing behind (kind `bad_digest`).
 */
import { createHash, type Hash } from 'node:crypto'
import { BackendError, type ChecksumAlgorithm, type ChecksumRequest } from '../backend.ts'
import { checksumBase64, createChecksum, type Checksum } from '../../lib/checksum.ts'

export type Digests = { md5: Buffer; checksum?: string }

export class BodyHasher {
  private readonly md5: Hash | null
  private readonly sum?: Checksum

  /** `md5: false`: the MD5 is taken elsewhere (the hashing thread) and handed to `digest`. */
  constructor(algorithm?: ChecksumAlgorithm, md5 = true) {
    this.md5 = md5 ? createHash('md5') : null
    if (algorithm) this.sum = createChecksum(algorithm)
  }

  update(chunk: Uint8Array): void {
    this.md5?.update(chunk)
    this.sum?.update(chunk)
  }

  digest(md5?: Buffer): Digests {
    const out: Digests = { md5: md5 ?? this.md5!.digest() }
    if (this.sum) out.checksum = checksumBase64(this.sum)
    return out
  }
}

/** Throws `bad_digest` unless the staged digests are the ones the caller sent. */
export function verifyDigests(got: Digests, want: { md5?: string; checksum?: ChecksumRequest }): void {
  if (want.md5 !== undefined && got.md5.toString('base64') !== want.md5) {
    throw new BackendError('bad_digest', 'The Content-MD5 you specified did not match what we received.', { code: 'BadDigest' })
  }
  if (want.checksum?.value !== undefined && got.checksum !== want.checksum.value) {
    throw new BackendError('bad_digest', `The ${want.checksum.algorithm.toUpperCase()} you specified did not match the calculated checksum.`, {
      code: 'BadDigest',
    })
  }
}

/** S3's composite checksum: the digest of the parts' binary digests, then `-<part count>`. */
export function compositeChecksum(algorithm: ChecksumAlgorithm, parts: string[]): string {
  const sum = createChecksum(algorithm)
  for (const p of parts) sum.update(Buffer.from(p, 'base64'))
  return `${checksumBase64(sum)}-${parts.length}`
}

/** S3's multipart ETag: the MD5 of the parts' binary MD5s, then `-<part count>`. */
export function multipartEtag(partEtags: string[]): string {
  const md5 = createHash('md5')
  for (const e of partEtags) md5.update(Buffer.from(e.replace(/^"(.*)"$/, '$1'), 'hex'))
  return `"${md5.digest('hex')}-${partEtags.length}"`
}
