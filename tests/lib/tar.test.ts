// SPDX-License-Identifier: AGPL-3.0-or-later
/** The streaming tar writer and reader, checked against GNU tar in both directions. */
import { afterAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readTar, TarError, writeTar, type TarEntry } from '../../src/lib/tar.ts'

const dir = mkdtempSync(join(tmpdir(), 'stowage-tar-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

/** Splits a stream into awkward pieces, so header and body boundaries fall inside chunks. */
async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size)
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const c of it) parts.push(c)
  return Buffer.concat(parts)
}

async function members(archive: Uint8Array, chunk = 4096): Promise<Array<TarEntry & { bytes: Uint8Array }>> {
  const out: Array<TarEntry & { bytes: Uint8Array }> = []
  for await (const m of readTar(chunked(archive, chunk)))
    out.push({ name: m.name, size: m.size, mode: m.mode, mtimeMs: m.mtimeMs, bytes: await collect(m.body) })
  return out
}

const files = [
  { name: 'manifest.json', bytes: new TextEncoder().encode('{"a":1}\n') },
  { name: 'empty', bytes: new Uint8Array(0) },
  { name: 'exact-block', bytes: crypto.getRandomValues(new Uint8Array(1024)) },
  { name: 'odd.bin', bytes: crypto.getRandomValues(new Uint8Array(70_001)) },
]
const mtimeMs = Date.UTC(2026, 0, 31, 12, 0, 0)
const archive = async () => collect(writeTar(files.map((f) => ({ name: f.name, size: f.bytes.byteLength, mode: 0o600, mtimeMs, body: () => once(f.bytes) }))))

test('round trip, whatever the chunking', async () => {
  const tar = await archive()
  expect(tar.byteLength % 512).toBe(0)
  for (const chunk of [1, 511, 512, 513, 65_536]) {
    const got = await members(tar, chunk)
    expect(got.map((m) => [m.name, m.size, m.mode, m.mtimeMs])).toEqual(files.map((f) => [f.name, f.bytes.byteLength, 0o600, mtimeMs]))
    got.forEach((m, i) => expect(m.bytes).toEqual(files[i]!.bytes))
  }
})

test('GNU tar lists and extracts what we write', async () => {
  writeFileSync(join(dir, 'ours.tar'), await archive())
  const list = Bun.spawnSync(['tar', '--utc', '-tvf', 'ours.tar'], { cwd: dir })
  expect(list.exitCode).toBe(0)
  const lines = list.stdout.toString().trim().split('\n')
  expect(lines.map((l) => l.split(/\s+/).at(-1))).toEqual(files.map((f) => f.name))
  expect(lines[3]).toMatch(/^-rw------- 0\/0\s+70001 2026-01-31 12:00 odd\.bin$/)
  mkdirSync(join(dir, 'out'))
  expect(Bun.spawnSync(['tar', '-xf', '../ours.tar'], { cwd: join(dir, 'out') }).exitCode).toBe(0)
  for (const f of files) expect(readFileSync(join(dir, 'out', f.name))).toEqual(Buffer.from(f.bytes))
})

test('reads plain files from a GNU tar ustar archive', async () => {
  mkdirSync(join(dir, 'src'))
  for (const f of files) writeFileSync(join(dir, 'src', f.name), f.bytes)
  expect(Bun.spawnSync(['tar', '--format=ustar', '-cf', '../gnu.tar', ...files.map((f) => f.name)], { cwd: join(dir, 'src') }).exitCode).toBe(0)
  const got = await members(readFileSync(join(dir, 'gnu.tar')))
  expect(got.map((m) => m.name)).toEqual(files.map((f) => f.name))
  got.forEach((m, i) => expect(m.bytes).toEqual(files[i]!.bytes))
})

test('sizes past the 8 GiB octal limit use the base-256 field and read back', async () => {
  const size = 2 ** 33 + 12_345
  const header = (await writeTar([{ name: 'huge', size, mode: 0o600, mtimeMs, body: async function* () {} }]).next()).value as Uint8Array
  expect(header[124]).toBe(0x80)
  const reader = readTar(once(header))
  const first = await reader.next()
  expect(first.value?.size).toBe(size)
})

test('refuses damage: a bad header checksum, a truncated stream, a missing end, a non-file member', async () => {
  const tar = await archive()
  const badSum = Buffer.from(tar)
  badSum[0] = badSum[0]! ^ 0x01
  await expect(members(badSum)).rejects.toThrow('tar header checksum mismatch')
  await expect(members(tar.subarray(0, 512 * 4 + 100))).rejects.toThrow('archive is truncated inside')
  await expect(members(tar.subarray(0, tar.byteLength - 1024))).rejects.toThrow('archive is truncated (no end marker)')
  await expect(members(crypto.getRandomValues(new Uint8Array(1024)))).rejects.toThrow('not a tar archive')
  mkdirSync(join(dir, 'withdir', 'sub'), { recursive: true })
  expect(Bun.spawnSync(['tar', '--format=ustar', '-cf', '../withdir.tar', 'sub'], { cwd: join(dir, 'withdir') }).exitCode).toBe(0)
  await expect(members(readFileSync(join(dir, 'withdir.tar')))).rejects.toThrow('unexpected tar member "sub/" (type "5")')
  await expect(members(tar)).resolves.toHaveLength(files.length)
})

test('refuses to write a member whose body is not its declared size, or a path', async () => {
  const write = (size: number, bytes: Uint8Array, name = 'x') => collect(writeTar([{ name, size, mode: 0o600, mtimeMs, body: () => once(bytes) }]))
  await expect(write(10, new Uint8Array(5))).rejects.toThrow('x changed size while it was archived (5 of 10 bytes)')
  await expect(write(3, new Uint8Array(5))).rejects.toThrow('x grew while it was archived')
  await expect(write(1, new Uint8Array(1), 'a/b')).rejects.toThrow(TarError)
})
