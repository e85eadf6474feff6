// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Streaming POSIX tar (ustar) of regular files: what `tar -tvf`/`tar -xf` on any
 * system reads, written and read in constant memory. `Bun.Archive` holds the
 * whole archive in memory (a `Bun.file` member came out empty), which a large
 * database cannot afford. Sizes above 8 GiB use the GNU base-256 field, which
 * GNU tar, bsdtar and busybox all read.
 */

const BLOCK = 512
const MAX_OCTAL_SIZE = 0o77777777777

export class TarError extends Error {}

export type TarEntry = { name: string; size: number; mode: number; mtimeMs: number }

function field(buf: Uint8Array, offset: number, length: number, text: string): void {
  buf.set(new TextEncoder().encode(text).subarray(0, length), offset)
}

function octal(buf: Uint8Array, offset: number, length: number, value: number): void {
  field(buf, offset, length, value.toString(8).padStart(length - 1, '0') + '\0')
}

function checksum(header: Uint8Array): number {
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!
  return sum
}

function header(e: TarEntry): Uint8Array {
  const name = new TextEncoder().encode(e.name)
  if (name.length === 0 || name.length > 100 || e.name.includes('/'))
    throw new TarError(`tar member name must be a plain file name of at most 100 bytes: ${e.name}`)
  const h = new Uint8Array(BLOCK)
  h.set(name, 0)
  octal(h, 100, 8, e.mode & 0o7777)
  octal(h, 108, 8, 0)
  octal(h, 116, 8, 0)
  if (e.size <= MAX_OCTAL_SIZE) octal(h, 124, 12, e.size)
  else {
    h[124] = 0x80
    let v = BigInt(e.size)
    for (let i = 135; i > 124; i--, v >>= 8n) h[i] = Number(v & 0xffn)
  }
  octal(h, 136, 12, Math.floor(e.mtimeMs / 1000))
  h[156] = 0x30
  field(h, 257, 8, 'ustar\u000000')
  field(h, 148, 8, checksum(h).toString(8).padStart(6, '0') + '\0 ')
  return h
}

/** Yields the archive: each member's header, its bytes from `body()` (exactly `size` of them), padding, and the two end blocks. */
export async function* writeTar(members: Array<TarEntry & { body: () => AsyncIterable<Uint8Array> }>): AsyncGenerator<Uint8Array> {
  for (const m of members) {
    yield header(m)
    let written = 0
    for await (const chunk of m.body()) {
      written += chunk.byteLength
      if (written > m.size) throw new TarError(`${m.name} grew while it was archived`)
      yield chunk
    }
    if (written !== m.size) throw new TarError(`${m.name} changed size while it was archived (${written} of ${m.size} bytes)`)
    if (m.size % BLOCK) yield new Uint8Array(BLOCK - (m.size % BLOCK))
  }
  yield new Uint8Array(BLOCK * 2)
}

/** Pulls exact byte counts out of a chunked stream. */
class Bytes {
  private buf: Uint8Array = new Uint8Array(0)
  private done = false
  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.buf.byteLength < n && !this.done) {
      const r = await this.it.next()
      if (r.done) this.done = true
      else this.buf = this.buf.byteLength ? Buffer.concat([this.buf, r.value]) : r.value
    }
    return this.buf.byteLength >= n
  }

  async exact(n: number): Promise<Uint8Array | undefined> {
    if (!(await this.fill(n))) return undefined
    const out = this.buf.subarray(0, n)
    this.buf = this.buf.subarray(n)
    return out
  }

  /** Up to `max` bytes (at least one), or undefined at the end of the stream. */
  async some(max: number): Promise<Uint8Array | undefined> {
    if (!(await this.fill(1))) return undefined
    const out = this.buf.subarray(0, Math.min(max, this.buf.byteLength))
    this.buf = this.buf.subarray(out.byteLength)
    return out
  }
}

function text(h: Uint8Array, offset: number, length: number): string {
  const raw = h.subarray(offset, offset + length)
  const end = raw.indexOf(0)
  return new TextDecoder().decode(end === -1 ? raw : raw.subarray(0, end))
}

function number(h: Uint8Array, offset: number, length: number): number {
  if (h[offset]! & 0x80) {
    let v = 0n
    for (let i = offset + 1; i < offset + length; i++) v = (v << 8n) | BigInt(h[i]!)
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarError('tar member is too large')
    return Number(v)
  }
  const s = text(h, offset, length).trim()
  if (!/^[0-7]*$/.test(s)) throw new TarError('not a tar archive (bad number field)')
  return s ? parseInt(s, 8) : 0
}

/**
 * Yields each regular-file member with its bytes. The caller must read `body`
 * to the end before asking for the next member. Anything that is not a plain
 * ustar file (links, directories, devices, bad checksums, a truncated stream)
 * is a TarError: archives here are only ever written by `writeTar`.
 */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry & { body: AsyncIterable<Uint8Array> }> {
  const bytes = new Bytes(source[Symbol.asyncIterator]())
  for (;;) {
    const h = await bytes.exact(BLOCK)
    if (!h) throw new TarError('archive is truncated (no end marker)')
    if (h.every((b) => b === 0)) return
    if (text(h, 257, 6) !== 'ustar') throw new TarError('not a tar archive')
    if (number(h, 148, 8) !== checksum(h)) throw new TarError('tar header checksum mismatch (the archive is damaged)')
    const type = String.fromCharCode(h[156]!)
    const name = text(h, 0, 100)
    if (type !== '0' && type !== '\0') throw new TarError(`unexpected tar member ${JSON.stringify(name)} (type ${JSON.stringify(type)})`)
    const size = number(h, 124, 12)
    let left = size
    let consumed = false
    const body = (async function* () {
      while (left > 0) {
        const chunk = await bytes.some(left)
        if (!chunk) throw new TarError(`archive is truncated inside ${name}`)
        left -= chunk.byteLength
        yield chunk
      }
      consumed = true
    })()
    yield { name, size, mode: number(h, 100, 8), mtimeMs: number(h, 136, 12) * 1000, body }
    if (!consumed) throw new TarError(`tar member ${name} was not read to the end`)
    if (size % BLOCK && !(await bytes.exact(BLOCK - (size % BLOCK)))) throw new TarError(`archive is truncated after ${name}`)
  }
}
