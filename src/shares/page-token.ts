// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Continuation tokens of folder-share listings. A backend's token can name the
 * last key it returned (the fs driver's does), and a full key reveals where the
 * shared folder sits in its bucket, so recipients only ever see the token
 * encrypted (AES-256-GCM) and bound to the share it came from.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { fail } from '../http/errors.ts'
import { hmacSha256 } from '../lib/crypto.ts'

export type PageTokens = { seal(shareId: string, token: string): string; open(shareId: string, sealed: string): string }

export function createPageTokens(secret: Uint8Array): PageTokens {
  const key = hmacSha256(secret, 'share-page-token')
  return {
    seal(shareId, token) {
      const nonce = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, nonce)
      cipher.setAAD(Buffer.from(shareId))
      const ct = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()])
      return Buffer.concat([nonce, ct, cipher.getAuthTag()]).toString('base64url')
    },
    open(shareId, sealed) {
      const buf = Buffer.from(sealed, 'base64url')
      if (buf.length < 12 + 16 || !/^[A-Za-z0-9_-]+$/.test(sealed)) throw fail('bad_request', 'The page token is not valid.')
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12))
        decipher.setAAD(Buffer.from(shareId))
        decipher.setAuthTag(buf.subarray(buf.length - 16))
        return Buffer.concat([decipher.update(buf.subarray(12, buf.length - 16)), decipher.final()]).toString('utf8')
      } catch {
        throw fail('bad_request', 'The page token is not valid.')
      }
    },
  }
}
