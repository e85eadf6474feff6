// SPDX-License-Identifier: AGPL-3.0-or-later
import { expect, test } from 'bun:test'
import { constantTimeEqual, randomPassword, randomToken, sha256Hex } from '../../src/lib/crypto.ts'
import { requestId, ulid } from '../../src/lib/ids.ts'

test('sha256Hex matches the known vector', () => {
  expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
})

test('constantTimeEqual compares strings of any length', () => {
  expect(constantTimeEqual('token', 'token')).toBe(true)
  expect(constantTimeEqual('token', 'tokeN')).toBe(false)
  expect(constantTimeEqual('token', 'token2')).toBe(false)
  expect(constantTimeEqual('', '')).toBe(true)
})

test('randomToken has at least 160 bits and is cookie-safe', () => {
  const seen = new Set<string>()
  for (let i = 0; i < 200; i++) {
    const t = randomToken()
    expect(t).toMatch(/^[a-z2-7]{32}$/)
    seen.add(t)
  }
  expect(seen.size).toBe(200)
})

test('randomPassword has the asked length and no look-alike characters', () => {
  const p = randomPassword()
  expect(p).toHaveLength(24)
  expect(p).not.toMatch(/[01OIl]/)
  expect(randomPassword(40)).toHaveLength(40)
  expect(new Set(Array.from({ length: 50 }, () => randomPassword())).size).toBe(50)
})

test('ulids sort by time and request ids are short and unique', () => {
  expect(ulid(1000) < ulid(2000)).toBe(true)
  expect(ulid()).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
  const ids = new Set(Array.from({ length: 100 }, requestId))
  expect(ids.size).toBe(100)
  for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{12}$/)
})
