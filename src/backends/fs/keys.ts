// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * How an S3 key becomes a path under its bucket directory, and back.
 *
 * The folder doubles as a NAS share, so an ordinary key is stored under its
 * own name: `photos/2024/x.jpg` is the file `<bucket>/photos/2024/x.jpg`, and
 * a file someone drops at that path is that key. The key is split on `/`, each
 * segment becomes one path component, and only what a filesystem cannot hold
 * as-is gets rewritten:
 *
 * | in the key                                | on disk                                 |
 * |-------------------------------------------|-----------------------------------------|
 * | NUL, `\`, U+FFFD                          | `%00`, `%5C`, `%FD`                     |
 * | `%` and then `00`, `25`, `2E`, `5C`, `FD` | `%25` (other `%`s stay: `100%.txt`)     |
 * | the segment `.` or `..`                   | `%2E`, `%2E%2E`                         |
 * | a segment starting with `.stowage`        | `%2Estowage…` (that name space is ours) |
 * | an empty segment (`a//b`, `a/`, `/a`)     | `.stowage`                              |
 * | a segment over 246 bytes once escaped     | `.stowage+<246 bytes>/…/<rest>`         |
 * | `a/b` while keys under `a/b/` exist       | `a/.stowage=b`, beside the directory    |
 *
 * So a folder placeholder `docs/` is the file `docs/.stowage`, `a//b` is
 * `a/.stowage/b`, and the key `../x` is `%2E%2E/x`: no key can produce a
 * component that climbs, is absolute, or holds a separator. Only uppercase
 * hex is an escape, and only those five codes, so `%2e%2e` and
 * `Report%20final.pdf` are literal names that mean themselves. U+FFFD is
 * escaped because it is what a name that is not UTF-8 reads back as.
 *
 * Decoding is total (every name yields a fragment), so the mapping is kept a
 * bijection by checking that a decoded key encodes back to the path it was
 * found at; anything else (a dropped-in `.stowage-x`, `%25x`, a 250-byte
 * name, a name that is not UTF-8) is not an object. Names are capped at 246
 * bytes so that `.stowage=` or `.stowage+` plus a name still fits the usual
 * 255-byte limit. The file/directory conflict is resolved by a single rename
 * of the file to its `.stowage=` name, which is atomic, and undone when the
 * directory goes away. Keys are bytes, so the root belongs on a
 * case-sensitive filesystem that does not normalise Unicode (ext4, xfs, zfs,
 * btrfs); on others, `A`/`a` or `é` in NFC/NFD would share a file.
 */

/** Longest escaped name kept in one component. */
export const NAME_LIMIT = 246
const RESERVED = '.stowage'
/** The name of an empty segment. */
const EMPTY_NAME = RESERVED
/** Prefix of a file stored beside a directory of the same name. */
export const ALT_PREFIX = RESERVED + '='
/** Prefix of a directory holding the rest of an over-long segment. */
export const CONT_PREFIX = RESERVED + '+'

const CODES = new Map([
  ['00', '\0'],
  ['25', '%'],
  ['2E', '.'],
  ['5C', '\\'],
  ['FD', '\ufffd'],
])

export type KeyPath = {
  /** Directory components from the bucket directory down. */
  dirs: string[]
  /** The file's name when no directory of that name is in the way. */
  name: string
}

export type ParsedName = { type: 'natural' | 'alt' | 'cont'; fragment: string }

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

/** Escapes one segment or chunk (never empty) into a component name. */
function encodeName(fragment: string): string {
  if (!/[\0\\%\ufffd]|^\.\.?$|^\.stowage/.test(fragment)) return fragment
  if (fragment === '.') return '%2E'
  if (fragment === '..') return '%2E%2E'
  let out = ''
  for (let i = 0; i < fragment.length; i++) {
    const c = fragment[i]!
    if (c === '\0') out += '%00'
    else if (c === '\\') out += '%5C'
    else if (c === '\ufffd') out += '%FD'
    else if (c === '%' && CODES.has(fragment.slice(i + 1, i + 3))) out += '%25'
    else out += c
  }
  return out.startsWith(RESERVED) ? '%2E' + out.slice(1) : out
}

/** Inverse of `encodeName`; also used for names found on disk, so it accepts anything. */
function decodeName(name: string): string {
  if (name === EMPTY_NAME) return ''
  if (!name.includes('%')) return name
  let out = ''
  for (let i = 0; i < name.length; i++) {
    const code = name[i] === '%' ? CODES.get(name.slice(i + 1, i + 3)) : undefined
    if (code === undefined) out += name[i]
    else {
      out += code
      i += 2
    }
  }
  return out
}

/** What a directory entry's name stands for; null for names in our space that mean nothing. */
export function parseName(name: string): ParsedName | null {
  if (name.startsWith(ALT_PREFIX)) {
    const rest = name.slice(ALT_PREFIX.length)
    return rest === '' || (rest.startsWith(RESERVED) && rest !== EMPTY_NAME) ? null : { type: 'alt', fragment: decodeName(rest) }
  }
  if (name.startsWith(CONT_PREFIX)) {
    const rest = name.slice(CONT_PREFIX.length)
    return rest === '' || rest.startsWith(RESERVED) ? null : { type: 'cont', fragment: decodeName(rest) }
  }
  if (name !== EMPTY_NAME && name.startsWith(RESERVED)) return null
  return { type: 'natural', fragment: decodeName(name) }
}

/** The component names of one segment: continuation chunks, then the last name. */
export function encodeSegment(segment: string): string[] {
  if (segment === '') return [EMPTY_NAME]
  const whole = encodeName(segment)
  if (byteLength(whole) <= NAME_LIMIT) return [whole]
  const names: string[] = []
  let rest = Array.from(segment)
  for (;;) {
    const whole = encodeName(rest.join(''))
    if (byteLength(whole) <= NAME_LIMIT) return [...names, whole]
    // The longest head whose escaped form fits; escaping only grows with
    // length at these sizes, so a binary search finds it.
    let lo = 1
    let hi = rest.length - 1
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2)
      if (byteLength(encodeName(rest.slice(0, mid).join(''))) <= NAME_LIMIT) lo = mid
      else hi = mid - 1
    }
    names.push(CONT_PREFIX + encodeName(rest.slice(0, lo).join('')))
    rest = rest.slice(lo)
  }
}

export function encodeKey(key: string): KeyPath {
  const segments = key.split('/')
  const dirs: string[] = []
  for (const segment of segments.slice(0, -1)) dirs.push(...encodeSegment(segment))
  const last = encodeSegment(segments.at(-1)!)
  dirs.push(...last.slice(0, -1))
  return { dirs, name: last.at(-1)! }
}

/** Valid S3 keys: 1–1024 bytes of well-formed UTF-8. */
export function isValidKey(key: string): boolean {
  if (typeof key !== 'string' || key === '' || !key.isWellFormed()) return false
  return byteLength(key) <= 1024
}

/** True when `parts` (relative to the bucket directory) is where `key` belongs. */
export function isCanonical(key: string, parts: string[], alt: boolean): boolean {
  if (!isValidKey(key)) return false
  const { dirs, name } = encodeKey(key)
  if (parts.length !== dirs.length + 1) return false
  for (let i = 0; i < dirs.length; i++) if (parts[i] !== dirs[i]) return false
  return parts.at(-1) === (alt ? ALT_PREFIX + name : name)
}
