// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Mirrors the security contract at the top of src/lib/seal.ts, one describe
 * per numbered line.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSealer, loadMasterKey, parseMasterKey, SealError } from '../../src/lib/seal.ts'

const dirs: string[] = []
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'stowage-seal-'))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const key = (): Uint8Array => new Uint8Array(randomBytes(32))

describe('1. AES-256-GCM with a fresh random nonce per seal', () => {
  test('round trip returns the plaintext, including non-ASCII and empty values', () => {
    const s = createSealer(key())
    for (const text of ['minio-secret', '', 'päßwörd 🔑', 'x'.repeat(10_000)]) expect(s.open(s.seal(text, 'backend:a'), 'backend:a')).toBe(text)
  })

  test('sealing the same plaintext twice gives different nonces and ciphertexts', () => {
    const s = createSealer(key())
    const a = Buffer.from(s.seal('same', 'ctx'))
    const b = Buffer.from(s.seal('same', 'ctx'))
    expect(a.subarray(5, 17).equals(b.subarray(5, 17))).toBe(false)
    expect(a.equals(b)).toBe(false)
  })

  test('the ciphertext does not contain the plaintext', () => {
    const s = createSealer(key())
    const blob = Buffer.from(s.seal('plain-secret-value', 'ctx'))
    expect(blob.includes(Buffer.from('plain-secret-value'))).toBe(false)
  })

  test('a key that is not 32 bytes is refused', () => {
    expect(() => createSealer(new Uint8Array(16))).toThrow(SealError)
  })
})

describe('2. layout version ‖ key id ‖ nonce ‖ ciphertext ‖ tag, header authenticated', () => {
  test('the blob has the documented layout', () => {
    const s = createSealer(key())
    const blob = Buffer.from(s.seal('abc', 'ctx'))
    expect(blob[0]).toBe(0x01)
    expect(blob.subarray(1, 5).toString('hex')).toBe(s.keyId)
    expect(blob.length).toBe(1 + 4 + 12 + 3 + 16)
  })

  test('flipping any bit anywhere makes open fail', () => {
    const s = createSealer(key())
    const blob = s.seal('tamper me', 'ctx')
    for (let i = 0; i < blob.length; i++) {
      const bad = new Uint8Array(blob)
      bad[i]! ^= 0x01
      expect(() => s.open(bad, 'ctx')).toThrow(SealError)
    }
  })

  test('a changed version byte is refused by name', () => {
    const s = createSealer(key())
    const bad = new Uint8Array(s.seal('x', 'ctx'))
    bad[0] = 0x02
    expect(() => s.open(bad, 'ctx')).toThrow(/version/)
  })

  test('a truncated blob is refused', () => {
    const s = createSealer(key())
    const blob = s.seal('x', 'ctx')
    expect(() => s.open(blob.subarray(0, 20), 'ctx')).toThrow(/truncated/)
  })
})

describe('3. the key id is derived from the key', () => {
  test('a blob sealed under another key is refused with a clear error', () => {
    const a = createSealer(key())
    const b = createSealer(key())
    expect(a.keyId).not.toBe(b.keyId)
    expect(() => b.open(a.seal('x', 'ctx'), 'ctx')).toThrow('sealed with a different master key')
  })

  test('the same key always gives the same key id', () => {
    const k = key()
    expect(createSealer(k).keyId).toBe(createSealer(new Uint8Array(k)).keyId)
  })

  test('forging the key id of the other key still fails authentication', () => {
    const a = createSealer(key())
    const b = createSealer(key())
    const blob = new Uint8Array(a.seal('x', 'ctx'))
    blob.set(Buffer.from(b.keyId, 'hex'), 1)
    expect(() => b.open(blob, 'ctx')).toThrow('failed authentication')
  })
})

describe('4. the context is bound as additional data', () => {
  test('a value sealed for one row cannot be opened for another', () => {
    const s = createSealer(key())
    const blob = s.seal('secret', 'backend:minio')
    expect(s.open(blob, 'backend:minio')).toBe('secret')
    expect(() => s.open(blob, 'backend:other')).toThrow(SealError)
    expect(() => s.open(blob, '')).toThrow(SealError)
  })
})

describe('5. the master key comes from STOWAGE_SECRET_KEY or a 0600 key file made with O_EXCL', () => {
  test('hex and base64 forms are accepted; anything else is not', () => {
    const raw = randomBytes(32)
    expect(Buffer.from(parseMasterKey(raw.toString('hex'))!).equals(raw)).toBe(true)
    expect(Buffer.from(parseMasterKey(raw.toString('base64'))!).equals(raw)).toBe(true)
    expect(parseMasterKey('abc')).toBeUndefined()
    expect(parseMasterKey('z'.repeat(64))).toBeUndefined()
    expect(parseMasterKey(randomBytes(31).toString('hex'))).toBeUndefined()
  })

  test('a missing key file is created with mode 0600 and reused afterwards', () => {
    const file = join(tempDir(), 'stowage.key')
    const first = loadMasterKey(undefined, file)
    expect(first.key).toBeDefined()
    expect(first.key && first.origin).toBe('created')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/)
    const again = loadMasterKey(undefined, file)
    expect(again.key && again.origin).toBe('file')
    expect(Buffer.from(again.key!).equals(Buffer.from(first.key!))).toBe(true)
  })

  test('the key file is created with O_EXCL: a planted (dangling) symlink is not followed', () => {
    const dir = tempDir()
    const target = join(dir, 'attacker-chosen-target')
    const file = join(dir, 'stowage.key')
    symlinkSync(target, file)
    const r = loadMasterKey(undefined, file)
    expect(r.key).toBeUndefined()
    expect(!r.key && r.problem).toContain('cannot create')
    expect(existsSync(target)).toBe(false)
  })

  test('an existing key file readable by others is tightened to 0600', () => {
    const file = join(tempDir(), 'stowage.key')
    writeFileSync(file, randomBytes(32).toString('hex') + '\n')
    chmodSync(file, 0o644)
    const r = loadMasterKey(undefined, file)
    expect(r.key).toBeDefined()
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  test('a key file with garbage is reported, not silently replaced', () => {
    const file = join(tempDir(), 'stowage.key')
    writeFileSync(file, 'not a key\n')
    const r = loadMasterKey(undefined, file)
    expect(r.key).toBeUndefined()
    expect(!r.key && r.problem).toContain('does not hold a valid key')
    expect(readFileSync(file, 'utf8')).toBe('not a key\n')
  })

  test('a bad STOWAGE_SECRET_KEY is reported and the file is not used instead', () => {
    const file = join(tempDir(), 'stowage.key')
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 })
    const r = loadMasterKey('too-short', file)
    expect(r.key).toBeUndefined()
    expect(!r.key && r.problem).toContain('STOWAGE_SECRET_KEY')
    expect(!r.key && r.problem).not.toContain('too-short')
  })

  test('STOWAGE_SECRET_KEY wins over the key file, and no file is created', () => {
    const dir = tempDir()
    const fileKey = randomBytes(32)
    const withFile = join(dir, 'present.key')
    writeFileSync(withFile, fileKey.toString('hex'), { mode: 0o600 })
    const envKey = randomBytes(32)
    const r = loadMasterKey(envKey.toString('hex'), withFile)
    expect(r.key && r.origin).toBe('env')
    expect(Buffer.from(r.key!).equals(envKey)).toBe(true)
    const absent = join(dir, 'absent.key')
    expect(loadMasterKey(envKey.toString('base64'), absent).key).toBeDefined()
    expect(existsSync(absent)).toBe(false)
  })
})
