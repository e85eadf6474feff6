// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Security contract for sealed secrets (tests/lib/seal.test.ts mirrors it):
 * 1. AES-256-GCM with a fresh 96-bit random nonce per seal.
 * 2. Layout: version (1 byte, 0x01) ‖ key id (4 bytes) ‖ nonce (12) ‖ ciphertext ‖ tag (16).
 *    The 5-byte header is authenticated as additional data, so it cannot be altered.
 * 3. The key id is derived from the key, so a blob sealed under another key is
 *    refused with a clear error instead of failing as "corrupt".
 * 4. A caller-supplied context string (e.g. "backend:minio") is bound as AAD, so a
 *    sealed value cannot be moved to another row and opened there.
 * 5. The master key comes from STOWAGE_SECRET_KEY (64 hex chars or base64 of 32
 *    bytes) or a key file created with O_EXCL and mode 0600; it is never logged.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'
import { chmodSync, closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const VERSION = 0x01

export class SealError extends Error {}

export type Sealer = {
  readonly keyId: string
  seal(plaintext: string, context: string): Uint8Array
  open(blob: Uint8Array, context: string): string
}

export function parseMasterKey(text: string): Uint8Array | undefined {
  const s = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex')
  if (/^[A-Za-z0-9+/]{43}=$/.test(s)) return Buffer.from(s, 'base64')
  return undefined
}

/** `server.secret_key_file`, or `stowage.key` next to the database when it is empty. */
export function keyFilePath(configured: string, databasePath: string): string {
  return configured || join(dirname(resolve(databasePath)), 'stowage.key')
}

export type KeySource = { key: Uint8Array; origin: 'env' | 'file' | 'created' } | { key: undefined; problem: string }

/** Reads the key from the env value or file, creating the file when it does not exist. */
export function loadMasterKey(envValue: string | undefined, file: string): KeySource {
  if (envValue) {
    const key = parseMasterKey(envValue)
    return key ? { key, origin: 'env' } : { key: undefined, problem: 'STOWAGE_SECRET_KEY must be 64 hex characters or base64 of 32 bytes' }
  }
  try {
    const key = parseMasterKey(readFileSync(file, 'utf8'))
    if (!key) return { key: undefined, problem: `${file} does not hold a valid key (64 hex characters)` }
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600)
    return { key, origin: 'file' }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { key: undefined, problem: `cannot read ${file}: ${(err as Error).message}` }
  }
  try {
    const key = randomBytes(32)
    const fd = openSync(file, 'wx', 0o600)
    writeSync(fd, key.toString('hex') + '\n')
    closeSync(fd)
    return { key, origin: 'created' }
  } catch (err) {
    return { key: undefined, problem: `cannot create ${file}: ${(err as Error).message}` }
  }
}

export function createSealer(key: Uint8Array): Sealer {
  if (key.length !== 32) throw new SealError('master key must be 32 bytes')
  const keyIdBytes = createHash('sha256').update('stowage-key-id\0').update(key).digest().subarray(0, 4)
  const header = Buffer.concat([Buffer.from([VERSION]), keyIdBytes])
  return {
    keyId: keyIdBytes.toString('hex'),
    seal(plaintext, context) {
      const nonce = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, nonce)
      cipher.setAAD(Buffer.concat([header, Buffer.from(context)]))
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return new Uint8Array(Buffer.concat([header, nonce, ct, cipher.getAuthTag()]))
    },
    open(blob, context) {
      const buf = Buffer.from(blob)
      if (buf.length < 5 + 12 + 16) throw new SealError('sealed value is truncated')
      if (buf[0] !== VERSION) throw new SealError(`unknown sealed-value version ${buf[0]}`)
      if (!buf.subarray(1, 5).equals(keyIdBytes)) throw new SealError('sealed with a different master key')
      const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(5, 17))
      decipher.setAAD(Buffer.concat([buf.subarray(0, 5), Buffer.from(context)]))
      decipher.setAuthTag(buf.subarray(buf.length - 16))
      try {
        return Buffer.concat([decipher.update(buf.subarray(17, buf.length - 16)), decipher.final()]).toString('utf8')
      } catch {
        throw new SealError('sealed value failed authentication')
      }
    },
  }
}

/** Derives a purpose-bound subkey (e.g. the share-unlock HMAC key) so it survives restarts with the master key. */
export function deriveKey(master: Uint8Array, purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', master, 'stowage', purpose, 32))
}
